#!/usr/bin/env bash
# The real node's volume provisioner, started by tools/cluster/node-up.sh:
#   local-provisioner.sh CLUSTER_DIR KUBECTL
# Plays the external provisioner of every dynamic StorageClass, for claims the scheduler placed
# on the real node: a Pending claim with no volume whose `volume.kubernetes.io/selected-node`
# names $NODE_NAME gets a `local` PersistentVolume `pvc-<claim uid>` on a directory under
# $CLUSTER_DIR/volumes, pre-bound to the claim, with node affinity to the node. The directory
# outlives every pod (a re-created pod finds its data) and is deleted only with the volume: a
# Released volume whose reclaim policy is Delete. The kubelet applies fsGroup ownership to local
# volumes as on any cluster. Polls every POLL seconds; logs one line per action.
set -uo pipefail
CLUSTER_DIR="$1" KUBECTL="$2"
# shellcheck source=tools/cluster/lib.sh
. "$(dirname "$0")/lib.sh"
export KUBECONFIG="$CLUSTER_DIR/admin.kubeconfig"
VOLUMES="$CLUSTER_DIR/volumes"
LABEL=cdk8s-stateful.dev/local-volume
k() { "$KUBECTL" --request-timeout=10s "$@"; }
log() { echo "$(date +%T) $*"; }
mkdir -p "$VOLUMES"

provision() { # NAMESPACE NAME UID SIZE CLASS ACCESS_MODES
  local pv="pvc-$3" provisioner policy
  provisioner="$(k get storageclass "$5" -o jsonpath='{.provisioner}')" || return
  policy="$(k get storageclass "$5" -o jsonpath='{.reclaimPolicy}')" || return
  mkdir -p "$VOLUMES/$pv"
  k create -f - >/dev/null <<YAML || return
apiVersion: v1
kind: PersistentVolume
metadata:
  name: $pv
  labels: {$LABEL: "$NODE_NAME"}
  annotations: {pv.kubernetes.io/provisioned-by: "$provisioner"}
spec:
  capacity: {storage: "$4"}
  accessModes: $6
  persistentVolumeReclaimPolicy: ${policy:-Delete}
  storageClassName: "$5"
  volumeMode: Filesystem
  claimRef: {namespace: "$1", name: "$2", uid: "$3"}
  local: {path: "$VOLUMES/$pv"}
  nodeAffinity:
    required:
      nodeSelectorTerms:
      - matchExpressions: [{key: kubernetes.io/hostname, operator: In, values: ["$NODE_NAME"]}]
YAML
  log "provisioned $pv for $1/$2 ($4, class $5)"
}

# fields separated by '|' (a tab is IFS whitespace: empty fields would collapse)
while true; do
  k get pvc -A -o jsonpath='{range .items[?(@.status.phase=="Pending")]}{.metadata.namespace}|{.metadata.name}|{.metadata.uid}|{.spec.resources.requests.storage}|{.spec.storageClassName}|{.spec.accessModes}|{.spec.volumeName}|{.spec.volumeMode}|{.metadata.annotations.volume\.kubernetes\.io/selected-node}{"\n"}{end}' |
    while IFS='|' read -r ns name uid size class modes vol mode node; do
      if [ -n "$vol" ] || [ "$node" != "$NODE_NAME" ] || [ "${mode:-Filesystem}" != Filesystem ]; then continue; fi
      k get pv "pvc-$uid" >/dev/null 2>&1 || provision "$ns" "$name" "$uid" "$size" "$class" "$modes"
    done
  k get pv -l "$LABEL=$NODE_NAME" -o jsonpath='{range .items[?(@.status.phase=="Released")]}{.metadata.name}|{.spec.persistentVolumeReclaimPolicy}{"\n"}{end}' |
    while IFS='|' read -r pv policy; do
      [ "$policy" = Delete ] || continue
      rm -rf "${VOLUMES:?}/$pv" && k delete pv "$pv" --wait=false >/dev/null && log "deleted $pv"
    done
  sleep "${POLL:-2}"
done
