#!/usr/bin/env bash
# Copies the OpenAPI v3 documents of the API groups the library writes from the k8s.io/kubernetes
# Go module (api/openapi-spec/v3) into test/schemas/<version>/openapi-v3/, with their SHA256SUMS.
# Usage: bash tools/scripts/update-openapi.sh v1.34.10
set -euo pipefail
cd "$(dirname "$0")/../.."
version=${1:?usage: update-openapi.sh <version, e.g. v1.34.10>}
export GOMODCACHE="${GOMODCACHE:-$HOME/.cache/cdk8s-stateful/gomod}" GOFLAGS=-mod=mod
src="$GOMODCACHE/k8s.io/kubernetes@$version/api/openapi-spec/v3"
if [ ! -d "$src" ]; then
  (cd "$(mktemp -d)" && go mod init scratch >/dev/null 2>&1 && go mod download "k8s.io/kubernetes@$version")
fi
dest="test/schemas/$version/openapi-v3"
mkdir -p "$dest"
for group in api__v1 apis__apps__v1 apis__policy__v1 apis__networking.k8s.io__v1 apis__rbac.authorization.k8s.io__v1 apis__storage.k8s.io__v1; do
  install -m 644 "$src/${group}_openapi.json" "$dest/"
done
(cd "$dest" && sha256sum ./*.json | sed 's| \./| |' > SHA256SUMS)
echo "copied $(find "$dest" -maxdepth 1 -name '*.json' | wc -l) documents into $dest"
