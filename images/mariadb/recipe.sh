# shellcheck shell=bash disable=SC2034 # build.sh reads CONFIG, PACKAGES and VARIANT
# mariadb (Debian's MariaDB 10.11 with Galera 4 and mariadb-backup) as
# docker.io/library/mariadb:<version>: the mysql user is 999:999 as in the official image, the
# data directory /var/lib/mysql, the socket /run/mysqld/mysqld.sock; docker-entrypoint.sh and
# healthcheck.sh in /usr/local/bin are this project's (rootfs/).
PACKAGES=(mariadb-server mariadb-client mariadb-backup galera-4 socat iproute2 procps mawk tzdata xz-utils zstd)
CONFIG='{"Entrypoint":["docker-entrypoint.sh"],"Cmd":["mariadbd"],"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","LANG=C.UTF-8"],"ExposedPorts":{"3306/tcp":{}},"Volumes":{"/var/lib/mysql":{}}}'

essential() {
  system_user "$1" mysql 999 /var/lib/mysql
}

customize() {
  local root="$1"
  # the database the package's scripts created: the entrypoint initializes the volume instead
  rm -rf "$root/var/lib/mysql" "$root/var/log/mysql" "$root/etc/mysql/debian.cnf"
  # Debian's server config binds 127.0.0.1 and names log files; ours (rootfs/) replaces it
  rm -f "$root/etc/mysql/mariadb.conf.d/50-server.cnf" "$root/etc/mysql/mariadb.conf.d/50-mysqld_safe.cnf" \
    "$root/etc/mysql/mariadb.conf.d/60-galera.cnf" "$root/etc/mysql/mariadb.conf.d/50-client.cnf"
  install -d -o 999 -g 999 -m 0755 "$root/var/lib/mysql" "$root/run/mysqld"
  install -d -m 0755 "$root/docker-entrypoint-initdb.d" "$root/etc/mysql/conf.d"
}
