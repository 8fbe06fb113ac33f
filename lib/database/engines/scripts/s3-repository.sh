# shellcheck shell=bash
# An S3 repository described by environment variables with a prefix, BACKUP (where this set's
# backups go) or RESTORE (the set it is created from), as lib/database/backup.ts writes them:
# <P>_BUCKET, <P>_ENDPOINT (host[:port], HTTPS only), <P>_REGION, <P>_PATH, <P>_URI_STYLE
# (path|host), the credentials Secret's files <P>_S3_ACCESS_KEY_ID_FILE and <P>_S3_ACCESS_KEY_FILE,
# and optionally <P>_CA_FILE (the store's CA). Sourced (after common.sh) by the backup tools'
# scripts (pgbackrest.sh, rclone-s3.sh), never executed.

# repo_var PREFIX NAME: the value of <PREFIX>_<NAME>, empty when unset
repo_var() {
  local __n="${1}_$2"
  printf '%s' "${!__n:-}"
}

# repo_keys PREFIX TOOL: checks that every variable of repository PREFIX is set and reads its keys
# from the Secret's files into REPO_KEY and REPO_SECRET (declare them local in the caller); dies,
# naming TOOL, when one is missing
repo_keys() {
  local p="$1" tool="$2" var
  for var in BUCKET ENDPOINT REGION PATH URI_STYLE S3_ACCESS_KEY_ID_FILE S3_ACCESS_KEY_FILE; do
    [ -n "$(repo_var "$p" "$var")" ] || die "$tool: ${p}_${var} is not set: the preset sets it from the repository's props"
  done
  REPO_KEY="$(<"$(repo_var "$p" S3_ACCESS_KEY_ID_FILE)")" || die "$tool: cannot read the access key id (${p}_S3_ACCESS_KEY_ID_FILE)"
  REPO_SECRET="$(<"$(repo_var "$p" S3_ACCESS_KEY_FILE)")" || die "$tool: cannot read the secret access key (${p}_S3_ACCESS_KEY_FILE)"
  if [ -z "$REPO_KEY" ] || [ -z "$REPO_SECRET" ]; then
    die "$tool: an S3 key of the credentials Secret is empty (${p}_S3_ACCESS_KEY_ID_FILE, ${p}_S3_ACCESS_KEY_FILE). Fix: put the keys in the Secret."
  fi
}
