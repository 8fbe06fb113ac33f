"""Objects of another cdk8s-plus line in Python (run by tools/scripts/python-check.sh with cdk8s-plus-33).

A Deployment, a StatefulSet and Secrets of the line go to the library's parameters, and the
database to the line's allow_to and NetworkPolicy; the rendered selectors are compared with the
labels the synthesized workloads carry. Exits 1 on a mismatch.
"""
import glob
import importlib
import sys

import cdk8s
import yaml
from cdk8s_stateful import DatabaseEngine, StatefulDatabase

line, outdir = sys.argv[1], sys.argv[2]
kplus = importlib.import_module(line)

app = cdk8s.App(outdir=outdir)
chart = cdk8s.Chart(app, "orders", namespace="shop")
db = StatefulDatabase(
    chart, "orders", engine=DatabaseEngine.postgresql(),
    credentials={"secret": kplus.Secret.from_secret_name(chart, "creds", "orders-credentials")},
    image_pull_secrets=[kplus.Secret.from_secret_name(chart, "pull", "registry-login")],
)
container = kplus.ContainerProps(image="example/api:1.0.0", port_number=8080)
api = kplus.Deployment(chart, "api", containers=[container])
worker = kplus.StatefulSet(chart, "worker", containers=[container])
db.connections.allow_from(api)
db.connections.allow_from(worker)
api.connections.allow_to(db, ports=[kplus.NetworkPolicyPort.tcp(5432)])
kplus.NetworkPolicy(chart, "np", selector=db)
app.synth()

docs = [d for f in sorted(glob.glob(f"{outdir}/*.yaml")) for d in yaml.safe_load_all(open(f)) if d]


def one(kind, name):
    # cdk8s-plus names its objects <chart>-<id>-<hash>; the database is <name>
    found = [d for d in docs if d["kind"] == kind and (d["metadata"]["name"] == name or d["metadata"]["name"].startswith(name + "-c8"))]
    if len(found) != 1:
        sys.exit(f"python-check[{line}]: expected one {kind} {name}, found {len(found)}")
    return found[0]


def selects(selector, labels):
    match = (selector or {}).get("matchLabels") or {}
    return bool(match) and all(labels.get(k) == v for k, v in match.items())


pods = {n: one(k, n)["spec"]["template"]["metadata"]["labels"] for k, n in [("Deployment", "orders-api"), ("StatefulSet", "orders-worker"), ("StatefulSet", "orders")]}
clients = one("NetworkPolicy", "orders")["spec"]["ingress"][1]["from"]
failures = [f"allow_from({n}): no client rule selects {pods[n]}" for n in ("orders-api", "orders-worker")
            if not any(selects(c["podSelector"], pods[n]) for c in clients)]
selecting = [d["metadata"]["name"] for d in docs if d["kind"] == "NetworkPolicy" and selects(d["spec"]["podSelector"], pods["orders"])]
if len(selecting) < 3:  # its own, the ingress side of allow_to, np
    failures.append(f"allow_to(db), NetworkPolicy(selector=db): {len(selecting)} policies select the database's pods, expected 3")
spec = one("StatefulSet", "orders")["spec"]["template"]["spec"]
if {"secretName": "orders-credentials", "defaultMode": 0o440} not in [v.get("secret") for v in spec["volumes"]] or spec.get("imagePullSecrets") != [{"name": "registry-login"}]:
    failures.append("the Secrets are not named in the pod")
if failures:
    sys.exit("\n".join(f"python-check[{line}]: {f}" for f in failures))
print(f"python-check[{line}]: {len(clients)} client rules and {len(selecting)} policies select the pods the workloads carry; both Secrets named")
