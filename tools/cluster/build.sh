#!/usr/bin/env bash
# Build the integration-test cluster (etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, kubectl, kwok, and for the real node kubelet, kube-proxy and CoreDNS) from the
# Go module proxy into a cache outside the repo.
# Usage: tools/cluster/build.sh [--print-bin]   (last line of output = bin dir)
# See docs/contributing/cluster.md.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-1.34.10}"    # newest 1.34 patch the proxied sumdb knows (see docs)
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"
KWOK_VERSION="${KWOK_VERSION:-v0.7.0}"
COREDNS_VERSION="${COREDNS_VERSION:-v1.12.4}"

CACHE="${CDK8S_STATEFUL_CACHE:-$HOME/.cache/cdk8s-stateful}"
ROOT="$CACHE/cluster/k8s-v${K8S_VERSION}_etcd-${ETCD_VERSION}_kwok-${KWOK_VERSION}"
BIN="$ROOT/bin"
SRC="$ROOT/src"
BINARIES="etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok kubelet kube-proxy coredns"

if [ "${1:-}" = "--print-bin" ]; then echo "$BIN"; exit 0; fi

have_all() {
  local b
  for b in $BINARIES; do [ -x "$BIN/$b" ] || return 1; done
  [ -f "$BIN/.complete" ]
}
if have_all; then echo "$BIN"; exit 0; fi

export GOTOOLCHAIN=local CGO_ENABLED=0
export GOMODCACHE="${CDK8S_STATEFUL_GOMODCACHE:-$CACHE/gomod}"
export GOCACHE="${CDK8S_STATEFUL_GOCACHE:-$CACHE/gocache}"
export GOFLAGS="-mod=mod -buildvcs=false -p=${BUILD_JOBS:-2}"
mkdir -p "$BIN" "$SRC" "$GOMODCACHE" "$GOCACHE"
rm -f "$BIN/.complete"
log() { printf '[build %s] %s\n' "$(date +%T)" "$*" >&2; }

# 1. etcd: own wrapper module (server/go.mod has monorepo replaces, so `go install` fails).
if [ ! -x "$BIN/etcd" ]; then
  log "etcd $ETCD_VERSION"
  rm -rf "$SRC/etcd" && mkdir -p "$SRC/etcd" && cd "$SRC/etcd"
  go mod init harness.local/etcdbin >/dev/null 2>&1
  go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
  go build -trimpath -ldflags '-s -w' -o "$BIN/etcd.tmp" go.etcd.io/etcd/server/v3
  mv "$BIN/etcd.tmp" "$BIN/etcd"
fi

# go_install NAME PACKAGE@VERSION: a plain module (no replace directives) installed as $BIN/NAME.
go_install() {
  [ ! -x "$BIN/$1" ] || return 0
  log "$1 ${2##*@}"
  mkdir -p "$SRC/$1-gobin"
  GOBIN="$SRC/$1-gobin" GOFLAGS="-buildvcs=false" go install -trimpath -ldflags '-s -w' "$2"
  mv "$SRC/$1-gobin/$1" "$BIN/$1"
}

# 2. kwok, and CoreDNS: the cluster DNS of the real node (serves cluster.local from the API server).
go_install kwok "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
go_install coredns "github.com/coredns/coredns@$COREDNS_VERSION"

# 3. Kubernetes: wrapper module requiring k8s.io/kubernetes with generated staging replaces.
K8S_BINS="kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet kube-proxy"
need_k8s=""
for b in $K8S_BINS; do [ -x "$BIN/$b" ] || need_k8s=1; done
if [ -n "$need_k8s" ]; then
  log "kubernetes v$K8S_VERSION"
  MINOR="$(echo "$K8S_VERSION" | cut -d. -f2)"
  STAGING="v0.${K8S_VERSION#1.}"
  rm -rf "$SRC/k8s" && mkdir -p "$SRC/k8s" && cd "$SRC/k8s"
  go mod init harness.local/k8sbins >/dev/null 2>&1
  json="$(go mod download -json "k8s.io/kubernetes@v$K8S_VERSION")" || { log "$json"; exit 1; }
  UPSTREAM_MOD="$(printf '%s\n' "$json" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
  go mod edit -go="$(sed -n 's/^go //p' "$UPSTREAM_MOD")"
  grep '^godebug ' "$UPSTREAM_MOD" >>go.mod || true
  sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => \./staging/.*#\1#p' "$UPSTREAM_MOD" | while read -r m; do
    go mod edit -replace="$m=$m@$STAGING"
  done
  pkgs="" queries=""
  for b in $K8S_BINS; do
    pkgs="$pkgs k8s.io/kubernetes/cmd/$b" queries="$queries k8s.io/kubernetes/cmd/$b@v$K8S_VERSION"
  done
  # shellcheck disable=SC2086
  go get $queries
  LD="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    LD="$LD -X $p.gitVersion=v$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$MINOR"
    LD="$LD -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  mkdir -p "$SRC/k8s/out"
  # shellcheck disable=SC2086
  go build -trimpath -tags selinux,notest -ldflags "$LD" -o "$SRC/k8s/out/" $pkgs
  for b in $K8S_BINS; do mv "$SRC/k8s/out/$b" "$BIN/$b"; done
fi

have_all_bins=1
for b in $BINARIES; do [ -x "$BIN/$b" ] || have_all_bins=""; done
[ -n "$have_all_bins" ] || { log "missing binaries in $BIN"; exit 1; }
touch "$BIN/.complete"
log "done"
echo "$BIN"
