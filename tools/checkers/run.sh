#!/usr/bin/env bash
# Static gate: kube-score, kube-linter and Polaris over every *.yaml in a directory.
#   tools/checkers/run.sh [dir]            (default: dist/)
# Bar: kube-score no CRITICAL and no WARNING; kube-linter no finding; Polaris no danger and
# score >= 95. Switched-off checks live only in tools/checkers/config.yaml. Exit 0 = pass, 1 = fail,
# 2 = usage/setup error. Polaris is skipped (with a notice) if it is not installed, unless
# CHECKERS_REQUIRE_POLARIS=1. See docs/contributing/checkers.md.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CONFIG="$HERE/config.yaml"
BIN="${CDK8S_STATEFUL_CACHE:-$HOME/.cache/cdk8s-stateful}/checkers/bin"
POLARIS_MIN_SCORE=95
DIR="${1:-$HERE/../../dist}"   # default: the repo's dist/

[[ -d "$DIR" ]] || { echo "run.sh: no such directory: $DIR" >&2; exit 2; }
mapfile -t FILES < <(find "$DIR" -maxdepth 1 -type f -name '*.yaml' | sort)
((${#FILES[@]})) || { echo "run.sh: no *.yaml files in $DIR" >&2; exit 2; }

if [[ ! -x "$BIN/kube-score" || ! -x "$BIN/kube-linter" ]]; then
  "$HERE/install.sh" >/dev/null || { echo "run.sh: tools/checkers/install.sh failed" >&2; exit 2; }
fi

TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
# section NAME: the top-level block NAME of config.yaml, de-indented by two spaces.
section() { awk -v s="$1:" '$0==s {on=1; next} on && /^[^ #]/ {on=0} on {sub(/^  /, ""); print}' "$CONFIG"; }
# items KEY: the "- item" entries under KEY in a section read on stdin, comments dropped.
items() { awk -v k="$1:" '$0==k {on=1; next} /^[^ ]/ {on=0} on && $1=="-" {print $2}'; }
section kube-score >"$TMP/kube-score.yaml"
section kube-linter >"$TMP/kube-linter.yaml"
section polaris >"$TMP/polaris.yaml"

FAILED=()
result() { # NAME RC OUTPUT-FILE
  if [[ "$2" == 0 ]]; then echo "== $1: PASS"; else echo "== $1: FAIL"; FAILED+=("$1"); fi
  sed 's/^/   /' "$3"
}

echo "checkers: ${#FILES[@]} file(s) in $DIR"

# kube-score: one line per finding; warnings fail too (--exit-one-on-warning in config.yaml).
ks_args=()
mapfile -t flags < <(items flags <"$TMP/kube-score.yaml")
ks_args+=("${flags[@]}")
mapfile -t ignored < <(items ignore-test <"$TMP/kube-score.yaml")
for t in "${ignored[@]}"; do ks_args+=(--ignore-test "$t"); done
rc=0; "$BIN/kube-score" score "${ks_args[@]}" --output-format ci "${FILES[@]}" >"$TMP/ks.out" 2>&1 || rc=$?
grep -E '^\[(CRITICAL|WARNING)\]' "$TMP/ks.out" | sort -u >"$TMP/ks.sum" || true
[[ $rc == 0 || -s "$TMP/ks.sum" ]] || cp "$TMP/ks.out" "$TMP/ks.sum"   # e.g. a parse error
result kube-score "$rc" "$TMP/ks.sum"

# kube-linter: every finding fails; drop the long remediation text from the summary.
rc=0; NO_COLOR=1 "$BIN/kube-linter" lint --config "$TMP/kube-linter.yaml" --fail-if-no-objects-found \
  "${FILES[@]}" >"$TMP/kl.out" 2>&1 || rc=$?
grep -v -e '^$' -e '^KubeLinter ' "$TMP/kl.out" | sed -E 's/, remediation: .*\)$/)/' >"$TMP/kl.sum" || true
result kube-linter "$rc" "$TMP/kl.sum"

# Polaris: exit 3 = danger, 4 = score below the minimum.
if [[ -x "$BIN/polaris" ]]; then
  pol=("$BIN/polaris" audit --config "$TMP/polaris.yaml" --audit-path "$DIR" --log-level error)
  rc=0; "${pol[@]}" --format pretty --color=false --only-show-failed-tests \
    --set-exit-code-on-danger --set-exit-code-below-score "$POLARIS_MIN_SCORE" >"$TMP/po.out" 2>&1 || rc=$?
  score="$("${pol[@]}" --format score 2>/dev/null || echo '?')"
  echo "score: $score (minimum $POLARIS_MIN_SCORE), exit code $rc" >>"$TMP/po.out"
  result polaris "$rc" "$TMP/po.out"
elif [[ "${CHECKERS_REQUIRE_POLARIS:-0}" == 1 ]]; then
  echo "== polaris: FAIL (not installed in $BIN; run tools/checkers/install.sh)"; FAILED+=(polaris)
else
  echo "== polaris: SKIPPED (not installed in $BIN; the Go module proxy here refuses it, see docs/contributing/checkers.md)"
fi

if ((${#FAILED[@]})); then echo "checkers: FAILED (${FAILED[*]})"; exit 1; fi
echo "checkers: PASSED"
