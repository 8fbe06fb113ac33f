#!/usr/bin/env bash
# npm run package: the release artifacts, built by jsii-pacmak into out/package/
#   js/cdk8s-stateful@<version>.jsii.tgz   the npm tarball (`npm pack`, whose prepack runs jsii)
#   python/cdk8s_stateful-<version>-py3-none-any.whl (and the sdist)
# PACKAGE_TARGETS adds targets (README, "The package and other languages", says what each needs;
# tools/scripts/java-check.sh builds and tests the Java one). Nothing is rebuilt when the inputs (sources, scripts, package metadata, lockfile)
# are those of the last build: out/package/.inputs holds their hash.
set -euo pipefail
cd "$(dirname "$0")/../.."
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20
export PIP_CACHE_DIR="${PIP_CACHE_DIR:-$HOME/.cache/cdk8s-stateful/pip}"
targets="js python ${PACKAGE_TARGETS:-}"
. tools/scripts/inputs-hash.sh
inputs=$(inputs_hash "$targets")
if [ -f out/package/.inputs ] && [ "$(cat out/package/.inputs)" = "$inputs" ] && [ -f .jsii ]; then
  echo "package: out/package/ is up to date with the sources (delete out/package/.inputs to rebuild)"
else
  rm -rf out/package
  # shellcheck disable=SC2086
  npx jsii-pacmak --targets $targets --no-npmignore --maven-local-repository "$HOME/.cache/cdk8s-stateful/m2"
  echo "$inputs" > out/package/.inputs
fi
ls -l out/package/*/
