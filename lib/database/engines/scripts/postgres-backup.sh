#!/usr/bin/env bash
# PostgreSQL with `backup`, the sidecar `backup` of every member (pgBackRest, docs/engines.md).
#   postgres-backup.sh        the scheduler: on the member that backs up (BACKUP_MEMBER: primary =
#                             the first ordinal; with PRIMARY_BY=patroni, the member whose Patroni
#                             leads, asked at every tick), creates the stanza once the server answers, then
#                             takes a full backup whenever the cron schedule BACKUP_SCHEDULE (UTC)
#                             fires; other members only keep their config current. With
#                             BACKUP_MEMBER=replica, every member also runs pgBackRest's TLS server
#                             (BACKUP_TLS_PORT) and the primary's backup reads the files of a
#                             healthy replica through it (backup-standby), one of Patroni's view
#                             with Patroni, else of the primary's pg_stat_replication; the
#                             primary's files only when none is healthy.
#   postgres-backup.sh now    one full backup at once (the same steps), e.g. a drill:
#                             kubectl exec <pod> -c backup -- bash /opt/cdk8s-stateful/postgres-backup.sh now
# Each backup's outcome is logged, kept in $RUN_DIR/backup-status (last success: end time,
# duration, size) and recorded in the table cdk8s_stateful.backup_status of the `postgres`
# database (one row per repository: since when it backs up there, the last success's end time,
# duration and size, the last failure, the failures since the last success), which the pg_monitor
# role may read: postgres_exporter's query of it (lib/monitoring/exporters.ts) turns it into
# metrics for the backup alerts. The table replicates, so every member's exporter reports it.
set -euo pipefail
# shellcheck source=common.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/common.sh"
# shellcheck source=pgbackrest.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/pgbackrest.sh"
# shellcheck source=cron.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/cron.sh"

RUN_DIR="${RUN_DIR:-/var/run/postgresql}"
CONFIG="${PGBACKREST_CONFIG:-$RUN_DIR/pgbackrest.conf}"
export PGBACKREST_CONFIG="$CONFIG"

# stanza: creates the stanza (idempotent) once the server accepts connections on its socket
stanza() {
  until pg_isready -q -h "$RUN_DIR" -p "${POSTGRES_PORT:-5432}"; do sleep "${POLL_SECONDS:-2}"; done
  pgbackrest --stanza="$STANZA" stanza-create
}

