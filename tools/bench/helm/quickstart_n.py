"""tools/bench/helm/quickstart-n.ts in Python, through jsii: the quickstart database N times.

  python quickstart_n.py <N> <outdir>
"""
import sys

import cdk8s
import cdk8s_plus_27 as kplus
from cdk8s_stateful import (
    DatabaseEngine,
    PostgresVersion,
    StatefulDatabase,
    StorageClassFast,
    StorageProvider,
)


def quickstart_databases(n: int, outdir: str) -> cdk8s.App:
    app = cdk8s.App(outdir=outdir)
    chart = cdk8s.Chart(app, "shop", namespace="shop")
    fast = StorageClassFast(chart, "fast", provider=StorageProvider.aws())
    for i in range(n):
        name = f"db-{i}"
        secret = kplus.Secret.from_secret_name(chart, f"{name}-credentials", f"{name}-credentials")
        db = StatefulDatabase(
            chart,
            name,
            engine=DatabaseEngine.postgresql(version=PostgresVersion.VER_17_2),
            replicas=3,
            credentials={"secret": secret},
            storage={"storage_class": fast, "size": cdk8s.Size.gibibytes(50)},
        )
        db.connections.allow_from_labels({"app": "checkout"})
    return app


if __name__ == "__main__":
    quickstart_databases(int(sys.argv[1]), sys.argv[2]).synth()
