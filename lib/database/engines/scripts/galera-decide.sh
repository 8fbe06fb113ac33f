#!/bin/sh
# MariaDB Galera, init container `decide` (the API client image: sh and curl): decides whether this
# member bootstraps the cluster or joins it, under Lease LEASE_NAME, which the API server
# arbitrates (every change is made at the resourceVersion it was read at).
#
#   - A member of the set is Ready (Synced, so a Primary component runs): join it.
#   - Else record this member's position (RUN_DIR/galera-position, from the `recover` init
#     container) in the Lease, as annotation galera.cdk8s.io/m<ordinal> = "<round> <uuid> <seqno>
#     <safe_to_bootstrap> <data>", and elect, once, the member that bootstraps: holderIdentity.
#     Elected: the member with safe_to_bootstrap 1; else, once every member reported a recovered
#     position (or had no data), the highest seqno (lowest ordinal on a tie; all empty: a new
#     cluster, the lowest ordinal); else, once a majority of the members reported a recovered
#     position and ELECT_AFTER seconds passed since the first report, the highest of those (the
#     others are taken as gone: what only they committed is lost). An empty member never wins
#     over one with data; a member whose position could not be recovered is not taken for empty:
#     it holds the election back like a member that has not reported.
#   - The holder bootstraps (writes `bootstrap` to RUN_DIR/galera-decision); every other member
#     waits until a member is Ready, then joins (`join`). The first member that sees a Ready
#     member closes the round: the holder and positions are cleared, the round number goes up.
# A refused or unanswered request never counts as an answer: the member asks again.
set -eu
# shellcheck source=kube-api.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/kube-api.sh"

RUN_DIR="${RUN_DIR:-/run/mysqld}"
SET_NAME="${SET_NAME:?the StatefulSet name is missing}"
LEASE_NAME="${LEASE_NAME:-$SET_NAME-galera}"
POLL_SECONDS="${POLL_SECONDS:-2}"
ELECT_AFTER="${ELECT_AFTER:-120}"
A=galera.cdk8s.io

