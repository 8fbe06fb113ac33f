#!/usr/bin/env bash
# Usage: scripts/apt-install.sh LABEL PACKAGE...
# Installs from Debian the packages that are not installed yet; runs no apt-get at all when every
# one is there. Waits for another apt run's lock instead of failing. Needs root to install.
# The one install step behind cluster/install-deps.sh, images/install-deps.sh and
# scripts/install-servers.sh.
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
apt-get -o DPkg::Lock::Timeout=600 update -qq
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
