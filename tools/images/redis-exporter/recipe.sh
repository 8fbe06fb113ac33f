# shellcheck shell=bash disable=SC2034 # build.sh reads CONFIG, PACKAGES and VARIANT
# redis_exporter (Debian's prometheus-redis-exporter) as docker.io/oliver006/redis_exporter:
# v<version>-alpine, the variant the Redis preset's metrics sidecar runs: a shell (sh) and the
# exporter at /redis_exporter, as user nobody.
PACKAGES=(prometheus-redis-exporter)
CONFIG='{"Entrypoint":["/redis_exporter"],"User":"65534:65534","Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"ExposedPorts":{"9121/tcp":{}}}'

customize() {
  local root="$1"
  # the path of the upstream image's binary
  in_root "$root" ln -s /usr/bin/prometheus-redis-exporter /redis_exporter
  # Debian's service defaults are for systemd, which the image does not run
  in_root "$root" sh -c 'rm -rf /etc/default/prometheus-redis-exporter /var/lib/prometheus'
}
