#!/usr/bin/env bash
# The alerting rules' unit tests: synthesizes the PrometheusRule of one database per preset
# (test/rules/synth-rules.ts), writes their groups as rule files, then `promtool check rules` on
# them and `promtool test rules` on test/rules/*.test.yaml, which feed each alert the series of
# its fault and expect it quiet, firing, then resolved. promtool is Debian trixie's
# (tools/scripts/install-prometheus.sh, cached in ~/.cache/cdk8s-stateful/prometheus).
set -euo pipefail
cd "$(dirname "$0")/../.."
bin="$(bash tools/scripts/install-prometheus.sh promtool)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
npx tsc
node out/test/rules/synth-rules.js "$work"
cp test/rules/*.test.yaml "$work/"
"$bin/promtool" --version | head -1
"$bin/promtool" check rules "$work"/*.rules.yaml
tests=("$work"/*.test.yaml)
for engine in "$work"/*.rules.yaml; do
  e="$(basename "$engine" .rules.yaml)"
  [ -f "$work/$e.test.yaml" ] || { echo "promtool-rules: no test/rules/$e.test.yaml for the rules of $e" >&2; exit 1; }
done
# every alert of every engine is fed a fault somewhere (its firing expectation names it)
sed -n 's/^ *- alert: //p' "$work"/*.rules.yaml | sort -u | while read -r alert; do
  grep -q "alertname: $alert$" test/rules/*.test.yaml || { echo "promtool-rules: no firing test of $alert in test/rules/" >&2; exit 1; }
done
(cd "$work" && "$bin/promtool" test rules "${tests[@]##*/}")
