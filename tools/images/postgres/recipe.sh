# shellcheck shell=bash disable=SC2034 # build.sh reads CONFIG, PACKAGES and VARIANT
# postgres (Debian's PostgreSQL of the major of versions.json's version) as
# docker.io/library/postgres:<version>: the postgres user is 999:999 as in the official image, the
# server binaries on PATH, the socket in /var/run/postgresql; PGDATA as the official image of that
# major: /var/lib/postgresql/data up to 17, /var/lib/postgresql/<major>/docker from 18 on (its
# volume is then /var/lib/postgresql). docker-entrypoint.sh is this project's (rootfs/).
PG_MAJOR="${VERSION%%.*}"
if [ "$PG_MAJOR" -ge 18 ]; then PGDATA_DIR="/var/lib/postgresql/$PG_MAJOR/docker" VOLUME=/var/lib/postgresql; else PGDATA_DIR=/var/lib/postgresql/data VOLUME=/var/lib/postgresql/data; fi
PACKAGES=("postgresql-$PG_MAJOR" "postgresql-client-$PG_MAJOR" libnss-wrapper xz-utils zstd)
CONFIG='{"Entrypoint":["docker-entrypoint.sh"],"Cmd":["postgres"],"StopSignal":"SIGINT","Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/lib/postgresql/'"$PG_MAJOR"'/bin:/usr/sbin:/usr/bin:/sbin:/bin","PG_MAJOR='"$PG_MAJOR"'","PGDATA='"$PGDATA_DIR"'","LANG=C.UTF-8"],"ExposedPorts":{"5432/tcp":{}},"Volumes":{"'"$VOLUME"'":{}}}'

essential() {
  local root="$1"
  system_user "$root" postgres 999 /var/lib/postgresql
  # no cluster at install: the entrypoint initializes PGDATA
  in_root "$root" mkdir -p /etc/postgresql-common
  echo 'create_main_cluster = false' | in_root "$root" sh -c 'cat >/etc/postgresql-common/createcluster.conf'
}

customize() {
  local root="$1" sample="/usr/share/postgresql/$PG_MAJOR/postgresql.conf.sample"
  # the package's per-build snakeoil key and certificate: random, so no reproducible image
  in_root "$root" rm -f /etc/ssl/private/ssl-cert-snakeoil.key /etc/ssl/certs/ssl-cert-snakeoil.pem
  in_root "$root" sh -c 'rm -rf /var/lib/postgresql/* /var/log/postgresql'
  # as the official image: initdb's postgresql.conf listens on every address, not only localhost
  in_root "$root" sed -ri "s/^#?(listen_addresses)\s*=\s*\S+.*/\1 = '*'/" "$sample"
  in_root "$root" grep -q "^listen_addresses = '\*'" "$sample" ||
    die "postgres: cannot set listen_addresses in $sample"
  if [ "$PG_MAJOR" -ge 18 ]; then
    in_root "$root" install -d -o 999 -g 999 -m 1777 /var/lib/postgresql
  else
    in_root "$root" install -d -o 999 -g 999 -m 0755 /var/lib/postgresql
    in_root "$root" install -d -o 999 -g 999 -m 0777 /var/lib/postgresql/data
  fi
  in_root "$root" install -d -o 999 -g 999 -m 3777 /var/run/postgresql
  in_root "$root" install -d -m 0755 /docker-entrypoint-initdb.d
}
