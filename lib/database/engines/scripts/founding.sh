#!/bin/sh
# Whether the set was ever founded, decided by the API server (init container `founding`, on the
# API client image: a POSIX shell and curl; kube-api.sh). The answer goes to FOUNDED_FILE, which
# the engine's own init script reads before it lets an empty first member start a new data set:
#   found    this member founds the set: it created the Lease SET_NAME-founded just now, or it
#            created it earlier from this same volume (its founding did not get as far as data)
#   present  the set was founded from another volume: an empty member copies a member with data
#            and never starts a new data set, however long its peers refuse connections or stay
#            silent (loading, crash-looping, partitioned)
#   absent   (a later member with no data) the set has no Lease yet; nothing to decide here
# The Lease's holder is the founding volume's id, a random id this script writes once at the root
# of the data volume (VOLUME_ID_FILE): a replaced, empty volume gets a new one. A member that holds
# data (any of DATA_MARKERS exists) and finds no Lease creates it: a set from before the Lease, or
# one whose first member has not started yet, is recorded as founded before an empty first member
# can decide. The API server lets exactly one creation succeed; no peer is ever polled.
# Environment: SET_NAME, POD_NAME, FOUNDING_ORDINAL (the first ordinal), FOUNDED_FILE,
# VOLUME_ID_FILE, DATA_MARKERS (space-separated paths).
set -u
# shellcheck source=kube-api.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/kube-api.sh"

: "${SET_NAME:?SET_NAME is not set}" "${POD_NAME:?POD_NAME is not set}" "${FOUNDED_FILE:?FOUNDED_FILE is not set}"
: "${VOLUME_ID_FILE:?VOLUME_ID_FILE is not set}" "${FOUNDING_ORDINAL:?FOUNDING_ORDINAL is not set}"
LEASE="$SET_NAME-founded"
ORDINAL="${POD_NAME##*-}"

holds_data() {
  for marker in ${DATA_MARKERS:-}; do
    [ -e "$marker" ] && return 0
  done
  return 1
}

# volume_id: this volume's id, made once
volume_id() {
  if [ ! -s "$VOLUME_ID_FILE" ]; then
    put "$VOLUME_ID_FILE" "$(cat /proc/sys/kernel/random/uuid)" || return 1
  fi
  cat "$VOLUME_ID_FILE"
}

decide() {
  id="$(volume_id)" || id=''
  if [ -z "$id" ]; then
    log "cannot write the volume id $VOLUME_ID_FILE"
    exit 1
  fi
  waited=0
  while :; do
    code="$(kube_request GET "$(kube_lease_path "$LEASE")")"
    case "$code" in
      200)
        holder="$(kube_field holderIdentity)"
        if [ "$holder" = "$id" ]; then
          put "$FOUNDED_FILE" found
          log "the set was founded from this volume ($id, Lease $LEASE)"
        else
          put "$FOUNDED_FILE" present
          log "the set was founded (Lease $LEASE, from volume $holder): an empty member copies a member with data, never starts a new data set"
        fi
        return 0 ;;
      404)
        if [ "$ORDINAL" != "$FOUNDING_ORDINAL" ] && ! holds_data; then
          put "$FOUNDED_FILE" absent
          log "no Lease $LEASE yet and no data here: this member copies the first member"
          return 0
        fi
        code="$(kube_lease_create "$LEASE" "$id")"
        case "$code" in
          201) log "created Lease $LEASE: $POD_NAME founds the set, from volume $id"; continue ;;
          409) continue ;;
        esac ;;
    esac
    # no answer, or one that says nothing: the decision waits for the API server, however long
    if [ $((waited % 30)) -eq 0 ]; then
      log "cannot read or create Lease $LEASE (HTTP $code: $(head -c 200 "$KUBE_BODY" 2>/dev/null)); asking again every 2 s"
    fi
    sleep 2
    waited=$((waited + 2))
  done
}

decide
