#!/usr/bin/env bash
# The Python side of the package, as a user meets it: the wheel from `npm run package`, installed
# with cdk8s and cdk8s-plus-27 from PyPI into a virtualenv (cached under ~/.cache/cdk8s-stateful,
# keyed by the requirements and the Python version), then
#   1. examples/python/quickstart.py writes YAML byte-identical to examples/quickstart.ts, and
#   2. an engine binder written in Python (IEngineBinder) is called back at synth, and
#   3. a Deployment, StatefulSet and Secrets of cdk8s-plus-27 and of -33 go into the library, and the
#      database into their policies (tools/scripts/python-plus-lines.py), and
#   4. a bad input fails in Python with the library's full message, as in TypeScript.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=tools/scripts/lang-check.sh
. tools/scripts/lang-check.sh
wheel=$(find out/package/python -maxdepth 1 -name 'cdk8s_stateful-*-py3-none-any.whl' 2>/dev/null | sort | head -1 || true)
[ -n "$wheel" ] || { echo "python-check: no wheel in out/package/python: run 'npm run package' first" >&2; exit 1; }
need_quickstart python-check

venv=$(python_venv "$wheel")

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd examples/python && CDK8S_OUTDIR="$tmp/py" "$venv/bin/python" quickstart.py)
same_yaml python-check "$tmp/py"

# an engine of your own in Python: the library calls the Python IEngineBinder back at synth
"$venv/bin/python" examples/python/engine_binder.py "$tmp/binder"
if ! grep -qF 'value: kv-0.kv-headless.shop.svc.cluster.local,kv-1.kv-headless.shop.svc.cluster.local' "$tmp"/binder/*.yaml ||
  ! grep -qF 'name: prepare' "$tmp"/binder/*.yaml; then
  echo "python-check: the Python IEngineBinder's env and init container are not in the output" >&2
  exit 1
fi
echo "python-check: a Python IEngineBinder added its env and init container"

# every cdk8s-plus line in Python: its workloads and Secrets into the library, the database into
# its policies (cdk8s-plus-27 and -33 in a venv of their own beside the quickstart's, cached alike)
python=${PYTHON:-python3}
plus33=$(version cdk8s-plus-33)
key33=$( (cat examples/python/requirements.txt; echo "cdk8s-plus-33==$plus33 pyyaml"; "$python" --version) | sha256sum | cut -c1-16)
venv33="$HOME/.cache/cdk8s-stateful/python/venv-plus33-$key33"
if [ ! -x "$venv33/bin/python" ] || [ ! -f "$venv33/.complete" ]; then
  rm -rf "$venv33"
  "$python" -m venv "$venv33"
  "$venv33/bin/pip" install --quiet -r examples/python/requirements.txt "cdk8s-plus-33==$plus33" pyyaml
  touch "$venv33/.complete"
fi
"$venv33/bin/pip" install --quiet --no-deps --force-reinstall "$wheel"
for line in cdk8s_plus_27 cdk8s_plus_33; do "$venv33/bin/python" tools/scripts/python-plus-lines.py "$line" "$tmp/$line"; done

# the same bad input from both languages: the message must arrive whole
py_message=$("$venv/bin/python" -c '
import cdk8s
from cdk8s_stateful import DatabaseEngine, StatefulDatabase
try:
    StatefulDatabase(cdk8s.Chart(cdk8s.App(), "orders"), "orders", engine=DatabaseEngine.postgresql(), replicas=-1)
    print("no error")
except RuntimeError as e:
    print(f"StatefulConfigError: {e}")')
same_error python-check Python "$py_message"

