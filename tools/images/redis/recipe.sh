# shellcheck shell=bash disable=SC2034 # build.sh reads CONFIG, PACKAGES and VARIANT
# redis (Debian's redis-server and redis-tools) as docker.io/library/redis:<version>: the redis
# user is 999:999 as in the official image, /data its working directory.
PACKAGES=(redis-server redis-tools)
CONFIG='{"Entrypoint":["docker-entrypoint.sh"],"Cmd":["redis-server"],"WorkingDir":"/data","Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"ExposedPorts":{"6379/tcp":{}},"Volumes":{"/data":{}}}'

essential() {
  system_user "$1" redis 999 /data
}

customize() {
  local root="$1"
  # Debian's own config and service dirs; the preset mounts its config at /etc/redis
  in_root "$root" sh -c 'rm -rf /etc/redis/* /var/lib/redis /var/log/redis'
  in_root "$root" install -d -o 999 -g 999 -m 0755 /data
}
