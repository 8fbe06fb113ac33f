# shellcheck shell=bash
# The backups that are one object each (Redis snapshots, MariaDB Galera and MySQL physical
# backups), with `backup` or `restoreFrom`: the S3 repository through rclone. Sourced (after
# common.sh), never executed.
#
# A repository is described by environment variables with a prefix (s3-repository.sh); the store's
# certificate is always verified. The keys are read from the files at each call and handed to
# rclone in its own environment only: never on a command line, in a file or in the pod's environment.
#
# A snapshot is two objects of <P>_PATH: `<UTC time>.rdb` (e.g. 20260301T023000Z.rdb), then
# `<UTC time>.rdb.sha256` (`<sha256>  <name>`, as sha256sum writes it), uploaded only after the
# first is complete: a snapshot counts only once its checksum object exists. Galera's and MySQL's
# backups are named the same way with the suffixes `.mbstream` and `.tar`; ZooKeeper's carry a
# tag between the time and the suffix (`20260301T023000Z-zxid-100000a2f.tar`), which the functions
# below take as an extended regular expression TAG (no backslashes).

# shellcheck source=s3-repository.sh
. "${SCRIPTS_DIR:-$(dirname "${BASH_SOURCE[0]}")}/s3-repository.sh"

# s3_dir PREFIX: the repository's directory as an rclone path, with a trailing /
s3_dir() {
  printf ':s3:%s%s/' "$(repo_var "$1" BUCKET)" "$(repo_var "$1" PATH)"
}

# s3_url PREFIX [NAME]: the repository (or one of its objects) as people read it, for messages
s3_url() {
  printf 's3://%s/%s%s/%s' "$(repo_var "$1" ENDPOINT)" "$(repo_var "$1" BUCKET)" "$(repo_var "$1" PATH)" "${2:-}"
}

# s3 PREFIX RCLONE-ARGS...: rclone against the repository's store. Fails as rclone does.
s3() {
  local p="$1" ca=() REPO_KEY REPO_SECRET
  shift
  repo_keys "$p" s3
  if [ -n "$(repo_var "$p" CA_FILE)" ]; then ca=(--ca-cert "$(repo_var "$p" CA_FILE)"); fi
  # the AWS SDK inside rclone would read these from the environment or a home directory: none apply
  env -u AWS_CA_BUNDLE -u AWS_CONFIG_FILE -u AWS_SHARED_CREDENTIALS_FILE -u AWS_PROFILE -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
    RCLONE_S3_ACCESS_KEY_ID="$REPO_KEY" RCLONE_S3_SECRET_ACCESS_KEY="$REPO_SECRET" \
    RCLONE_S3_PROVIDER=Other RCLONE_S3_ENV_AUTH=false RCLONE_S3_NO_CHECK_BUCKET=true \
    RCLONE_S3_ENDPOINT="https://$(repo_var "$p" ENDPOINT)" RCLONE_S3_REGION="$(repo_var "$p" REGION)" \
    RCLONE_S3_FORCE_PATH_STYLE="$([ "$(repo_var "$p" URI_STYLE)" = path ] && echo true || echo false)" \
    XDG_CACHE_HOME="${TMPDIR:-/tmp}" \
    rclone --config /dev/null "${ca[@]}" --retries "${S3_RETRIES:-3}" --low-level-retries "${S3_LOW_LEVEL_RETRIES:-5}" \
    --contimeout "${S3_CONNECT_TIMEOUT:-15s}" --timeout "${S3_IO_TIMEOUT:-5m}" "$@"
}

# s3_objects PREFIX: the object names of the repository's directory (sizes first: `<size> <name>`),
# one a line. Fails when the store cannot be listed (an empty repository lists nothing).
s3_objects() {
  s3 "$1" lsf --files-only --format sp --separator ' ' "$(s3_dir "$1")"
}

# s3_snapshots PREFIX [SUFFIX] [TAG]: the complete snapshots (a `<UTC time><TAG><SUFFIX>`,
# `.rdb` and no tag by default, whose .sha256 exists), oldest first. TAG is an extended regular
# expression. The time is matched by grep: the mawk of Debian 12 (the official images' base) takes
# no interval expressions such as {8}.
s3_snapshots() {
  local objects
  objects="$(s3_objects "$1")" || return 1
  awk '{ print $2 }' <<<"$objects" | { grep -E '^[0-9]{8}T[0-9]{6}Z' || true; } | LC_ALL=C sort | awk -v ext="${2:-.rdb}" -v tag="${3:-}" '
    { rest = substr($0, 17) }
    tag != "" && !sub("^(" tag ")", "", rest) { next }
    rest == ext { obj[$0] = 1 }
    rest == ext ".sha256" { sum[substr($0, 1, length($0) - 7)] = 1 }
    END { for (n in obj) if (n in sum) print n }' | LC_ALL=C sort
}