# status_sql [VAR=VALUE...]: runs the SQL on stdin as the superuser over the socket, with psql
# variables (repo: this repository); a failure is logged, never fatal: the status is a report
status_sql() {
  local out
  out="$(psql --no-psqlrc -q -At -v ON_ERROR_STOP=1 -h "$RUN_DIR" -p "${POSTGRES_PORT:-5432}" -U "${POSTGRES_USER:-postgres}" -d postgres \
    -v "repo=${BACKUP_ENDPOINT:-}/${BACKUP_BUCKET:-}${BACKUP_PATH:-}" "${@/#/--set=}" 2>&1)" ||
    log "backup: could not record the backup status in cdk8s_stateful.backup_status: $out"
}

# status_table: the status table, readable by pg_monitor, with this repository's row (since now
# if new); rows of other repositories (a set restored from another's backups) are dropped
status_table() {
  status_sql <<'SQL'
CREATE SCHEMA IF NOT EXISTS cdk8s_stateful;
CREATE TABLE IF NOT EXISTS cdk8s_stateful.backup_status (
  repository text PRIMARY KEY,
  since timestamptz NOT NULL DEFAULT now(),
  last_success timestamptz,
  last_duration_seconds double precision,
  last_size_bytes double precision,
  last_failure timestamptz,
  failures bigint NOT NULL DEFAULT 0);
GRANT USAGE ON SCHEMA cdk8s_stateful TO pg_monitor;
GRANT SELECT ON cdk8s_stateful.backup_status TO pg_monitor;
DELETE FROM cdk8s_stateful.backup_status WHERE repository <> :'repo';
INSERT INTO cdk8s_stateful.backup_status (repository) VALUES (:'repo') ON CONFLICT DO NOTHING;
SQL
}

# psql_at SQL: one value, as the superuser over the socket
psql_at() {
  psql --no-psqlrc -qAt -v ON_ERROR_STOP=1 -h "$RUN_DIR" -p "${POSTGRES_PORT:-5432}" -U "${POSTGRES_USER:-postgres}" -d postgres -c "$1"
}

# full_backup: a full backup (the stanza first); with BACKUP_MEMBER=replica, read from
# the replica backup_source names (a backup from it that fails is taken again from the primary at
# once), else from this member, the primary
full_backup() {
  local source view=pg_stat_replication
  stanza || return 1
  if [ "${PRIMARY_BY:-}" = patroni ]; then view=Patroni; fi
  if [ "${BACKUP_MEMBER:-primary}" = replica ]; then
    if ! source="$(backup_source)"; then
      log "backup: the replicas' state ($view) could not be read (above): reading the files from the primary"
    elif [ -z "$source" ]; then
      log "backup: no replica is healthy ($view: streaming, at most ${BACKUP_REPLICA_LAG_MAX:-16777216} bytes behind): reading the files from the primary"
    else
      read -r -a source <<<"$source"
      log "backup: reading the files from the replica ${source[0]} ($view: ${source[1]}, streaming, ${source[2]} bytes behind); the primary starts and stops the backup"
      pgbackrest --stanza="$STANZA" --type=full "${source[@]:3}" backup && return 0
      log "backup: the backup reading the replica ${source[0]} failed (above): taken again from the primary"
    fi
  fi
  pgbackrest --stanza="$STANZA" --type=full backup
}

# backup_source: the replica a backup reads (patroni_replica or streaming_replica): prints its name,
# role, lag and pgBackRest's options that read its files through its TLS server; nothing when none
# is healthy. Fails when the replicas' state cannot be read.
backup_source() {
  local chosen name role lag dns
  if [ "${PRIMARY_BY:-}" = patroni ]; then chosen="$(patroni_replica)"; else chosen="$(streaming_replica)"; fi || return 1
  [ -n "$chosen" ] || return 0
  read -r name role lag dns <<<"$chosen"
  printf '%s %s %s %s\n' "$name" "$role" "$lag" "$(standby_options "$dns")"
}

# streaming_replica: without Patroni, the replica a backup reads, from this member's (the primary's)
# pg_stat_replication: one of PEERS whose state is streaming and whose replay is at most
# BACKUP_REPLICA_LAG_MAX bytes behind, the least lag first, then the name. Prints its name, sync
# state, lag and DNS name; nothing when none is healthy. Fails when the server does not answer.
streaming_replica() {
  local lag_max="${BACKUP_REPLICA_LAG_MAX:-16777216}" rows name sync lag peer
  [[ "$lag_max" =~ ^[0-9]+$ ]] || die "backup: BACKUP_REPLICA_LAG_MAX='$lag_max' is not a number of bytes"
  rows="$(psql_at "SELECT application_name, sync_state, pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint AS lag
    FROM pg_stat_replication WHERE state = 'streaming' AND replay_lsn IS NOT NULL
    AND pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) <= $lag_max ORDER BY lag, application_name" | tr '|' ' ')" || {
    log "backup: pg_stat_replication could not be read"
    return 1
  }
  while read -r name sync lag; do
    for peer in ${PEERS:-}; do
      if [ -n "$name" ] && [ "${peer%%.*}" = "$name" ]; then printf '%s %s %s %s\n' "$name" "$sync" "$lag" "$peer"; return 0; fi
    done
  done <<<"$rows"
}

