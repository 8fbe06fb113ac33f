# shellcheck shell=bash disable=SC2034 # build.sh reads CONFIG, PACKAGES and VARIANT
# postgres_exporter (Debian's prometheus-postgres-exporter) as quay.io/prometheuscommunity/
# postgres-exporter:v<version>, the PostgreSQL metrics sidecar: a shell (sh) and the exporter at
# /bin/postgres_exporter as in the upstream image, as user nobody.
PACKAGES=(prometheus-postgres-exporter)
CONFIG='{"Entrypoint":["/bin/postgres_exporter"],"User":"65534:65534","Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"ExposedPorts":{"9187/tcp":{}}}'

customize() {
  local root="$1"
  # the path of the upstream image's binary (/bin is /usr/bin)
  in_root "$root" ln -s /usr/bin/prometheus-postgres-exporter /usr/bin/postgres_exporter
  # Debian's service defaults are for systemd, which the image does not run
  in_root "$root" sh -c 'rm -rf /etc/default/prometheus-postgres-exporter /var/lib/prometheus'
}
