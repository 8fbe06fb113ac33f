# shellcheck shell=bash disable=SC2034 # build.sh reads CONFIG, PACKAGES and VARIANT
# postgres-patroni: Debian's PostgreSQL of the major of versions.json's version with Debian's
# Patroni, the image the PostgreSQL preset runs with `failover: PostgresFailover.patroni(...)`.
# Laid out as the official postgres image (the postgres user 999:999, the server binaries under
# /usr/lib/postgresql/<major>/bin and on PATH, PG_MAJOR set, the socket in /var/run/postgresql),
# plus `patroni` and `patronictl` on PATH: what docs/engines.md's recipe adds to the official
# image. No entrypoint of its own: the preset's script writes patroni.yml and execs patroni.
PG_MAJOR="${VERSION%%.*}"
PACKAGES=("postgresql-$PG_MAJOR" "postgresql-client-$PG_MAJOR" patroni python3-psycopg2)
CONFIG='{"Cmd":["patroni","--version"],"User":"999:999","StopSignal":"SIGINT","Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/lib/postgresql/'"$PG_MAJOR"'/bin:/usr/sbin:/usr/bin:/sbin:/bin","PG_MAJOR='"$PG_MAJOR"'","LANG=C.UTF-8"],"ExposedPorts":{"5432/tcp":{},"8008/tcp":{}}}'

essential() {
  local root="$1"
  system_user "$root" postgres 999 /var/lib/postgresql
  # no cluster at install: Patroni initializes the data directory
  in_root "$root" mkdir -p /etc/postgresql-common
  echo 'create_main_cluster = false' | in_root "$root" sh -c 'cat >/etc/postgresql-common/createcluster.conf'
}

customize() {
  local root="$1"
  # the package's per-build snakeoil key and certificate: random, so no reproducible image
  in_root "$root" rm -f /etc/ssl/private/ssl-cert-snakeoil.key /etc/ssl/certs/ssl-cert-snakeoil.pem
  in_root "$root" sh -c 'rm -rf /var/lib/postgresql/* /var/log/postgresql /etc/patroni/*.yml'
  # byte-compiled caches hold build times: out, Python recompiles in memory
  in_root "$root" sh -c 'find /usr/lib/python3 -name __pycache__ -type d -prune -exec rm -rf {} +'
  in_root "$root" install -d -o 999 -g 999 -m 0755 /var/lib/postgresql
  in_root "$root" install -d -o 999 -g 999 -m 3777 /var/run/postgresql
  in_root "$root" test -x /usr/bin/patroni || die "postgres-patroni: /usr/bin/patroni is missing"
  in_root "$root" test -x "/usr/lib/postgresql/$PG_MAJOR/bin/pg_rewind" || die "postgres-patroni: pg_rewind is missing"
}
