#!/bin/sh
# Redis with Sentinel: the Kubernetes side of a member, in the API client image (a POSIX shell and
# curl; kube-api.sh). Acts on this pod (POD_NAME, through the downward API) and on the Lease
# SET_NAME-founded only.
#   founded   (init container) whether the set was ever founded: CONFIG_DIR/founded gets `present`
#             (the Lease exists), `absent` (the API server says it does not) or `unknown` (no
#             answer within about 30 s). redis-sentinel-start.sh founds a new set, and
#             redis-restore.sh restores one, only on `absent`. With restoreFrom
#             (RESTORE_DATA_MARKERS set: the paths of which any exists once the member holds data),
#             the member that may restore (the first ordinal, START_ORDINAL, with none of them)
#             needs a definite answer: it asks until the API server gives one.
#   keep      (sidecar) mirrors the local server's role, as the sentinel container reports it in
#             CONFIG_DIR/role, into the pod's label ROLE_LABEL: `primary` for a master, else
#             `replica`; the client Service selects the primary, the read Service the replicas.
#             A report older than ROLE_STALE_SECONDS counts as unknown: the sentinel container
#             rewrites it every second, so an old one was left by a container that was killed
#             (SIGKILL writes no `unknown`), and a restarting server must not come back Ready under
#             its old `primary` label, answering reads from data the new master has moved past.
#             Before a member is labelled primary for the first time, the Lease that says the set
#             was founded is created (the API server lets exactly one creation succeed; an existing
#             Lease is as good): from then on no member founds the set again.
set -u
# shellcheck source=kube-api.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/kube-api.sh"

CONFIG_DIR="${CONFIG_DIR:-/etc/redis}"
: "${SET_NAME:?SET_NAME is not set}"
POD="${POD_NAME:-}"
LEASE="$SET_NAME-founded"

# may_restore: whether this member may restore a snapshot (see above): it never guesses
may_restore() {
  [ -n "${RESTORE_DATA_MARKERS:-}" ] || return 1
  ordinal="${POD_INDEX:-}"
  if [ -z "$ordinal" ]; then
    # shellcheck disable=SC3028 # the container runtime sets HOSTNAME (the pod's name)
    host="${HOSTNAME:-$(cat /etc/hostname)}"
    host="${host%%.*}"
    ordinal="${host##*-}"
  fi
  [ "$ordinal" = "${START_ORDINAL:-0}" ] || return 1
  for marker in $RESTORE_DATA_MARKERS; do
    [ -e "$marker" ] && return 1
  done
  return 0
}

founded() {
  tries=0
  while :; do
    code="$(kube_request GET "$(kube_lease_path "$LEASE")")"
    case "$code" in
      200) put "$CONFIG_DIR/founded" present; log "redis: the set was founded (Lease $LEASE)"; return 0 ;;
      404) put "$CONFIG_DIR/founded" absent; log "redis: the set was never founded (no Lease $LEASE)"; return 0 ;;
    esac
    tries=$((tries + 1))
    if [ "$tries" -ge "${FOUNDED_TRIES:-15}" ] && ! may_restore; then
      put "$CONFIG_DIR/founded" unknown
      log "redis: cannot read Lease $LEASE (HTTP $code): a member without data will wait for a Sentinel"
      return 0
    fi
    [ $((tries % 15)) -eq 0 ] && log "redis: cannot read Lease $LEASE (HTTP $code): this member may restore the set from a snapshot, which needs the answer: asking again every 2 s"
    sleep 2
  done
}

# role: the server's role as last reported, or unknown when the report is missing or stale
role() {
  reported="$(stat -c %Y "$CONFIG_DIR/role" 2>/dev/null || echo 0)"
  if [ $(($(date +%s) - reported)) -gt "${ROLE_STALE_SECONDS:-10}" ]; then
    echo unknown
  else
    cat "$CONFIG_DIR/role" 2>/dev/null || echo unknown
  fi
}

keep() {
  [ -n "$POD" ] || { log "redis: POD_NAME is not set: the keeper labels its own pod by name"; exit 1; }
  : "${ROLE_LABEL:?ROLE_LABEL is not set}"
  labelled='' since=0
  while :; do
    role="$(role)"
    want=replica
    [ "$role" = master ] && want=primary
    if [ "$want" = primary ] && [ "$(cat "$CONFIG_DIR/founded" 2>/dev/null)" != present ]; then
      code="$(kube_lease_create "$LEASE" "$POD")"
      case "$code" in
        201 | 409) put "$CONFIG_DIR/founded" present; log "redis: recorded that the set was founded (Lease $LEASE, HTTP $code)" ;;
        *) log "redis: cannot create Lease $LEASE (HTTP $code): not labelled primary yet"; sleep 1; continue ;;
      esac
    fi
    # the label again now and then: another hand may have changed it
    if [ "$want" != "$labelled" ] || [ "$since" -ge "${RELABEL_SECONDS:-60}" ]; then
      code="$(kube_label_pod "$POD" "$ROLE_LABEL" "$want")"
      if [ "$code" = 200 ]; then
        [ "$want" != "$labelled" ] && log "redis: labelled $POD $ROLE_LABEL=$want (the server's role: $role)"
        labelled="$want" since=0
      else
        log "redis: cannot label $POD $ROLE_LABEL=$want (HTTP $code)"
      fi
    fi
    since=$((since + 1))
    sleep "${KEEP_SECONDS:-1}"
  done
}

case "${1:-keep}" in
  founded) founded ;;
  keep) keep ;;
  *) log "usage: $0 founded|keep"; exit 2 ;;
esac
