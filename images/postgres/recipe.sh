# shellcheck shell=bash disable=SC2034 # build.sh reads CONFIG, PACKAGES and VARIANT
# postgres (Debian's PostgreSQL 15) as docker.io/library/postgres:<version>: the postgres user is
# 999:999 as in the official image, the server binaries on PATH, PGDATA /var/lib/postgresql/data,
# the socket in /var/run/postgresql; docker-entrypoint.sh is this project's (rootfs/).
PACKAGES=(postgresql-15 postgresql-client-15 libnss-wrapper xz-utils zstd)
CONFIG='{"Entrypoint":["docker-entrypoint.sh"],"Cmd":["postgres"],"StopSignal":"SIGINT","Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/lib/postgresql/15/bin:/usr/sbin:/usr/bin:/sbin:/bin","PG_MAJOR=15","PGDATA=/var/lib/postgresql/data","LANG=C.UTF-8"],"ExposedPorts":{"5432/tcp":{}},"Volumes":{"/var/lib/postgresql/data":{}}}'

essential() {
  local root="$1"
  system_user "$root" postgres 999 /var/lib/postgresql
  # no cluster at install: the entrypoint initializes PGDATA
  mkdir -p "$root/etc/postgresql-common"
  echo 'create_main_cluster = false' >"$root/etc/postgresql-common/createcluster.conf"
}

customize() {
  local root="$1"
  # the package's per-build snakeoil key and certificate: random, so no reproducible image
  rm -f "$root/etc/ssl/private/ssl-cert-snakeoil.key" "$root/etc/ssl/certs/ssl-cert-snakeoil.pem"
  rm -rf "$root/var/lib/postgresql/"* "$root/var/log/postgresql"
  # as the official image: initdb's postgresql.conf listens on every address, not only localhost
  sed -ri "s/^#?(listen_addresses)\s*=\s*\S+.*/\1 = '*'/" "$root/usr/share/postgresql/15/postgresql.conf.sample"
  grep -q "^listen_addresses = '\*'" "$root/usr/share/postgresql/15/postgresql.conf.sample" ||
    die "postgres: cannot set listen_addresses in postgresql.conf.sample"
  install -d -o 999 -g 999 -m 0755 "$root/var/lib/postgresql"
  install -d -o 999 -g 999 -m 0777 "$root/var/lib/postgresql/data"
  install -d -o 999 -g 999 -m 3777 "$root/var/run/postgresql"
  install -d -m 0755 "$root/docker-entrypoint-initdb.d"
}