# patroni_replica: with Patroni, the replica a backup reads, from this member's Patroni (GET /cluster,
# its view of the members, the one its failover decisions use): one whose state is streaming and lag
# at most BACKUP_REPLICA_LAG_MAX bytes, an asynchronous one before a synchronous standby (whose reads
# would slow the commits waiting for it), then the least lag, then the name. Prints its name, role,
# lag and DNS name; nothing when none is healthy. Fails when Patroni does not answer.
patroni_replica() {
  local body
  # shellcheck disable=SC2016 # expanded by the inner bash
  body="$(timeout "${PROBE_TIMEOUT:-5}" bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0"; printf "GET /cluster HTTP/1.0\r\n\r\n" >&3; cat <&3' \
    "${PATRONI_PORT:-8008}" 2>/dev/null)" || { log "backup: Patroni's REST API did not answer GET /cluster"; return 1; }
  PEERS="${PEERS:-}" LAG_MAX="${BACKUP_REPLICA_LAG_MAX:-16777216}" python3 -c '
import json, os, sys
head, _, body = sys.stdin.read().partition("\r\n\r\n")
if not head.split(" ")[1:2] == ["200"]:
    sys.exit("GET /cluster answered " + head.splitlines()[0] if head else "GET /cluster: no answer")
peers = {p.split(".")[0]: p for p in os.environ["PEERS"].split()}
ok = [m for m in json.loads(body).get("members", [])
      if m.get("role") in ("replica", "sync_standby", "quorum_standby") and m.get("state") == "streaming"
      and isinstance(m.get("lag"), int) and m["lag"] <= int(os.environ["LAG_MAX"]) and m.get("name") in peers]
ok.sort(key=lambda m: (m["role"] != "replica", m["lag"], m["name"]))
if ok:
    print(ok[0]["name"], ok[0]["role"], ok[0]["lag"], peers[ok[0]["name"]])' <<<"$body"
}

# standby_options DNS: pgBackRest's options of a backup reading the files of the replica at DNS (its
# TLS server, this member's certificate; the same paths and port in every member)
standby_options() {
  local tls="$RUN_DIR/pgbackrest-tls"
  printf '%s ' --backup-standby=y "--pg2-host=$1" --pg2-host-type=tls "--pg2-host-port=${BACKUP_TLS_PORT:-8432}" \
    "--pg2-host-ca-file=$tls/ca.crt" "--pg2-host-cert-file=$tls/member.crt" "--pg2-host-key-file=$tls/member.key" \
    "--pg2-path=$PGDATA" "--pg2-socket-path=$RUN_DIR" "--pg2-port=${POSTGRES_PORT:-5432}"
}

# serve_peers: with BACKUP_MEMBER=replica, pgBackRest's TLS server on
# BACKUP_TLS_PORT (its own config file), through which the primary's backups read this member's
# files while it is a replica; only a client with a certificate of the set's CA gets in. Started
# again at the next tick when it has stopped.
serve_peers() {
  if [ -n "${SERVER_PID:-}" ] && kill -0 "$SERVER_PID" 2>/dev/null; then return 0; fi
  if [ -n "${SERVER_PID:-}" ]; then log "backup: pgBackRest's TLS server (pid $SERVER_PID) stopped: started again"; fi
  pgbackrest --config="$RUN_DIR/pgbackrest-server.conf" server &
  SERVER_PID=$!
}

# server_config: the TLS files (pgbackrest_tls: the CA derived from the replication password) and
# the server's config: the member's own, plus where it listens and who may connect
server_config() {
  local password dns="" peer tls="$RUN_DIR/pgbackrest-tls"
  read_secret password REPLICATION_KEY
  for peer in ${PEERS:-}; do if [ "${peer%%.*}" = "${HOSTNAME%%.*}" ]; then dns="$peer"; fi; done
  [ -n "$dns" ] || die "backup: this pod (${HOSTNAME:-}) is not in PEERS (${PEERS:-}): its certificate needs its DNS name"
  printf '%s' "$password" | pgbackrest_tls "$tls" "${SCOPE:?SCOPE is not set}" "$dns"
  pgbackrest_write_config "$RUN_DIR/pgbackrest-server.conf" BACKUP
  (
    umask 077
    printf '%s\n' '' '[global:server]' 'tls-server-address=0.0.0.0' "tls-server-port=${BACKUP_TLS_PORT:-8432}" \
      "tls-server-cert-file=$tls/member.crt" "tls-server-key-file=$tls/member.key" "tls-server-ca-file=$tls/ca.crt" \
      "tls-server-auth=pgbackrest=$STANZA" >>"$RUN_DIR/pgbackrest-server.conf"
  )
}

