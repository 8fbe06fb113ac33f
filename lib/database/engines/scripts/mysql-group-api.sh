#!/bin/sh
# MySQL with Group Replication: the member's side that talks to the Kubernetes API, on the API
# client image (sh and curl; kube-api.sh). The MySQL containers and these exchange files in
# GROUP_DIR (an emptyDir of the pod).
#
#   lease   init container `lease`: decides once, under the Lease GROUP_LEASE, whether this member
#           bootstraps the group. kube_lease_create lets exactly one creator through (201): that
#           member writes GROUP_DIR/bootstrap, which the `group` sidecar consumes. Every other
#           answer of the API server (409: the Lease exists, the group was bootstrapped by its
#           holder) means join. Never a poll of the peers: the API server arbitrates.
#   label   sidecar `label`: mirrors GROUP_DIR/role (primary, replica or none, which the `group`
#           sidecar writes from the local member's state) onto this pod's label ROLE_LABEL, which
#           the Services select: `<name>` the primary, `<name>-read` the secondaries. And takes
#           the Lease when the `group` sidecar asks (lease.request; see take).
set -eu
# shellcheck source=kube-api.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/kube-api.sh"

GROUP_DIR="${GROUP_DIR:-/var/run/cdk8s-group}"
# shellcheck disable=SC3028 # the container runtime sets HOSTNAME (the pod's name)
POD="${HOSTNAME:-$(cat /etc/hostname)}"
POD="${POD%%.*}"

decide() {
  : "${GROUP_LEASE:?GROUP_LEASE is not set}"
  while :; do
    code="$(kube_lease_create "$GROUP_LEASE" "$POD")"
    case "$code" in
      201)
        : >"$GROUP_DIR/bootstrap"
        log "mysql: created Lease $GROUP_LEASE: this member bootstraps the group"
        return 0 ;;
      409)
        rm -f "$GROUP_DIR/bootstrap"
        log "mysql: Lease $GROUP_LEASE exists (the group was bootstrapped once): this member joins it"
        return 0 ;;
      *)
        log "mysql: creating Lease $GROUP_LEASE got HTTP $code ($(head -c 300 "$KUBE_BODY" 2>/dev/null)); retrying in 2 s"
        sleep 2 ;;
    esac
  done
}

# take KIND: the `group` sidecar asks for the Lease, to bootstrap the group (KIND bootstrap) or to
# reboot it after a full outage (KIND reboot). The Lease's holder says where the group stands:
#   <pod>                         created by <pod>, which has not bootstrapped yet
#   <pod> bootstrapped            <pod> bootstrapped the group
#   <pod> reboot <time>           <pod> rebooted the group after a full outage
# A bootstrap is granted only to the creator while the group is not bootstrapped; a reboot only
# once it was. The new holder is written at the version read (kube_lease_take): of concurrent
# takers, one wins. The answer is GROUP_DIR/lease.granted or lease.denied.
take() {
  answer=denied
  code="$(kube_request GET "$(kube_lease_path "$GROUP_LEASE")")"
  if [ "$code" = 200 ]; then
    holder="$(kube_field holderIdentity)"
    version="$(kube_field resourceVersion)"
    case "$1:$holder" in
      "bootstrap:$POD") new="$POD bootstrapped" ;;
      reboot:*" "*) new="$POD reboot $(date -u +%Y-%m-%dT%H:%M:%SZ)" ;;
      *) new='' ;;
    esac
    if [ -n "$new" ]; then
      code="$(kube_lease_take "$GROUP_LEASE" "$new" "$version")"
      [ "$code" != 200 ] || answer=granted
    fi
  fi
  log "mysql: $1 of the group from $POD: Lease $GROUP_LEASE (holder '${holder:-?}') $answer (HTTP $code)"
  : >"$GROUP_DIR/lease.$answer"
}

mirror() {
  : "${ROLE_LABEL:?ROLE_LABEL is not set}"
  last=''
  while :; do
    role="$(cat "$GROUP_DIR/role" 2>/dev/null || echo none)"
    if [ "$role" != "$last" ]; then
      code="$(kube_label_pod "$POD" "$ROLE_LABEL" "$role")"
      if [ "$code" = 200 ]; then
        log "mysql: labelled $POD $ROLE_LABEL=$role"
        last="$role"
      else
        log "mysql: labelling $POD $ROLE_LABEL=$role got HTTP $code; retrying"
      fi
    fi
    if [ -f "$GROUP_DIR/lease.request" ] && [ ! -f "$GROUP_DIR/lease.granted" ] && [ ! -f "$GROUP_DIR/lease.denied" ]; then
      take "$(cat "$GROUP_DIR/lease.request")"
    fi
    sleep "${LABEL_INTERVAL:-1}"
  done
}

# PID 1 of its container: without a handler SIGTERM would be ignored until the grace period ends
trap 'exit 0' TERM INT
mkdir -p "$GROUP_DIR"
case "${1:-}" in
  lease) decide ;;
  label) KUBE_BODY="$GROUP_DIR/.label.body" mirror ;;
  *) log "usage: $0 lease|label"; exit 1 ;;
esac
