# shellcheck shell=bash disable=SC2034 # build.sh reads CONFIG, PACKAGES and VARIANT
# mysqld_exporter (Debian's prometheus-mysqld-exporter) as docker.io/prom/mysqld-exporter:
# v<version>, the MySQL and MariaDB Galera metrics sidecar: a shell (sh) and the exporter at
# /bin/mysqld_exporter as in the upstream image, as user nobody.
PACKAGES=(prometheus-mysqld-exporter)
CONFIG='{"Entrypoint":["/bin/mysqld_exporter"],"User":"65534:65534","Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"ExposedPorts":{"9104/tcp":{}}}'

customize() {
  local root="$1"
  # the path of the upstream image's binary (/bin is /usr/bin)
  in_root "$root" ln -s /usr/bin/prometheus-mysqld-exporter /usr/bin/mysqld_exporter
  # Debian's service defaults are for systemd, which the image does not run
  in_root "$root" sh -c 'rm -rf /etc/default/prometheus-mysqld-exporter /var/lib/prometheus'
}
