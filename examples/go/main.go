// The README's quickstart in Go: the same app as examples/quickstart.ts, the same YAML.
package main

import (
	"fmt"
	"os"

	"cdk8s-stateful.invalid/cdk8s-stateful-go/cdk8sstateful"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdk8s-team/cdk8s-core-go/cdk8s/v2"
	kplus "github.com/cdk8s-team/cdk8s-plus-go/cdk8splus27/v2"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "bad" {
		badInput()
		return
	}
	outdir := os.Getenv("CDK8S_OUTDIR")
	if outdir == "" {
		outdir = "dist-quickstart"
	}
	app := cdk8s.NewApp(&cdk8s.AppProps{Outdir: jsii.String(outdir)})
	// synth compares with what is deployed before it overwrites it
	cdk8sstateful.ChangeGuard_Attach(app, nil)
	chart := cdk8s.NewChart(app, jsii.String("orders"), &cdk8s.ChartProps{Namespace: jsii.String("shop")})

	fast := cdk8sstateful.NewStorageClassFast(chart, jsii.String("fast"), &cdk8sstateful.TieredStorageClassProps{Provider: cdk8sstateful.StorageProvider_Aws()})
	secret := kplus.Secret_FromSecretName(chart, jsii.String("Credentials"), jsii.String("orders-credentials"))

	db := cdk8sstateful.NewStatefulDatabase(chart, jsii.String("orders"), &cdk8sstateful.StatefulDatabaseProps{
		Engine:      cdk8sstateful.DatabaseEngine_Postgresql(&cdk8sstateful.PostgresqlOptions{Version: cdk8sstateful.PostgresVersion_VER_17_2()}),
		Replicas:    jsii.Number(3),
		Credentials: &cdk8sstateful.DatabaseCredentials{Secret: secret},
		Storage:     &cdk8sstateful.VolumeClaimOptions{StorageClass: fast, Size: cdk8s.Size_Gibibytes(jsii.Number(50))},
	})
	// clients allowed on 5432 (the checkout Deployment's pods, by its own selector), nobody else
	checkout := kplus.NewDeployment(chart, jsii.String("checkout"), &kplus.DeploymentProps{
		Containers: &[]*kplus.ContainerProps{{Image: jsii.String("example/checkout:1.0.0"), PortNumber: jsii.Number(8080)}},
	})
	db.Connections().AllowFrom(checkout)
	app.Synth()
}

// badInput: the library's error arrives as a panic carrying its full message.
func badInput() {
	defer func() {
		if r := recover(); r != nil {
			fmt.Printf("StatefulConfigError: %v\n", r)
		}
	}()
	cdk8sstateful.NewStatefulDatabase(cdk8s.NewChart(cdk8s.NewApp(nil), jsii.String("orders"), nil), jsii.String("orders"),
		&cdk8sstateful.StatefulDatabaseProps{Engine: cdk8sstateful.DatabaseEngine_Postgresql(nil), Replicas: jsii.Number(-1)})
	fmt.Println("no error")
}
