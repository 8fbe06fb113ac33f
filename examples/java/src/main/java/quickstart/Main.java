// The README's quickstart in Java: the same app as examples/quickstart.ts, the same YAML.
package quickstart;

import io.github.cdk8s_stateful.ChangeGuard;
import io.github.cdk8s_stateful.DatabaseCredentials;
import io.github.cdk8s_stateful.DatabaseEngine;
import io.github.cdk8s_stateful.PostgresVersion;
import io.github.cdk8s_stateful.PostgresqlOptions;
import io.github.cdk8s_stateful.StatefulDatabase;
import io.github.cdk8s_stateful.StatefulDatabaseProps;
import io.github.cdk8s_stateful.StorageClassFast;
import io.github.cdk8s_stateful.StorageProvider;
import io.github.cdk8s_stateful.TieredStorageClassProps;
import io.github.cdk8s_stateful.VolumeClaimOptions;
import java.util.Map;
import org.cdk8s.App;
import org.cdk8s.AppProps;
import org.cdk8s.Chart;
import org.cdk8s.ChartProps;
import org.cdk8s.Size;
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
    db.getConnections().allowFromLabels(Map.of("app", "checkout")); // clients allowed on 5432, nobody else
    app.synth();
  }
}
