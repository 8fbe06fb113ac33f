#!/usr/bin/env bash
# Usage: tools/scripts/shellcheck.sh
# Lints every shell script of the repository with shellcheck (every severity, sourced files
# followed): each tracked or new *.sh, and .ci/run. Fails on any finding.
# CI installs shellcheck first (bash tools/scripts/apt-install.sh shellcheck shellcheck).
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v shellcheck >/dev/null || {
  echo "shellcheck: not installed; run: bash tools/scripts/apt-install.sh shellcheck shellcheck" >&2
  exit 1
}

mapfile -t scripts < <({ git ls-files --cached --others --exclude-standard -- '*.sh'; echo .ci/run; } | sort -u)
present=()
for f in "${scripts[@]}"; do
  if [ -f "$f" ]; then present+=("$f"); fi
done
# --source-path=tools: the test images' entrypoints name their shared library images/lib/... (from
# tools/); their text is part of each image's recipe hash, so the move under tools/ left it as it was
shellcheck --external-sources --source-path=SCRIPTDIR --source-path=tools "${present[@]}"
echo "shellcheck: ${#present[@]} scripts clean"
