# shellcheck shell=bash
# pgBackRest for the PostgreSQL preset: its config files and the cron matcher of the backup
# sidecar. Sourced (after common.sh), never executed.
#
# A repository is described by environment variables with a prefix, BACKUP (where this set backs
# up to) or RESTORE (the set it is created from): <P>_BUCKET, <P>_ENDPOINT (host[:port], HTTPS),
# <P>_REGION, <P>_PATH, <P>_URI_STYLE (path|host), and the credentials Secret's files
# <P>_S3_ACCESS_KEY_ID_FILE, <P>_S3_ACCESS_KEY_FILE and optionally <P>_CA_FILE. The config files hold the keys:
# they are written with umask 077 into RUN_DIR, an emptyDir of the pod, never into the image.

STANZA="${PGBACKREST_STANZA:-db}"

# repo_var PREFIX NAME: the value of <PREFIX>_<NAME>, empty when unset
repo_var() {
  local __n="${1}_$2"
  printf '%s' "${!__n:-}"
}

# pgbackrest_repo_lines PREFIX: the repo1-* lines of the repository that PREFIX describes
pgbackrest_repo_lines() {
  local p="$1" var key secret endpoint host port
  for var in BUCKET ENDPOINT REGION PATH URI_STYLE S3_ACCESS_KEY_ID_FILE S3_ACCESS_KEY_FILE; do
    [ -n "$(repo_var "$p" "$var")" ] || die "pgbackrest: ${p}_${var} is not set: the preset sets it from the repository's props"
  done
  key="$(<"$(repo_var "$p" S3_ACCESS_KEY_ID_FILE)")" || die "pgbackrest: cannot read the access key id (${p}_S3_ACCESS_KEY_ID_FILE)"
  secret="$(<"$(repo_var "$p" S3_ACCESS_KEY_FILE)")" || die "pgbackrest: cannot read the secret access key (${p}_S3_ACCESS_KEY_FILE)"
  if [ -z "$key" ] || [ -z "$secret" ]; then
    die "pgbackrest: an S3 key of the credentials Secret is empty (${p}_S3_ACCESS_KEY_ID_FILE, ${p}_S3_ACCESS_KEY_FILE). Fix: put the keys in the Secret."
  fi
  require_single_line "the S3 access key id" "$key"
  require_single_line "the S3 secret access key" "$secret"
  endpoint="$(repo_var "$p" ENDPOINT)"
  host="${endpoint%%:*}"
  port=443
  if [ "$host" != "$endpoint" ]; then port="${endpoint##*:}"; fi
  printf '%s\n' 'repo1-type=s3' \
    "repo1-s3-bucket=$(repo_var "$p" BUCKET)" \
    "repo1-s3-endpoint=$host" \
    "repo1-storage-port=$port" \
    "repo1-s3-region=$(repo_var "$p" REGION)" \
    "repo1-s3-uri-style=$(repo_var "$p" URI_STYLE)" \
    "repo1-path=$(repo_var "$p" PATH)" \
    "repo1-s3-key=$key" \
    "repo1-s3-key-secret=$secret"
  if [ -n "$(repo_var "$p" CA_FILE)" ]; then echo "repo1-storage-ca-file=$(repo_var "$p" CA_FILE)"; fi
}

# pgbackrest_write_config FILE PREFIX: the config of the repository PREFIX and this member's data
# directory. With BACKUP: asynchronous archiving through a spool directory (SPOOL_DIR) with a
# bounded queue (ARCHIVE_QUEUE_MAX: beyond it WAL is dropped from the archive, never piled up
# until the disk is full) and the retention of full backups (RETAIN_FULL).
pgbackrest_write_config() {
  local file="$1" prefix="$2" run="${RUN_DIR:-/var/run/postgresql}"
  mkdir -p "$(dirname "$file")" "$run/pgbackrest-lock"
  (
    umask 077
    {
      echo '[global]'
      echo 'log-level-console=info'
      echo 'log-level-stderr=off'
      echo 'log-level-file=off'
      echo "lock-path=$run/pgbackrest-lock"
      echo 'compress-type=zst'
      echo 'start-fast=y'
      echo 'process-max=2'
      if [ "$prefix" = BACKUP ]; then
        mkdir -p "${SPOOL_DIR:?SPOOL_DIR is not set}"
        echo 'archive-async=y'
        echo "spool-path=$SPOOL_DIR"
        echo "archive-push-queue-max=${ARCHIVE_QUEUE_MAX:-1GiB}"
        echo "repo1-retention-full=${RETAIN_FULL:-2}"
      fi
      pgbackrest_repo_lines "$prefix"
      echo
      echo "[$STANZA]"
      echo "pg1-path=${PGDATA:?PGDATA is not set}"
      echo "pg1-socket-path=$run"
      echo "pg1-port=${POSTGRES_PORT:-5432}"
    } >"$file.tmp"
  )
  mv -f "$file.tmp" "$file"
}

# cron_field_matches FIELD VALUE MIN MAX: whether VALUE is in the cron FIELD (checked at synth:
# numbers, '*', ranges a-b, steps /n, comma lists)
cron_field_matches() {
  local value=$((10#$2)) min="$3" max="$4" part range step lo hi
  local -a parts
  # split on commas into an array: a bare `for` over the field would expand `*` as a glob
  IFS=, read -r -a parts <<<"$1"
  for part in "${parts[@]}"; do
    step=1 range="$part"
    if [[ "$part" == */* ]]; then step="${part#*/}" range="${part%/*}"; fi
    if [ "$range" = '*' ]; then lo="$min" hi="$max"
    elif [[ "$range" == *-* ]]; then lo="${range%-*}" hi="${range#*-}"
    elif [[ "$part" == */* ]]; then lo="$range" hi="$max"
    else lo="$range" hi="$range"; fi
    if [ "$value" -ge "$((10#$lo))" ] && [ "$value" -le "$((10#$hi))" ] && [ $(((value - 10#$lo) % step)) -eq 0 ]; then
      return 0
    fi
  done
  return 1
}

# cron_matches SCHEDULE 'MINUTE HOUR DAY MONTH WEEKDAY': whether the schedule fires at that time.
# As cron: when both the day of month and the day of week are restricted, either one matching is
# enough; a day of week 7 is Sunday, as 0.
cron_matches() {
  local -a f t
  read -r -a f <<<"$1"
  read -r -a t <<<"$2"
  cron_field_matches "${f[0]}" "${t[0]}" 0 59 || return 1
  cron_field_matches "${f[1]}" "${t[1]}" 0 23 || return 1
  cron_field_matches "${f[3]}" "${t[3]}" 1 12 || return 1
  local dom=1 dow=1
  cron_field_matches "${f[2]}" "${t[2]}" 1 31 || dom=0
  { cron_field_matches "${f[4]}" "${t[4]}" 0 7 || { [ "$((10#${t[4]}))" -eq 0 ] && cron_field_matches "${f[4]}" 7 0 7; }; } || dow=0
  if [ "${f[2]}" != '*' ] && [ "${f[4]}" != '*' ]; then
    [ "$dom" -eq 1 ] || [ "$dow" -eq 1 ]
  else
    [ "$dom" -eq 1 ] && [ "$dow" -eq 1 ]
  fi
}
