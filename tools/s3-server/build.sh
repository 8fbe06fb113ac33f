#!/usr/bin/env bash
# Build versitygw (an Apache-2.0 S3 gateway; its POSIX backend serves buckets from a directory)
# from the Go module proxy into a cache outside the repo, keyed by version:
#   ${CDK8S_STATEFUL_CACHE:-~/.cache/cdk8s-stateful}/s3-server/versitygw-<version>/versitygw
# Usage: tools/s3-server/build.sh [--print-bin]   (last line of stdout = the binary's path)
# The binary is static (CGO off): the test image tools/images/versitygw is that binary alone.
# See docs/contributing/s3-server.md.
set -euo pipefail

VERSITYGW_VERSION="${VERSITYGW_VERSION:-v1.8.0}"
CACHE="${CDK8S_STATEFUL_CACHE:-$HOME/.cache/cdk8s-stateful}"
DIR="$CACHE/s3-server/versitygw-$VERSITYGW_VERSION"
BIN="$DIR/versitygw"

log() { printf '[s3-server %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { printf '[s3-server] ERROR: %s\n' "$*" >&2; exit 1; }

if [ "${1:-}" = "--print-bin" ]; then echo "$BIN"; exit 0; fi
if [ -x "$BIN" ] && [ -f "$DIR/.complete" ]; then echo "$BIN"; exit 0; fi

command -v go >/dev/null || die "go is not on PATH (tools/cluster/install-deps.sh installs it)"
export GOTOOLCHAIN=local CGO_ENABLED=0
export GOMODCACHE="${CDK8S_STATEFUL_GOMODCACHE:-$CACHE/gomod}"
export GOCACHE="${CDK8S_STATEFUL_GOCACHE:-$CACHE/gocache}"
export GOFLAGS="-buildvcs=false -p=${BUILD_JOBS:-2}"
mkdir -p "$DIR" "$GOMODCACHE" "$GOCACHE"
rm -f "$DIR/.complete"

# the module proxy must have the pinned version: say so plainly when it does not
if ! out="$(go mod download -json "github.com/versity/versitygw@$VERSITYGW_VERSION" 2>&1)"; then
  die "the Go module proxy ($(go env GOPROXY)) has no github.com/versity/versitygw@$VERSITYGW_VERSION: $out
Pin a version it has (go list -m -versions github.com/versity/versitygw) in VERSITYGW_VERSION and images/versions.json."
fi

log "versitygw $VERSITYGW_VERSION"
gobin="$DIR/gobin"
rm -rf "$gobin" && mkdir -p "$gobin"
GOBIN="$gobin" go install -trimpath \
  -ldflags "-s -w -X main.Version=$VERSITYGW_VERSION -X main.Build=proxy -X main.BuildTime=1970-01-01T00:00:00Z" \
  "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION"
mv "$gobin/versitygw" "$BIN"
rm -rf "$gobin"
"$BIN" --version >/dev/null 2>&1 || die "the built $BIN does not run"
touch "$DIR/.complete"
log "done ($(du -h "$BIN" | cut -f1))"
echo "$BIN"
