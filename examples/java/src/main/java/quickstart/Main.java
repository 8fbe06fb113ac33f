// The README's quickstart in Java: the same app as examples/quickstart.ts, the same YAML.
package quickstart;

import invalid.cdk8s_stateful.ChangeGuard;
import invalid.cdk8s_stateful.DatabaseCredentials;
import invalid.cdk8s_stateful.DatabaseEngine;
import invalid.cdk8s_stateful.PostgresVersion;
import invalid.cdk8s_stateful.PostgresqlOptions;
import invalid.cdk8s_stateful.StatefulDatabase;
import invalid.cdk8s_stateful.StatefulDatabaseProps;
import invalid.cdk8s_stateful.StorageClassFast;
import invalid.cdk8s_stateful.StorageProvider;
import invalid.cdk8s_stateful.TieredStorageClassProps;
import invalid.cdk8s_stateful.VolumeClaimOptions;
import java.util.List;
import org.cdk8s.App;
import org.cdk8s.AppProps;
import org.cdk8s.Chart;
import org.cdk8s.ChartProps;
import org.cdk8s.Size;
import org.cdk8s.plus27.ContainerProps;
import org.cdk8s.plus27.Deployment;
import org.cdk8s.plus27.DeploymentProps;
import org.cdk8s.plus27.ISecret;
import org.cdk8s.plus27.Secret;

public final class Main {
  public static void main(String[] args) {
    String outdir = System.getenv().getOrDefault("CDK8S_OUTDIR", "dist-quickstart");
    App app = new App(AppProps.builder().outdir(outdir).build());
    ChangeGuard.attach(app); // synth compares with what is deployed before it overwrites it
    Chart chart = new Chart(app, "orders", ChartProps.builder().namespace("shop").build());

    StorageClassFast fast = new StorageClassFast(chart, "fast",
        TieredStorageClassProps.builder().provider(StorageProvider.aws()).build());
    ISecret secret = Secret.fromSecretName(chart, "Credentials", "orders-credentials");

    StatefulDatabase db = new StatefulDatabase(chart, "orders", StatefulDatabaseProps.builder()
        .engine(DatabaseEngine.postgresql(PostgresqlOptions.builder().version(PostgresVersion.VER_17_2).build()))
        .replicas(3)
        .credentials(DatabaseCredentials.builder().secret(secret).build())
        .storage(VolumeClaimOptions.builder().storageClass(fast).size(Size.gibibytes(50)).build())
        .build());
    // clients allowed on 5432 (the checkout Deployment's pods, by its own selector), nobody else
    Deployment checkout = new Deployment(chart, "checkout", DeploymentProps.builder()
        .containers(List.of(ContainerProps.builder().image("example/checkout:1.0.0").portNumber(8080).build()))
        .build());
    db.getConnections().allowFrom(checkout);
    app.synth();
  }
}
