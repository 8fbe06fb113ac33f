#!/usr/bin/env bash
# Installs the database servers the real-server suite (test/servers/, `npm run test:servers`)
# runs the engine scripts against, from Debian's packages: Redis 7.0, PostgreSQL 15, MariaDB 10.11
# with Galera 4 and mariadb-backup (and socat, which Galera's state port and SST use). Needs root.
# A no-op when they are installed already.
set -euo pipefail
packages=(redis-server redis-tools postgresql-15 postgresql-client-15 mariadb-server mariadb-client mariadb-backup galera-4 socat)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-servers: all installed"
  exit 0
fi
[ "$(id -u)" = 0 ] || { echo "install-servers: run as root to install ${missing[*]}" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 update -qq
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-servers: installed ${missing[*]}"
