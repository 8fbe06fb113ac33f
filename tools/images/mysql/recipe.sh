# shellcheck shell=bash disable=SC2034 # build.sh reads CONFIG, PACKAGES and VARIANT
# mysql (Debian's MySQL server and clients) as docker.io/library/mysql:<version>: the mysql user is
# 999:999 as in the official image, /etc/my.cnf as there (it includes /etc/mysql/conf.d/), the
# data directory /var/lib/mysql, the socket /var/run/mysqld/mysqld.sock, secure-file-priv
# /var/lib/mysql-files; docker-entrypoint.sh in /usr/local/bin is this project's (rootfs/).
# Only the server's core package: Debian's mysql-server adds a service and a database at install.
PACKAGES=(mysql-server-core mysql-client-core mysql-client tzdata xz-utils zstd procps)
CONFIG='{"Entrypoint":["docker-entrypoint.sh"],"Cmd":["mysqld"],"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","LANG=C.UTF-8","MYSQL_MAJOR='"${VERSION%.*}"'","MYSQL_VERSION='"$VERSION"'"],"ExposedPorts":{"3306/tcp":{},"33060/tcp":{}},"Volumes":{"/var/lib/mysql":{}}}'

essential() {
  system_user "$1" mysql 999 /var/lib/mysql
}

customize() {
  local root="$1"
  # mysql-common's config (an alternatives link /etc/mysql/my.cnf and its conf.d files): the
  # server reads /etc/my.cnf (rootfs/) and that includes /etc/mysql/conf.d/, as the official image
  in_root "$root" rm -rf /etc/mysql/my.cnf /etc/mysql/my.cnf.fallback /etc/alternatives/my.cnf \
    /var/lib/dpkg/alternatives/my.cnf /etc/mysql/conf.d /var/lib/mysql /var/log/mysql
  in_root "$root" install -d -m 0755 /etc/mysql/conf.d /docker-entrypoint-initdb.d
  in_root "$root" install -d -o 999 -g 999 -m 0755 /var/lib/mysql /var/run/mysqld
  in_root "$root" install -d -o 999 -g 999 -m 0750 /var/lib/mysql-files
}
