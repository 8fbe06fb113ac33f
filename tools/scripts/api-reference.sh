#!/usr/bin/env bash
# The API reference per language from the doc comments, by jsii-docgen from the jsii assembly:
# docs/api/API.typescript.md and docs/api/API.python.md (run after typedoc, which empties docs/api/).
# The assembly (.jsii) is recompiled when a source or package.json is newer than it.
set -euo pipefail
cd "$(dirname "$0")/../.."
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20
if [ ! -f .jsii ] || [ -n "$(find lib imports package.json tsconfig.jsii.json -newer .jsii -print -quit)" ]; then
  npx jsii --silence-warnings=missing-dev-dependency
fi
mkdir -p docs/api
npx jsii-docgen -l typescript -l python -o docs/api/API.md 2>&1 | grep -v 'Could not resolve symbol id' >&2 || true
for lang in typescript python; do
  f=docs/api/API.$lang.md
  [ -s "$f" ] || { echo "api-reference: $f was not written" >&2; exit 1; }
  grep -q 'StatefulDatabase' "$f" || { echo "api-reference: $f does not document StatefulDatabase" >&2; exit 1; }
  echo "api-reference: $f ($(wc -c < "$f") bytes)"
done
