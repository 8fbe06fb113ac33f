#!/usr/bin/env bash
# Test of tools/scripts/apt-install.sh in a scratch Debian 12 root (mmdebstrap; nothing is installed
# on the machine itself): installing a package that ships a service does not start it, and the
# policy-rc.d the script put in place for its install is gone afterwards. The root has no init
# system, where invoke-rc.d blocks every start on its own: an `/sbin/init` and a `runlevel` that
# answers 2 make it behave as on a booted sysvinit machine. Then the control: in the same root the
# service does start when asked (`invoke-rc.d cron start`), so the check can see a running one.
# The service is cron, a daemon that listens on no port: a database server in the scratch root
# would share the machine's network and could collide with the servers suite.
# Needs root and mmdebstrap; fails with the reason.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
say() { printf '[test-apt-install] %s\n' "$*" >&2; }
[ "$(id -u)" = 0 ] || { say "FAIL: run as root (mmdebstrap's root mode)"; exit 1; }
command -v mmdebstrap >/dev/null || { say "FAIL: mmdebstrap is missing (tools/images/install-deps.sh installs it)"; exit 1; }

# the hooks below run outside the root with it as $1; `servers` lists processes whose root it is
# shellcheck disable=SC2016 # expanded by mmdebstrap's hook shell
servers='for p in /proc/[0-9]*; do [ "$(readlink "$p/root")" = "$1" ] && cat "$p/comm"; done 2>/dev/null | grep -x cron'
# shellcheck disable=SC2016
mmdebstrap --mode=root --variant=apt --format=null --quiet \
  --skip=chroot/policy-rc.d --skip=chroot/start-stop-daemon \
  --customize-hook="copy-in '$HERE/apt-install.sh' /root" \
  --customize-hook='[ ! -e "$1/usr/sbin/policy-rc.d" ] || { echo "FAIL: the scratch root has a policy-rc.d already"; exit 1; }' \
  --customize-hook='printf "#!/bin/sh\necho N 2\n" >"$1/usr/sbin/runlevel" && chmod 0755 "$1/usr/sbin/runlevel"' \
  --customize-hook='printf "#!/bin/sh\nexit 0\n" >"$1/usr/sbin/init" && chmod 0755 "$1/usr/sbin/init"' \
  --customize-hook='chroot "$1" bash /root/apt-install.sh test-apt-install cron' \
  --customize-hook='if '"$servers"'; then echo "FAIL: installing cron with apt-install.sh started it"; chroot "$1" invoke-rc.d cron stop; exit 1; fi' \
  --customize-hook='[ ! -e "$1/usr/sbin/policy-rc.d" ] || { echo "FAIL: apt-install.sh left its policy-rc.d behind"; exit 1; }' \
  --customize-hook='chroot "$1" invoke-rc.d cron start' \
  --customize-hook='sleep 2; '"$servers"' || { echo "FAIL (control): cron does not start even when asked: the check cannot see a service"; exit 1; }' \
  --customize-hook='chroot "$1" invoke-rc.d cron stop' \
  bookworm /dev/null
say "PASS: apt-install.sh installed cron without starting it and removed its policy-rc.d; the control started it"
