# shellcheck shell=bash
# pgBackRest for the PostgreSQL preset: its config files. Sourced (after common.sh), never executed.
#
# A repository is described by environment variables with a prefix (s3-repository.sh). The config
# files hold the keys: they are written with umask 077 into RUN_DIR, an emptyDir of the pod, never
# into the image.
# shellcheck source=s3-repository.sh
. "${SCRIPTS_DIR:-$(dirname "${BASH_SOURCE[0]}")}/s3-repository.sh"

STANZA="${PGBACKREST_STANZA:-db}"

# pgbackrest_repo_lines PREFIX: the repo1-* lines of the repository that PREFIX describes
pgbackrest_repo_lines() {
  local p="$1" endpoint host port REPO_KEY REPO_SECRET
  repo_keys "$p" pgbackrest
  require_single_line "the S3 access key id" "$REPO_KEY"
  require_single_line "the S3 secret access key" "$REPO_SECRET"
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
    "repo1-s3-key=$REPO_KEY" \
    "repo1-s3-key-secret=$REPO_SECRET"
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

# pgbackrest_restore CONF DIR: restores the latest backup of the repository that CONF names into
# the empty directory DIR (the backup pgBackRest picks for RESTORE_TARGET when set: the latest that
# ended before it), with the recovery settings the server reads when it starts: restore_command
# through CONF, and with RESTORE_TARGET (a point in time) the target, then promote; without it the
# server replays the whole archived WAL, then promotes.
pgbackrest_restore() {
  local conf="$1" dir="$2" target=()
  if [ -n "${RESTORE_TARGET:-}" ]; then target=(--type=time "--target=$RESTORE_TARGET" --target-action=promote); fi
  pgbackrest --config="$conf" --stanza="$STANZA" --pg1-path="$dir" "${target[@]}" \
    --recovery-option="restore_command=pgbackrest --config=$conf --stanza=$STANZA archive-get %f \"%p\"" restore
}

# pgbackrest_tls DIR SCOPE SECRET MEMBER_DNS: the TLS files of pgBackRest's connections between the
# members (a backup reading a replica's files): DIR/ca.crt, DIR/member.crt, DIR/member.key. The
# CA's key is derived from SECRET (the replication password, which every member holds) and the set's
# name SCOPE, so every member derives the same CA, each at its start, with nothing shared but the
# Secret; its certificate (self-signed, subject and key identifier the same on every member) signs
# this member's own key, made here, for MEMBER_DNS (its DNS name: the client checks it). Whoever
# holds the replication password may already copy every data file over replication: the derived CA
# grants nothing more. SECRET is read from stdin, never an argument.
pgbackrest_tls() {
  local dir="$1" scope="$2" dns="$3" k
  mkdir -p "$dir"
  (
    umask 077
    # a P-256 private key in [1, n-1]: HMAC-SHA256(SECRET, label) reduced modulo n - 1, plus 1
    # (perl's core modules: every PostgreSQL image has perl, not every one python)
    k="$(perl -MDigest::SHA=hmac_sha256 -MMath::BigInt -e '
local $/; my $secret = <STDIN>;
my $n = Math::BigInt->from_hex("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551");
my $d = Math::BigInt->from_hex(unpack("H*", hmac_sha256("cdk8s-stateful pgbackrest tls ca " . $ARGV[0], $secret)));
my $k = $d->bmod($n - 1)->binc->to_hex;
print "0" x (64 - length $k), $k, "\n";' "$scope")"
    # RFC 5915's ECPrivateKey without its public key, which openssl computes when it reads it
    printf 'asn1=SEQUENCE:key\n[key]\nversion=INTEGER:1\nprivate=FORMAT:HEX,OCTETSTRING:%s\ncurve=EXPLICIT:0,OID:prime256v1\n' "$k" >"$dir/ca.asn1"
    openssl asn1parse -noout -genconf "$dir/ca.asn1" -out "$dir/ca.der"
    openssl ec -inform DER -in "$dir/ca.der" -out "$dir/ca.key" 2>/dev/null
    rm -f "$dir/ca.asn1" "$dir/ca.der"
    openssl req -new -x509 -key "$dir/ca.key" -subj "/CN=$scope pgBackRest CA" -days 36500 -set_serial 1 \
      -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign' -out "$dir/ca.crt"
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$dir/member.key" \
      -subj "/CN=pgbackrest" -out "$dir/member.csr" 2>/dev/null
    printf 'subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth,clientAuth\nauthorityKeyIdentifier=keyid\nbasicConstraints=CA:FALSE\n' "$dns" >"$dir/member.ext"
    openssl x509 -req -in "$dir/member.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -days 36500 \
      -set_serial "0x$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')" -extfile "$dir/member.ext" -out "$dir/member.crt" 2>/dev/null
    rm -f "$dir/ca.key" "$dir/member.csr" "$dir/member.ext"
  )
}
