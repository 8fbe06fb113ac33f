#!/bin/sh
# ZooKeeper, sidecar `members` (API client image: sh and curl): keeps the StatefulSet's replica
# count, as the API server has it, in REPLICAS_FILE every few seconds, for zookeeper-members.sh (the
# leader removes the members a scale-down took away). Nothing is written while the API server does
# not answer: the members then remove nobody.
set -u
# shellcheck source=kube-api.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/kube-api.sh"

: "${SET_NAME:?SET_NAME is not set}" "${REPLICAS_FILE:?REPLICAS_FILE is not set}"
path="/apis/apps/v1/namespaces/$(kube_namespace)/statefulsets/$SET_NAME"
last=''
while :; do
  code="$(kube_request GET "$path")"
  replicas=''
  if [ "$code" = 200 ]; then
    replicas="$(tr -d '\n ' <"$KUBE_BODY" | grep -o '"spec":{"replicas":[0-9]*' | head -n 1 | sed 's/.*://')"
  fi
  if [ -n "$replicas" ]; then
    put "$REPLICAS_FILE" "$replicas"
    [ "$replicas" = "$last" ] || log "StatefulSet $SET_NAME has $replicas replicas"
    last="$replicas"
  else
    log "cannot read StatefulSet $SET_NAME (HTTP $code); asking again"
  fi
  sleep "${REPLICAS_INTERVAL:-3}"
done
