#!/usr/bin/env bash
# Entrypoint of cdk8s-stateful's zookeeper test image (see docs/contributing/images.md). Implements the part of
# the official image's documented interface this project relies on:
#   - started as root to run zkServer.sh, it hands ZOO_DATA_DIR, ZOO_DATA_LOG_DIR and
#     ZOO_LOG_DIR to zookeeper (1000) and steps down;
#   - when $ZOO_CONF_DIR/zoo.cfg does not exist it writes one from ZOO_TICK_TIME,
#     ZOO_INIT_LIMIT, ZOO_SYNC_LIMIT, ZOO_MAX_CLIENT_CNXNS, ZOO_STANDALONE_ENABLED,
#     ZOO_ADMINSERVER_ENABLED, ZOO_AUTOPURGE_PURGEINTERVAL, ZOO_AUTOPURGE_SNAPRETAINCOUNT,
#     ZOO_4LW_COMMANDS_WHITELIST, ZOO_SERVERS (space-separated server.N=... entries) and
#     ZOO_CFG_EXTRA (space-separated key=value); an existing zoo.cfg (a read-only mount) is used
#     as it is;
#   - when $ZOO_DATA_DIR/myid does not exist it writes ZOO_MY_ID (default 1) there.
set -euo pipefail
EP_NAME=zookeeper
# shellcheck source=images/lib/entrypoint-lib.sh
. /usr/local/lib/cdk8s-stateful/entrypoint-lib.sh

ZOO_CONF_DIR="${ZOO_CONF_DIR:-/conf}"
ZOO_DATA_DIR="${ZOO_DATA_DIR:-/data}"
ZOO_DATA_LOG_DIR="${ZOO_DATA_LOG_DIR:-/datalog}"
ZOO_LOG_DIR="${ZOO_LOG_DIR:-/logs}"

if [ "${1:-}" = zkServer.sh ] && [ "$(id -u)" = 0 ]; then
  mkdir -p "$ZOO_DATA_DIR" "$ZOO_DATA_LOG_DIR" "$ZOO_LOG_DIR"
  chown -R zookeeper: "$ZOO_DATA_DIR" "$ZOO_DATA_LOG_DIR" "$ZOO_LOG_DIR"
  ep_step_down zookeeper "$@"
fi

if [ ! -f "$ZOO_CONF_DIR/zoo.cfg" ]; then
  cfg="$ZOO_CONF_DIR/zoo.cfg"
  [ -w "$ZOO_CONF_DIR" ] || ep_die "$ZOO_CONF_DIR/zoo.cfg does not exist and $ZOO_CONF_DIR is not writable: mount a zoo.cfg, or a writable $ZOO_CONF_DIR"
  {
    echo "dataDir=$ZOO_DATA_DIR"
    echo "dataLogDir=$ZOO_DATA_LOG_DIR"
    echo "tickTime=${ZOO_TICK_TIME:-2000}"
    echo "initLimit=${ZOO_INIT_LIMIT:-5}"
    echo "syncLimit=${ZOO_SYNC_LIMIT:-2}"
    echo "autopurge.snapRetainCount=${ZOO_AUTOPURGE_SNAPRETAINCOUNT:-3}"
    echo "autopurge.purgeInterval=${ZOO_AUTOPURGE_PURGEINTERVAL:-0}"
    echo "maxClientCnxns=${ZOO_MAX_CLIENT_CNXNS:-60}"
    echo "standaloneEnabled=${ZOO_STANDALONE_ENABLED:-true}"
    echo "admin.enableServer=${ZOO_ADMINSERVER_ENABLED:-true}"
    if [ -z "${ZOO_SERVERS:-}" ]; then
      ZOO_SERVERS="server.1=localhost:2888:3888;2181"
    fi
    for server in $ZOO_SERVERS; do echo "$server"; done
    if [ -n "${ZOO_4LW_COMMANDS_WHITELIST:-}" ]; then
      echo "4lw.commands.whitelist=$ZOO_4LW_COMMANDS_WHITELIST"
    fi
    for entry in ${ZOO_CFG_EXTRA:-}; do echo "$entry"; done
  } >"$cfg"
fi

if [ ! -f "$ZOO_DATA_DIR/myid" ]; then
  mkdir -p "$ZOO_DATA_DIR"
  echo "${ZOO_MY_ID:-1}" >"$ZOO_DATA_DIR/myid"
fi
exec "$@"
