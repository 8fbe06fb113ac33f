#!/usr/bin/env bash
# Smoke test for a cluster started by tools/cluster/up.sh: a restricted-compliant StatefulSet with a
# volumeClaimTemplate binds to 2 static NFS PVs (storageClassName nfs-pool), its pods become
# Ready via kwok in ordinal order, server-side strict dry-run works, PodSecurity enforces.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=tools/cluster/lib.sh
. "$HERE/lib.sh"
export KUBECONFIG="$CLUSTER_DIR/admin.kubeconfig"
BIN="${CLUSTER_BIN:-$("$HERE/build.sh" --print-bin)}"
NS="${SMOKE_NAMESPACE:-smoke}"
k() { "$BIN/kubectl" --request-timeout=10s "$@"; }
ok() { echo "smoke: ok - $*" >&2; }
fail() { echo "smoke: FAIL - $*" >&2; exit 1; }
WORK="$(mktemp -d)"
WATCH_PID=""
cleanup() { [ -z "$WATCH_PID" ] || kill "$WATCH_PID" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

cat >"$WORK/storage.yaml" <<'YAML'
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: nfs-pool}
provisioner: kubernetes.io/no-provisioner
reclaimPolicy: Retain
volumeBindingMode: WaitForFirstConsumer
YAML
for i in 0 1; do cat >>"$WORK/storage.yaml" <<YAML
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: smoke-nfs-$i}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: nfs-pool
  nfs: {server: nfs.example.invalid, path: /exports/smoke-$i}
YAML
done
cat >"$WORK/app.yaml" <<YAML
apiVersion: v1
kind: Service
metadata: {name: web, namespace: $NS}
spec:
  clusterIP: None
  selector: {app: web}
  ports: [{name: http, port: 8080}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web, namespace: $NS}
spec:
  serviceName: web
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 65532
        seccompProfile: {type: RuntimeDefault}
      containers:
      - name: app
        image: registry.k8s.io/pause:3.10
        ports: [{name: http, containerPort: 8080}]
        resources: {requests: {cpu: 10m, memory: 16Mi}, limits: {memory: 16Mi}}
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          capabilities: {drop: [ALL]}
        volumeMounts: [{name: data, mountPath: /data}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      storageClassName: nfs-pool
      resources: {requests: {storage: 1Gi}}
YAML

k create namespace "$NS" >/dev/null
until k -n "$NS" get serviceaccount default >/dev/null 2>&1; do sleep 0.2; done
k apply --dry-run=server --validate=strict -f "$WORK/storage.yaml" -f "$WORK/app.yaml" >"$WORK/dry.out" 2>&1 \
  || { cat "$WORK/dry.out" >&2; fail "server-side strict dry-run"; }
grep -q '^Warning' "$WORK/dry.out" && { cat "$WORK/dry.out" >&2; fail "dry-run printed warnings"; }
ok "apply --dry-run=server --validate=strict (no warnings)"

sed 's/replicas: 2/replicas: 2\n  bogusField: 1/' "$WORK/app.yaml" >"$WORK/bad.yaml"
if k apply --dry-run=server --validate=strict -f "$WORK/bad.yaml" >"$WORK/bad.out" 2>&1; then
  fail "strict validation accepted an unknown field"
fi
grep -q 'unknown field "spec.bogusField"' "$WORK/bad.out" || { cat "$WORK/bad.out" >&2; fail "unexpected strict error"; }
ok "strict validation rejects unknown fields"

priv_pod() { printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: priv, namespace: %s}\nspec:\n  containers: [{name: c, image: registry.k8s.io/pause:3.10, securityContext: {privileged: true}}]\n' "$1"; }
if priv_pod "$NS" | k apply --dry-run=server -f - >"$WORK/pss.out" 2>&1; then fail "PodSecurity allowed a privileged pod"; fi
grep -q 'violates PodSecurity "restricted:latest"' "$WORK/pss.out" || { cat "$WORK/pss.out" >&2; fail "unexpected PSS error"; }
priv_pod kube-system | k apply --dry-run=server -f - >/dev/null || fail "kube-system is not exempt"
ok "PodSecurity restricted enforced, kube-system exempt"
k -n "$NS" create deployment pss-warn --image=registry.k8s.io/pause:3.10 --dry-run=server >"$WORK/warn.out" 2>&1 \
  || { cat "$WORK/warn.out" >&2; fail "dry-run of a non-compliant Deployment"; }
grep -q '^Warning: would violate PodSecurity "restricted:latest"' "$WORK/warn.out" || fail "no PodSecurity warning"
grep -q 'pod-security.kubernetes.io/audit-violations' "$CLUSTER_DIR/audit.log" || fail "no PodSecurity audit annotation"
ok "PodSecurity warn (Warning: header) and audit (audit.log) on workloads"

"$BIN/kubectl" -n "$NS" get pods -w --output-watch-events --no-headers \
  -o 'custom-columns=EVENT:.type,NAME:.object.metadata.name,READY:.object.status.conditions[?(@.type=="Ready")].status' \
  >"$WORK/watch.log" 2>&1 &
WATCH_PID=$!
k apply --validate=strict -f "$WORK/storage.yaml" -f "$WORK/app.yaml" >/dev/null
k -n "$NS" wait --for=jsonpath='{.status.readyReplicas}'=2 statefulset/web --timeout=90s >/dev/null
ok "statefulset web: 2/2 Ready"

for i in 0 1; do
  phase="$(k -n "$NS" get pvc "data-web-$i" -o jsonpath='{.status.phase}/{.spec.volumeName}')"
  case "$phase" in Bound/smoke-nfs-[01]) ok "pvc data-web-$i $phase" ;; *) fail "pvc data-web-$i is $phase" ;; esac
  node="$(k -n "$NS" get pod "web-$i" -o jsonpath='{.spec.nodeName} {.status.phase} {.status.podIP}')"
  ok "pod web-$i on $node"
done
[ "$(k get pv smoke-nfs-0 smoke-nfs-1 -o jsonpath='{range .items[*]}{.status.phase}{"\n"}{end}' | grep -c Bound)" -eq 2 ] || fail "PVs not Bound"

# Ordinal order: web-1 must first appear only after web-0 has been reported Ready.
first_ready0="$(awk '$2 == "web-0" && $3 == "True" { print NR; exit }' "$WORK/watch.log")"
first_add1="$(awk '$1 == "ADDED" && $2 == "web-1" { print NR; exit }' "$WORK/watch.log")"
if [ -z "$first_ready0" ] || [ -z "$first_add1" ] || [ "$first_ready0" -ge "$first_add1" ]; then
  cat "$WORK/watch.log" >&2; fail "pods not created in ordinal order"
fi
ok "web-0 Ready (watch line $first_ready0) before web-1 ADDED (line $first_add1)"
k delete namespace "$NS" --wait=false >/dev/null
k delete -f "$WORK/storage.yaml" --wait=false >/dev/null
echo "smoke: passed" >&2