# backup_once: a full backup, its outcome logged and in backup-status
backup_once() {
  local started ended size
  started="$(date +%s)"
  # the row first: `since` is no later than the first attempt (the server may not answer yet: again below)
  status_table
  if ! full_backup; then
    log "backup: FAILED after $(($(date +%s) - started))s (see the pgBackRest output above)"
    printf 'last_failure=%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >>"$RUN_DIR/backup-status"
    status_table
    status_sql <<<"UPDATE cdk8s_stateful.backup_status SET last_failure = now(), failures = failures + 1 WHERE repository = :'repo';"
    return 1
  fi
  ended="$(date +%s)"
  # the last backup's size in the repository (compressed): info's JSON, without a JSON tool
  size="$(pgbackrest --stanza="$STANZA" --output=json info | grep -o '"repository":{"delta":[0-9]*,"size":[0-9]*' | tail -n 1 | sed 's/.*"size"://')" || true
  size="${size:-unknown}"
  log "backup: full backup done in $((ended - started))s, ${size} bytes in the repository"
  printf 'last_success=%s\nduration_seconds=%s\nsize_bytes=%s\n' "$(date -u -d "@$ended" +%Y-%m-%dT%H:%M:%SZ)" "$((ended - started))" "$size" >"$RUN_DIR/backup-status.tmp"
  mv -f "$RUN_DIR/backup-status.tmp" "$RUN_DIR/backup-status"
  status_table
  status_sql ended="$ended" duration="$((ended - started))" size="$size" <<'SQL'
UPDATE cdk8s_stateful.backup_status SET last_success = to_timestamp(:ended), last_duration_seconds = :duration,
  last_size_bytes = nullif(:'size', 'unknown')::double precision, failures = 0 WHERE repository = :'repo';
SQL
}

# patroni_leads: whether this member's Patroni holds the leader lock with a running primary: its
# REST API (PATRONI_PORT, in this pod) answers GET /primary with 200, other members with 503
patroni_leads() {
  local status
  # shellcheck disable=SC2016 # expanded by the inner bash
  status="$(timeout "${PROBE_TIMEOUT:-5}" bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0"; printf "GET /primary HTTP/1.0\r\n\r\n" >&3; head -n 1 <&3' \
    "${PATRONI_PORT:-8008}" 2>/dev/null)" || return 1
  [[ "$status" =~ ^HTTP/1\.[01]\ 200 ]]
}

# backs_up: whether this member takes the scheduled backups
backs_up() {
  case "${BACKUP_MEMBER:-primary}" in
    # the primary decides and starts the backup; the files come from a replica (full_backup)
    primary | replica) if [ "${PRIMARY_BY:-}" = patroni ]; then patroni_leads; else [ "$(pod_ordinal)" -eq "$(start_ordinal)" ]; fi ;;
    *) die "backup: BACKUP_MEMBER='${BACKUP_MEMBER}' is not one this preset runs (primary or replica)" ;;
  esac
}

pgbackrest_write_config "$CONFIG" BACKUP
if [ "${BACKUP_MEMBER:-primary}" = replica ] && [ "${1:-}" != now ]; then server_config; fi
if [ "${1:-}" = now ]; then
  if [ "${PRIMARY_BY:-}" = patroni ] && ! patroni_leads; then
    die "backup: this member does not lead (Patroni's /primary says no): a backup starts on the primary. Fix: run it in the pod labelled ${ROLE_LABEL:-cdk8s-stateful.dev/role}=primary"
  fi
  backup_once
  exit
