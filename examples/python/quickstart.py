"""The README's quickstart in Python: the same app as examples/quickstart.ts, same YAML.

  python3 -m venv .venv && . .venv/bin/activate
  pip install -r requirements.txt cdk8s_stateful-<version>-py3-none-any.whl
  python quickstart.py            # writes dist-quickstart/orders.k8s.yaml (CDK8S_OUTDIR overrides)
"""
import os

import cdk8s
import cdk8s_plus_27 as kplus
from cdk8s_stateful import (
    ChangeGuard,
    DatabaseEngine,
    PostgresVersion,
    StatefulDatabase,
    StorageClassFast,
    StorageProvider,
)


def quickstart_app(outdir: str = os.environ.get("CDK8S_OUTDIR", "dist-quickstart")) -> cdk8s.App:
    app = cdk8s.App(outdir=outdir)
    ChangeGuard.attach(app)  # synth compares with what is deployed before it overwrites it
    chart = cdk8s.Chart(app, "orders", namespace="shop")

    fast = StorageClassFast(chart, "fast", provider=StorageProvider.aws())
    secret = kplus.Secret.from_secret_name(chart, "Credentials", "orders-credentials")

    db = StatefulDatabase(
        chart,
        "orders",
        engine=DatabaseEngine.postgresql(version=PostgresVersion.VER_17_2),
        replicas=3,
        credentials={"secret": secret},
        storage={"storage_class": fast, "size": cdk8s.Size.gibibytes(50)},
    )
    # clients allowed on 5432 (the checkout Deployment's pods, by its own selector), nobody else
    checkout = kplus.Deployment(chart, "checkout", containers=[kplus.ContainerProps(image="example/checkout:1.0.0", port_number=8080)])
    db.connections.allow_from(checkout)
    return app


if __name__ == "__main__":
    quickstart_app().synth()
