# shellcheck shell=bash disable=SC2034 # build.sh reads CONFIG, PACKAGES and VARIANT
# mariadb (Debian's MariaDB with Galera 4 and mariadb-backup) as
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
  # the database the package's scripts created: the entrypoint initializes the volume instead.
  # Debian's server config binds 127.0.0.1 and names log files; ours (rootfs/) replaces it
  in_root "$root" rm -rf /var/lib/mysql /var/log/mysql /etc/mysql/debian.cnf \
    /etc/mysql/mariadb.conf.d/50-server.cnf /etc/mysql/mariadb.conf.d/50-mysqld_safe.cnf \
    /etc/mysql/mariadb.conf.d/60-galera.cnf /etc/mysql/mariadb.conf.d/50-client.cnf
  in_root "$root" install -d -o 999 -g 999 -m 0755 /var/lib/mysql /run/mysqld
  in_root "$root" install -d -m 0755 /docker-entrypoint-initdb.d /etc/mysql/conf.d
}
