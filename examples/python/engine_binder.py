"""An engine of your own from Python: a class implementing IEngineBinder, which the library calls
back at synth with the database's shape (its PEERS list and an init container).

  python engine_binder.py <outdir>
"""
import sys

import cdk8s
import cdk8s_plus_27 as kplus
import jsii
from cdk8s_stateful import (
    DatabaseEngine,
    EngineBinding,
    EngineContext,
    IEngineBinder,
    InitContainer,
    StatefulDatabase,
)


@jsii.implements(IEngineBinder)
class PeerList:
    def bind(self, context: EngineContext) -> EngineBinding:
        return EngineBinding(
            env={"PEERS": kplus.EnvValue.from_value(",".join(context.peer_addresses))},
            init_containers=[InitContainer(name="prepare", image="busybox:1.36.1", command=["true"])],
        )


app = cdk8s.App(outdir=sys.argv[1])
chart = cdk8s.Chart(app, "kv", namespace="shop")
StatefulDatabase(
    chart,
    "kv",
    engine=DatabaseEngine.of(name="kv", image="redis:7.4.1", ports=[{"name": "kv", "port": 6379}], binder=PeerList()),
    replicas=2,
)
app.synth()
