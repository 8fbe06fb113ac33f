#!/usr/bin/env bash
# The Go side of the package: jsii-pacmak generates the Go module of this package into
# out/package/go/cdk8sstateful (a Go module is published as source), and examples/go (the README's
# quickstart in Go) builds against it, writes YAML byte-identical to examples/quickstart.ts, and
# gets the library's full message for a bad input.
#
# The Go module proxy this machine reaches refuses github.com/cdk8s-team/cdk8s-core-go and
# cdk8s-plus-go (403) and has no github.com/aws/jsii-runtime-go at the pacmak version, so the
# dependencies' Go bindings (cdk8s, constructs, cdk8s-plus-27) are generated once from their jsii
# assemblies (`jsii-pacmak -R --code-only`) into ~/.cache/cdk8s-stateful/go-bindings, keyed by
# their versions, and a Go workspace (go.work, in a temporary directory) points at them and takes
# the nearest jsii-runtime-go release the proxy has.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=tools/scripts/lang-check.sh
. tools/scripts/lang-check.sh
export GOMODCACHE="$cache/gomod" GOCACHE="$cache/gocache" GOFLAGS=
need_quickstart go-check

pacmak=$(version jsii-pacmak)
deps_key=$(deps_key)
bindings="$cache/go-bindings/$deps_key"
if [ ! -f "$bindings/.complete" ]; then
  echo "go-check: generating the Go bindings of the dependencies ($deps_key)"
  rm -rf "$bindings"
  npx jsii-pacmak -R --code-only --targets go --no-npmignore -o "$bindings"
  touch "$bindings/.complete"
fi

. tools/scripts/inputs-hash.sh
pacmak_target go go-check --code-only

# the runtime the generated code asks for, or the nearest later release the proxy serves
runtime=v$pacmak
if ! (cd "$(mktemp -d)" && go mod download "github.com/aws/jsii-runtime-go@$runtime" >/dev/null 2>&1); then
  runtime=$(go list -m -versions github.com/aws/jsii-runtime-go | tr ' ' '\n' | tail -n +2 |
    node -e 'const want = process.argv[1].slice(1).split(".").map(Number); const cmp = (a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
      const later = require("fs").readFileSync(0, "utf-8").trim().split("\n").map((v) => v.slice(1).split(".").map(Number)).filter((v) => cmp(v, want) > 0).sort(cmp);
      if (!later.length) process.exit(1); console.log("v" + later[0].join("."))' "v$pacmak")
  echo "go-check: jsii-runtime-go v$pacmak is not on the Go proxy here; using $runtime"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/go.work" <<WORK
go 1.25

use (
	$root/examples/go
	$root/out/package/go/cdk8sstateful
	$bindings/go/cdk8s
	$bindings/go/cdk8splus27
	$bindings/go/constructs
)

replace github.com/aws/jsii-runtime-go v$pacmak => github.com/aws/jsii-runtime-go $runtime
replace github.com/cdk8s-team/cdk8s-core-go/cdk8s/v2 v$(version cdk8s) => $bindings/go/cdk8s
replace github.com/cdk8s-team/cdk8s-plus-go/cdk8splus27/v2 v$(version cdk8s-plus-27) => $bindings/go/cdk8splus27
replace github.com/aws/constructs-go/constructs/v10 v$(version constructs) => $bindings/go/constructs
replace cdk8s-stateful.invalid/cdk8s-stateful-go/cdk8sstateful v$(version .) => $root/out/package/go/cdk8sstateful
WORK
(cd examples/go && GOWORK="$tmp/go.work" go build -o "$tmp/quickstart" .)
CDK8S_OUTDIR="$tmp/go" "$tmp/quickstart"
same_yaml go-check "$tmp/go"

go_message=$("$tmp/quickstart" bad | head -1)
same_error go-check Go "$go_message"
