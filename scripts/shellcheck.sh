#!/usr/bin/env bash
# Usage: scripts/shellcheck.sh
# Lints every shell script of the repository with shellcheck (every severity, sourced files
# followed): each tracked or new *.sh, and .ci/run. Fails on any finding, except in the
# directories listed in PENDING, whose findings are printed without failing.
# CI installs shellcheck first (bash scripts/apt-install.sh shellcheck shellcheck).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v shellcheck >/dev/null || {
  echo "shellcheck: not installed; run: bash scripts/apt-install.sh shellcheck shellcheck" >&2
  exit 1
}
# TODO: cluster/ and images/ are being reworked elsewhere; once their scripts are clean, empty
# PENDING so that they fail the run too. Pending now: cluster/*.sh, images/*.sh, images/*/recipe.sh,
# images/lib/entrypoint-lib.sh, images/smoke/*.sh, images/*/rootfs/usr/local/bin/*.sh,
# images/zookeeper/rootfs/usr/share/zookeeper/bin/zkEnv.sh.
PENDING='^(cluster|images)/'

mapfile -t scripts < <({ git ls-files --cached --others --exclude-standard -- '*.sh'; echo .ci/run; } | sort -u)
gating=() pending=()
for f in "${scripts[@]}"; do
  [ -f "$f" ] || continue
  if [[ $f =~ $PENDING ]]; then pending+=("$f"); else gating+=("$f"); fi
done
lint() { shellcheck --external-sources --source-path=SCRIPTDIR "$@"; }

if [ "${#pending[@]}" -gt 0 ] && ! lint "${pending[@]}"; then
  echo "shellcheck: findings above in ${#pending[@]} pending scripts (cluster/, images/): not failing yet" >&2
fi
lint "${gating[@]}"
echo "shellcheck: ${#gating[@]} scripts clean (${#pending[@]} pending: cluster/, images/)"
