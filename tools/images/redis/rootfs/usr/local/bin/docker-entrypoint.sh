#!/usr/bin/env bash
# Entrypoint of cdk8s-stateful's redis test image (see docs/contributing/images.md). Follows the official
# image's interface: arguments that start with '-' or name a .conf file are given to
# redis-server; redis-server runs with umask 0077 (its files private to its user); started as
# root, it steps down to the redis user (999) after handing it the working directory.
set -euo pipefail
EP_NAME=redis
# shellcheck source=images/lib/entrypoint-lib.sh
. /usr/local/lib/cdk8s-stateful/entrypoint-lib.sh

if [ "$#" -eq 0 ] || [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
  set -- redis-server "$@"
fi

if [ "$1" = redis-server ]; then
  if [ "$(id -u)" = 0 ]; then
    find . \! -user redis -exec chown redis: '{}' +
    ep_step_down redis "$@"
  fi
  if [ "$(umask)" = 0022 ]; then umask 0077; fi
fi
exec "$@"
