#!/usr/bin/env bash
# Usage: tools/scripts/apt-install.sh LABEL PACKAGE...
# Installs from Debian the packages that are not installed yet; runs no apt-get at all when every
# one is there. Waits for another apt run's lock instead of failing. Needs root to install.
# Starts no service: while it installs, /usr/sbin/policy-rc.d refuses every start (exit 101, as
# image builders do), so a database server package leaves nothing listening (a MariaDB on
# 127.0.0.1:3306 would collide with the servers suite). A policy-rc.d already there is left as it is.
# The one install step behind tools/cluster/install-deps.sh, tools/images/install-deps.sh and
# tools/scripts/install-servers.sh.
set -euo pipefail
label="$1"
shift
missing=()
for p in "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ "${#missing[@]}" -gt 0 ] || exit 0
[ "$(id -u)" = 0 ] || { echo "$label: run as root to install ${missing[*]}" >&2; exit 1; }
echo "$label: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
POLICY=/usr/sbin/policy-rc.d
if [ ! -e "$POLICY" ]; then
  printf '%s\n' '#!/bin/sh' '# tools/scripts/apt-install.sh of cdk8s-stateful, for the length of its install: no service starts' \
    'exit 101' >"$POLICY.cdk8s-stateful"
  chmod 0755 "$POLICY.cdk8s-stateful"
  mv "$POLICY.cdk8s-stateful" "$POLICY"
  trap 'if grep -q "^# tools/scripts/apt-install.sh of cdk8s-stateful" "$POLICY" 2>/dev/null; then rm -f "$POLICY"; fi' EXIT
fi
apt-get -o DPkg::Lock::Timeout=600 update -qq
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