fi
: "${BACKUP_SCHEDULE:?BACKUP_SCHEDULE is not set: the preset sets it from backup.schedule}"
# leader_ready: with Patroni, once this member leads (at start or after a failover): the stanza
# (archive_command needs it) and the status row, then the archive's gap closed, once per lead
leader_ready() {
  if ! patroni_leads; then
    rm -f "$RUN_DIR/backup-leads" "$RUN_DIR/backup-gap-closed"
    return 0
  fi
  if [ ! -e "$RUN_DIR/backup-leads" ]; then
    log "backup: this member leads: it takes the scheduled backups"
    if stanza; then touch "$RUN_DIR/backup-leads"; else log "backup: the stanza could not be created yet (see above); tried again in a minute"; fi
    status_table
  fi
  if [ -e "$RUN_DIR/backup-leads" ] && [ ! -e "$RUN_DIR/backup-gap-closed" ]; then
    if close_archive_gap; then touch "$RUN_DIR/backup-gap-closed"; else log "backup: the archive's gap is not closed yet (see above); tried again in a minute"; fi
  fi
}

# close_archive_gap: once this member leads after a failover, the WAL segments of the earlier
# timelines that it received as a standby and the archive lacks, pushed by pgBackRest
# (synchronously): those the lost primary had filled but not archived, which no member would archive
# (archive_mode = on does not archive on a standby) and a restore could not replay past. Only the
# segments before each timeline's switch point (this timeline's history file) are pushed: the
# history the cluster goes on from, received whole from the old primary (the segment of the switch
# point is the next timeline's); a segment already in the archive is left alone.
close_archive_gap() {
  local tl size listed parent lsn end seg name segno missing=0 pushed=0
  tl="$(psql_at "SELECT substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)")" || return 1
  [ -f "$PGDATA/pg_wal/$tl.history" ] || return 0 # the first timeline: no failover yet
  size="$(psql_at "SELECT setting FROM pg_settings WHERE name = 'wal_segment_size'")" || return 1
  listed="$(pgbackrest --stanza="$STANZA" repo-ls "archive/$STANZA" --recurse)" || return 1
  while read -r parent lsn _; do
    [[ "$parent" =~ ^[0-9]+$ && "$lsn" =~ ^[0-9A-Fa-f]+/[0-9A-Fa-f]+$ ]] || continue
    end=$((((16#${lsn%/*} << 32) + 16#${lsn#*/}) / size))
    for seg in "$PGDATA/pg_wal/$(printf '%08X' "$parent")"????????????????; do
      name="${seg##*/}"
      [[ -f "$seg" && "$name" =~ ^[0-9A-F]{24}$ ]] || continue
      segno=$((16#${name:8:8} * (0x100000000 / size) + 16#${name:16:8}))
      if [ "$segno" -ge "$end" ] || grep -q "/$name-" <<<"$listed"; then continue; fi
      missing=$((missing + 1))
      if pgbackrest --stanza="$STANZA" --no-archive-async archive-push "$seg"; then pushed=$((pushed + 1)); fi
    done
  done <"$PGDATA/pg_wal/$tl.history"
  if [ "$missing" -gt 0 ]; then log "backup: the archive lacked $missing segment(s) of the timelines before $tl, which this member received as a standby: $pushed pushed"; fi
  [ "$pushed" -eq "$missing" ]
}

if [ "${PRIMARY_BY:-}" = patroni ]; then
  log "backup: full backups at '$BACKUP_SCHEDULE' (UTC) to the repository, by the member Patroni leads with"
  rm -f "$RUN_DIR/backup-leads"
  leader_ready
elif backs_up; then
  log "backup: full backups at '$BACKUP_SCHEDULE' (UTC) to the repository"
  stanza || log "backup: the stanza could not be created yet (see above); the next scheduled backup tries again"
  status_table
else
  log "backup: member $(pod_ordinal) does not take the scheduled backups (BACKUP_MEMBER=${BACKUP_MEMBER:-primary})"
fi
if [ "${BACKUP_MEMBER:-primary}" = replica ]; then serve_peers; fi
while :; do
  # wake at the start of the next minute, as cron does
  sleep "$((60 - $(date +%s) % 60))"
  if [ "${BACKUP_MEMBER:-primary}" = replica ]; then serve_peers; fi
  if [ "${PRIMARY_BY:-}" = patroni ]; then leader_ready; fi
  if backs_up && cron_matches "$BACKUP_SCHEDULE" "$(date -u '+%M %H %d %m %w')"; then
    backup_once || true
  fi
done
