# shellcheck shell=bash
# What tools/scripts/{python,java,go}-check.sh share, in one place. Sourced from the repository root.
# root and cache are for the scripts that source this file
# shellcheck disable=SC2034
root=$PWD
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20
# shellcheck disable=SC2034
cache="$HOME/.cache/cdk8s-stateful"

# version PACKAGE: the installed version of an npm package
version() { node -p "require('$1/package.json').version"; }

# deps_key: names a build of the dependencies' bindings (pacmak and the jsii dependencies' versions)
deps_key() {
  echo "pacmak-$(version jsii-pacmak)_cdk8s-$(version cdk8s)_constructs-$(version constructs)_plus27-$(version cdk8s-plus-27)"
}

# python_venv WHEEL: a virtualenv with examples/python/requirements.txt (cached under the cache, keyed by
# the requirements and the Python version, $PYTHON or python3) and WHEEL installed without its
# dependencies, which the venv meets (pip check); prints the venv's directory.
python_venv() {
  local python=${PYTHON:-python3} key venv
  key=$( (cat examples/python/requirements.txt; "$python" --version) | sha256sum | cut -c1-16)
  venv="$cache/python/venv-$key"
  export PIP_CACHE_DIR="${PIP_CACHE_DIR:-$cache/pip}" PIP_DISABLE_PIP_VERSION_CHECK=1
  if [ ! -x "$venv/bin/python" ] || [ ! -f "$venv/.complete" ]; then
    rm -rf "$venv"
    "$python" -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet -r examples/python/requirements.txt >&2
    touch "$venv/.complete"
  fi
  "$venv/bin/pip" install --quiet --no-deps --force-reinstall "$1" >&2
  "$venv/bin/pip" check >&2
  echo "$venv"
}

# need_quickstart LABEL: the compiled TypeScript quickstart the checks compare with
need_quickstart() {
  [ -f out/examples/quickstart.js ] || { echo "$1: out/examples/quickstart.js missing: run 'npx tsc' first" >&2; exit 1; }
}

# same_yaml LABEL DIR: the TypeScript quickstart (out/examples/quickstart.js) writes byte-identical
# YAML to what another language's quickstart wrote into DIR.
same_yaml() {
  local label="$1" dir="$2" ts
  ts="$(mktemp -d)"
  CDK8S_OUTDIR="$ts" node out/examples/quickstart.js
  diff -r "$ts" "$dir" || { rm -rf "$ts"; echo "$label: the YAML differs from the TypeScript quickstart's" >&2; return 1; }
  rm -rf "$ts"
  echo "$label: the quickstart wrote YAML byte-identical to quickstart.ts ($(cat "$dir"/* | wc -l) lines: $(ls "$dir"))"
}

# same_error LABEL LANGUAGE MESSAGE: MESSAGE, what LANGUAGE got for replicas: -1, is the library's
# StatefulConfigError exactly as TypeScript sees it (the message arrives whole).
same_error() {
  local label="$1" language="$2" message="$3" ts_message
  # JavaScript in single quotes: its $ are the program's, not the shell's
  # shellcheck disable=SC2016
  ts_message=$(node -e '
const { App, Chart } = require("cdk8s");
const { DatabaseEngine, StatefulDatabase } = require(process.argv[1] + "/out/lib");
try {
  new StatefulDatabase(new Chart(new App(), "orders"), "orders", { engine: DatabaseEngine.postgresql(), replicas: -1 });
  console.log("no error");
} catch (e) { console.log(`${e.name}: ${e.message}`); }' "$PWD")
  printf '%s: %-11s %s\n%s: %-11s %s\n' "$label" 'TypeScript:' "$ts_message" "$label" "$language:" "$message"
  case "$ts_message" in StatefulConfigError:*) ;; *) echo "$label: expected a StatefulConfigError from TypeScript" >&2; return 1 ;; esac
  [ "$ts_message" = "$message" ] || { echo "$label: the messages differ" >&2; return 1; }
  echo "$label: ok"
}
