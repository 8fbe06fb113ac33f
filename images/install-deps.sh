#!/usr/bin/env bash
# Installs the Debian packages images/build.sh needs: mmdebstrap (the Debian images), gcc and
# libc6-dev (the static pause program), python3 (the OCI archive), and the keyring mmdebstrap
# verifies the mirror with. Idempotent: installs only what is missing, and runs no apt-get at all
# when everything is there. images/build.sh runs it when a tool is missing; needs root.
set -euo pipefail
PACKAGES="mmdebstrap gcc libc6-dev python3 debian-archive-keyring"
missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -n "$missing" ] || exit 0
echo "[images] install-deps: installing$missing" >&2
[ "$(id -u)" = 0 ] || { echo "[images] install-deps: need root to install$missing" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
