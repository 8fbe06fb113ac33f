#!/usr/bin/env bash
# Builds helm from the Go module proxy into the shared cache, keyed by version (as tools/cluster/build.sh
# caches its Go builds), and prints the binary's path on the last line.
# Usage: tools/bench/helm/build.sh        HELM_VERSION=v4.3.2 by default
set -euo pipefail

HELM_VERSION="${HELM_VERSION:-v4.3.2}"
MAJOR="${HELM_VERSION%%.*}"                 # v4
CACHE="${CDK8S_STATEFUL_CACHE:-$HOME/.cache/cdk8s-stateful}"
BIN="$CACHE/helm/$HELM_VERSION/bin"

if [ -x "$BIN/helm" ]; then echo "$BIN/helm"; exit 0; fi

export GOTOOLCHAIN=local CGO_ENABLED=0
export GOMODCACHE="${CDK8S_STATEFUL_GOMODCACHE:-$CACHE/gomod}"
export GOCACHE="${CDK8S_STATEFUL_GOCACHE:-$CACHE/gocache}"
export GOFLAGS="-buildvcs=false -p=${BUILD_JOBS:-2}"
mkdir -p "$BIN" "$GOMODCACHE" "$GOCACHE"
printf '[helm build %s] helm %s\n' "$(date +%T)" "$HELM_VERSION" >&2
GOBIN="$BIN.tmp" go install -trimpath -ldflags '-s -w' "helm.sh/helm/$MAJOR/cmd/helm@$HELM_VERSION"
mv "$BIN.tmp/helm" "$BIN/helm"
rmdir "$BIN.tmp"
echo "$BIN/helm"