log() { printf '%s [cdk8s-stateful] galera: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }

# kube_lease_patch NAME RESOURCE_VERSION ANNOTATIONS SPEC: merges the JSON objects ANNOTATIONS (a
# null value removes one) and SPEC into Lease NAME only if it is still at RESOURCE_VERSION (the
# version sent in the patch is a precondition): 200, or 409 when someone changed it first.
kube_lease_patch() {
  kube_request PATCH "$(kube_lease_path "$1")" \
    "{\"metadata\":{\"resourceVersion\":\"$2\",\"annotations\":$3},\"spec\":$4}" application/merge-patch+json
}

self="${POD_INDEX:-}"
# shellcheck disable=SC3028 # the kubelet sets HOSTNAME to the pod name
[ -n "$self" ] || { self="${HOSTNAME%%.*}"; self="${self##*-}"; }
start="${START_ORDINAL:-0}"
# shellcheck disable=SC2086 # one word a member
set -- ${PEERS:?PEERS is empty}
n=$#
last=$((start + n - 1))
read -r uuid seqno safe data <"$RUN_DIR/galera-position"
mine="$uuid $seqno $safe $data"

decide() {
  put "$RUN_DIR/galera-decision" "$1"
  log "decision: $1"
  exit 0
}

# ready_member: prints the ordinal of a Ready member of the set, other than this one.
ready_member() {
  ns="$(kube_namespace)"
  i=$start
  while [ "$i" -le "$last" ]; do
    if [ "$i" != "$self" ] && [ "$(kube_request GET "/api/v1/namespaces/$ns/pods/$SET_NAME-$i")" = 200 ] &&
      tr -d '\n' <"$KUBE_BODY" | grep -o '{[^{}]*"type": *"Ready"[^{}]*}' | grep -q '"status": *"True"'; then
      echo "$i"
      return 0
    fi
    i=$((i + 1))
  done
  return 1
}

# close_round: clears the holder and the positions, next round (best effort: another member may).
close_round() {
  [ "$(kube_request GET "$(kube_lease_path "$LEASE_NAME")")" = 200 ] || return 0
  rv="$(kube_field resourceVersion)" round="$(kube_field "$A/round")"
  [ -n "$(kube_field holderIdentity)$(kube_field "$A/since")" ] || return 0
  ann="\"$A/round\":\"$((${round:-1} + 1))\",\"$A/since\":null"
  i=$start
  while [ "$i" -le "$last" ]; do ann="$ann,\"$A/m$i\":null"; i=$((i + 1)); done
  code="$(kube_lease_patch "$LEASE_NAME" "$rv" "{$ann}" '{"holderIdentity":null}')"
  log "closed bootstrap round ${round:-1} ($code)"
}

# elect ROUND SINCE: prints the ordinal that bootstraps, or fails while it cannot be decided.
elect() {
  reported=0 recovered=0 unknown=0 best="" bseq=-2 empty="" safe_one=""
  i=$start
  while [ "$i" -le "$last" ]; do
    # shellcheck disable=SC2046 # the annotation's words
    set -- $(kube_field "$A/m$i")
    if [ $# -eq 5 ] && [ "$1" = "$ROUND" ]; then
      reported=$((reported + 1))
      if [ "$5" = 1 ] && [ "$3" = -1 ]; then unknown=$((unknown + 1))
      elif [ "$5" = 1 ]; then
        recovered=$((recovered + 1))
        if [ "$4" = 1 ] && [ -z "$safe_one" ]; then safe_one=$i; fi
        if [ "$3" -gt "$bseq" ]; then best=$i bseq=$3; fi
      elif [ -z "$empty" ]; then empty=$i
      fi
    fi
    i=$((i + 1))
  done
  waited=$(($(date +%s) - ${SINCE:-$(date +%s)}))
  if [ -n "$safe_one" ]; then echo "$safe_one"; return 0; fi
  if [ "$reported" -eq "$n" ] && [ "$unknown" -eq 0 ]; then echo "${best:-$empty}"; return 0; fi
  if [ $((recovered * 2)) -gt "$n" ] && [ "$waited" -ge "$ELECT_AFTER" ]; then
    log "$recovered of $n members reported a position for ${waited}s: electing among them; what only the others committed is lost"
    echo "$best"; return 0
  fi
  if [ "${GALERA_FORCE_BOOTSTRAP:-0}" = 1 ] && [ "$recovered" -gt 0 ] && [ "$waited" -ge "$ELECT_AFTER" ]; then
    log "GALERA_FORCE_BOOTSTRAP=1: electing among $recovered of $n members"
    echo "$best"; return 0
  fi
  log "round $ROUND: $reported of $n members reported ($recovered with a position, $unknown unrecoverable); no member bootstraps yet"
  return 1
}

log "own position: $mine (uuid seqno safe_to_bootstrap data)"
while :; do
  if member="$(ready_member)"; then
    log "ordinal $member is Ready: a Primary component runs"
    close_round
    decide join
  fi
  code="$(kube_request GET "$(kube_lease_path "$LEASE_NAME")")"
  case "$code" in
    200) ;;
    404) log "creating Lease $LEASE_NAME ($(kube_lease_create "$LEASE_NAME" ""))"; continue ;;
    *) log "reading Lease $LEASE_NAME: HTTP $code; asking again"; sleep "$POLL_SECONDS"; continue ;;
  esac
  rv="$(kube_field resourceVersion)" holder="$(kube_field holderIdentity)"
  ROUND="$(kube_field "$A/round")" SINCE="$(kube_field "$A/since")"
  ROUND="${ROUND:-1}"
  if [ "$holder" = "$self" ]; then decide bootstrap; fi
  if [ -n "$holder" ]; then
    log "ordinal $holder bootstraps the cluster (round $ROUND); waiting for a Ready member"
    sleep "$POLL_SECONDS"; continue
  fi
  if [ "$(kube_field "$A/m$self")" != "$ROUND $mine" ]; then
    code="$(kube_lease_patch "$LEASE_NAME" "$rv" "{\"$A/round\":\"$ROUND\",\"$A/since\":\"${SINCE:-$(date +%s)}\",\"$A/m$self\":\"$ROUND $mine\"}" '{}')"
    [ "$code" = 200 ] || { log "recording the position: HTTP $code; again"; sleep 1; }
    continue
  fi
  if winner="$(elect)"; then
    code="$(kube_lease_patch "$LEASE_NAME" "$rv" '{}' "{\"holderIdentity\":\"$winner\"}")"
    log "round $ROUND: elected ordinal $winner to bootstrap the cluster (HTTP $code)"
    continue
  fi
  sleep "$POLL_SECONDS"
done