# s3_expire PREFIX SUFFIX RETAIN NOUN [TAG]: keeps the newest RETAIN complete snapshots
# (s3_snapshots), deletes the older ones and the uploads older than the newest one that never got
# their checksum object; NOUN names them in the log (`snapshot`, `backup`). Fails when the store
# cannot be listed.
s3_expire() {
  local p="$1" ext="$2" retain="$3" noun="$4" tag="${5:-}" objects snapshots newest count name
  objects="$(s3_objects "$p")" || { log "backup: could not list $(s3_url "$p") to expire old ${noun}s; the next $noun tries again"; return 1; }
  snapshots="$(s3_snapshots "$p" "$ext" "$tag")" || return 1
  newest="$(tail -n 1 <<<"$snapshots")"
  count="$(grep -c . <<<"$snapshots" || true)"
  for name in $(head -n "$((count > retain ? count - retain : 0))" <<<"$snapshots"); do
    if s3 "$p" deletefile "$(s3_dir "$p")$name.sha256" && s3 "$p" deletefile "$(s3_dir "$p")$name"; then
      log "backup: deleted $name (more than $retain ${noun}s)"
    else
      log "backup: could not delete $name (see rclone's message above); the next $noun tries again"
    fi
  done
  # SUFFIX starts with its dot, escaped here
  for name in $(awk '{ print $2 }' <<<"$objects" | grep -E "^[0-9]{8}T[0-9]{6}Z${tag:+($tag)}\\${ext}\$" || true); do
    if [[ "$name" < "$newest" ]] && ! grep -qx "$name" <<<"$snapshots"; then
      if s3 "$p" deletefile "$(s3_dir "$p")$name"; then log "backup: deleted $name, an upload that never got its checksum object"; fi
    fi
  done
}

# s3_restore_choice TOOL SUFFIX NOUN WHAT FIX [TAG]: sets RESTORE_NAME to the snapshot
# RESTORE_BACKUP names, or the latest complete one (s3_snapshots) of the RESTORE repository; dies,
# naming TOOL, NOUN (`snapshot`), WHAT (`an .rdb`) and the FIX, when the repository cannot be
# listed, holds none, or the named one is not complete. Called directly, not in $(...): its death
# ends the script.
s3_restore_choice() {
  local tool="$1" ext="$2" noun="$3" what="$4" fix="$5" snapshots
  snapshots="$(s3_snapshots RESTORE "$ext" "${6:-}")" || die "$tool: cannot list the ${noun}s of $(s3_url RESTORE) (see rclone's message above): $fix"
  RESTORE_NAME="${RESTORE_BACKUP:-$(tail -n 1 <<<"$snapshots")}"
  [ -n "$RESTORE_NAME" ] || die "$tool: $(s3_url RESTORE) holds no complete $noun ($what with its .sha256): $fix"
  grep -qx "$RESTORE_NAME" <<<"$snapshots" ||
    die "$tool: $(s3_url RESTORE "$RESTORE_NAME") is not a complete $noun of the repository (it has: $(tr '\n' ' ' <<<"$snapshots")): $fix"
}

# s3_restore_extract TOOL NAME STAGING FIX EXTRACT...: object NAME of the RESTORE repository piped
# into EXTRACT (a command that reads it on stdin and writes under STAGING/data, e.g. `tar -x -C
# STAGING/data -f -`; its errors in STAGING/extract.log), in a fresh STAGING, its SHA-256 taken on
# the way and checked against NAME.sha256; RESTORE_SHA set. Dies naming TOOL, the object and FIX
# when the object cannot be read, is corrupted (the whole object's SHA-256 tells it from an
# EXTRACT that stopped early), or EXTRACT fails on a sound object.
s3_restore_extract() {
  local tool="$1" name="$2" staging="$3" fix="$4" expected actual sum_pid
  local -a status
  shift 4
  rm -rf "$staging"
  (umask 077 && mkdir -p "$staging/data")
  expected="$(s3 RESTORE cat "$(s3_dir RESTORE)$name.sha256" | awk 'NR == 1 { print $1 }')" || die "$tool: cannot read $(s3_url RESTORE "$name.sha256") (see rclone's message above): $fix"
  mkfifo "$staging/sum.fifo"
  sha256sum <"$staging/sum.fifo" | cut -d' ' -f1 >"$staging/sha256" &
  sum_pid=$!
  s3 RESTORE cat "$(s3_dir RESTORE)$name" | tee "$staging/sum.fifo" | "$@" 2>"$staging/extract.log" && status=(0 0 0) || status=("${PIPESTATUS[@]}")
  wait "$sum_pid" || true
  actual="$(cat "$staging/sha256" 2>/dev/null || true)"
  # rclone's 141: EXTRACT stopped reading first (SIGPIPE)
  case "${status[0]}" in 0 | 141) ;; *) die "$tool: cannot download $(s3_url RESTORE "$name") (see rclone's message above): $fix" ;; esac
  if [ "${status[2]}" -ne 0 ]; then
    actual="$(s3 RESTORE cat "$(s3_dir RESTORE)$name" | sha256sum | cut -d' ' -f1)" || actual=""
  fi
  if [ "$actual" != "$expected" ]; then
    die "$tool: the backup $(s3_url RESTORE "$name") is corrupted: its SHA-256 is ${actual:-unknown}, its checksum object $name.sha256 says ${expected:-nothing}; $fix"
  fi
  [ "${status[2]}" -eq 0 ] || die "$tool: $1 cannot extract $(s3_url RESTORE "$name"), whose checksum is right ($(tail -n 3 "$staging/extract.log" | tr '\n' ' ')); is the volume full? $fix"
  rm -f "$staging/sum.fifo"
  # shellcheck disable=SC2034 # read by the restore script that called it
  RESTORE_SHA="$actual"
}

# s3_object_size PREFIX NAME: the stored size of object NAME; fails when it is not there
s3_object_size() {
  local objects
  objects="$(s3_objects "$1")" || return 1
  awk -v n="$2" '$2 == n { print $1; found = 1 } END { exit !found }' <<<"$objects"
}
