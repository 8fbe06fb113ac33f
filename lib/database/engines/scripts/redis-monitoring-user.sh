# shellcheck shell=bash
# Redis: sourced by redis-config.sh and redis-sentinel-start.sh, which write redis.conf.

# write_monitoring_user: Redis with metrics: the ACL user of the exporter as a redis.conf `user`
# line, from the two Secret keys that the scripts ConfigMap's monitoring-user.keys names (its
# username key, then its password key; absent without metrics); none while the Secret lacks
# either key (a warning: the server starts all the same). The password goes in as its
# SHA-256 only. The user runs exactly the commands a scrape of redis_exporter sends with its
# default flags (INFO commandstats after scrapes: PING, INFO, CONFIG GET, CLIENT SETNAME, SLOWLOG GET and
# LEN, LATENCY LATEST and HISTOGRAM), and nothing else: no key, no channel, nothing that writes.
REDIS_MONITORING_COMMANDS='+ping +info +config|get +client|setname +slowlog|get +slowlog|len +latency|latest +latency|histogram'
write_monitoring_user() {
  local file="${SCRIPTS_DIR:-$(dirname "$0")}/monitoring-user.keys" MONITORING_USER_KEY MONITORING_PASSWORD_KEY user password hash
  [ -f "$file" ] || return 0
  # shellcheck disable=SC2034 # read_secret reads both through their names
  { read -r MONITORING_USER_KEY && read -r MONITORING_PASSWORD_KEY; } <"$file" || die "$file must name the monitoring user's two Secret keys, one a line"
  if ! has_key MONITORING_USER_KEY || ! has_key MONITORING_PASSWORD_KEY; then
    # the database still starts; its exporter fails every scrape (DatabaseMemberDown says so)
    log "redis: no monitoring user: the credentials Secret lacks '$MONITORING_USER_KEY' or '$MONITORING_PASSWORD_KEY' (or one is empty). Fix: add both keys (docs/engines.md, Metrics), then restart the members."
    return 0
  fi
  read_secret user MONITORING_USER_KEY
  read_secret password MONITORING_PASSWORD_KEY
  if ! [[ "$user" =~ ^[A-Za-z0-9._-]+$ ]] || [ "$user" = default ]; then
    die "the monitoring user name (Secret key '$MONITORING_USER_KEY') must be letters, digits, '.', '_' or '-' and not 'default', got '$user'. Fix: e.g. 'monitoring'."
  fi
  hash="$(printf '%s' "$password" | sha256sum)"
  echo "# the metrics exporter's user: read-only server information, no keys"
  echo "user $user reset on #${hash%% *} resetkeys resetchannels -@all $REDIS_MONITORING_COMMANDS"
}
