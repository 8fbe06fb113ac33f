#!/usr/bin/env bash
# Self-test of the gate: the good fixture must pass tools/checkers/run.sh, the bad one must fail.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
pass=0; fail=0
check() { # NAME EXPECTED-RC DIR
  local rc=0; "$HERE/run.sh" "$3" >"${TMPDIR:-/tmp}/checkers-selftest.log" 2>&1 || rc=$?
  if [[ $rc == "$2" ]]; then echo "ok   $1 (exit $rc)"; pass=$((pass+1))
  else echo "FAIL $1: exit $rc, expected $2"; cat "${TMPDIR:-/tmp}/checkers-selftest.log"; fail=$((fail+1)); fi
}
check "good bundle passes" 0 "$HERE/fixtures/good"
check "bad bundle fails" 1 "$HERE/fixtures/bad"
echo "$pass passed, $fail failed"
((fail == 0))
