#!/usr/bin/env bash
# Install the pinned static checkers (kube-score, kube-linter, Polaris) with `go install`
# into ${CDK8S_STATEFUL_CACHE:-~/.cache/cdk8s-stateful}/checkers/bin (outside the repo).
# Idempotent: a tool is rebuilt only if `go version -m` of its binary does not show the pin.
# Prints the bin directory as the last line of stdout. See docs/contributing/checkers.md.
set -euo pipefail

CACHE="${CDK8S_STATEFUL_CACHE:-$HOME/.cache/cdk8s-stateful}"
BIN="$CACHE/checkers/bin"
KUBE_SCORE=v1.20.0
KUBE_LINTER=v0.8.3
POLARIS_COMMIT=dafa0b74fc09a9505849b0a6f8c78f1c364d0112   # the commit of tag 10.2.2

# Same module/build caches as tools/cluster/, so downloads are shared.
export GOBIN="$BIN" GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS="-trimpath -buildvcs=false"
export GOMODCACHE="$CACHE/gomod" GOCACHE="$CACHE/gocache"
command -v go >/dev/null || { echo "install.sh: go is not on PATH" >&2; exit 1; }
mkdir -p "$BIN"

# has BINARY MODULE VERSION-SUBSTRING: the binary exists and was built from that module version.
has() {
  [[ -x "$BIN/$1" ]] &&
    go version -m "$BIN/$1" 2>/dev/null | awk -v m="$2" '$1=="mod" && $2==m {print $3}' | grep -qF "$3"
}

log() { echo "tools/checkers/install.sh: $*" >&2; }

# kube-score: plain go install by tag.
if has kube-score github.com/zegl/kube-score "$KUBE_SCORE"; then log "kube-score $KUBE_SCORE ok"
else log "installing kube-score $KUBE_SCORE"
  go install "github.com/zegl/kube-score/cmd/kube-score@$KUBE_SCORE"
fi

# kube-linter: its vanity host golang.stackrox.io is not reachable from here, so build it in a
# throw-away wrapper module that replaces the vanity path by the same tag under github.com/stackrox.
# The build list is kube-linter's own go.mod, so the binary is the same as `go install …@v0.8.3`.
if has kube-linter golang.stackrox.io/kube-linter "$KUBE_LINTER"; then log "kube-linter $KUBE_LINTER ok"
else log "installing kube-linter $KUBE_LINTER"
  src="$CACHE/checkers/src/kube-linter-$KUBE_LINTER"
  mkdir -p "$src"
  cat >"$src/go.mod" <<MOD
module local/kube-linter-build

go 1.25.5

require golang.stackrox.io/kube-linter $KUBE_LINTER

replace golang.stackrox.io/kube-linter => github.com/stackrox/kube-linter $KUBE_LINTER
MOD
  (cd "$src" && go install -mod=mod golang.stackrox.io/kube-linter/cmd/kube-linter)
fi

# Polaris: no /v10 in its module path, so install by the tag's commit. Optional: if the module
# proxy refuses it, run.sh reports Polaris as SKIPPED (or fails with CHECKERS_REQUIRE_POLARIS=1).
if has polaris github.com/fairwindsops/polaris "${POLARIS_COMMIT:0:12}"; then log "polaris ${POLARIS_COMMIT:0:12} ok"
else log "installing polaris @${POLARIS_COMMIT:0:12}"
  if ! go install "github.com/fairwindsops/polaris@$POLARIS_COMMIT"; then
    log "WARNING: polaris could not be installed (see the go error above); run.sh will skip it"
  fi
fi

for t in kube-score kube-linter; do
  [[ -x "$BIN/$t" ]] || { log "$t missing after install"; exit 1; }
done
echo "$BIN"
