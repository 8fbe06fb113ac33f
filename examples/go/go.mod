// Build and run it with tools/scripts/go-check.sh, which puts the generated bindings in a Go workspace.
module example.com/quickstart

go 1.25

require (
	github.com/aws/jsii-runtime-go v1.140.0
	github.com/cdk8s-team/cdk8s-core-go/cdk8s/v2 v2.70.106
	github.com/cdk8s-team/cdk8s-plus-go/cdk8splus27/v2 v2.9.5
	cdk8s-stateful.invalid/cdk8s-stateful-go/cdk8sstateful v0.1.0
)
