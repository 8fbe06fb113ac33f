#!/usr/bin/env bash
# MariaDB Galera: run by the image's entrypoint (from /docker-entrypoint-initdb.d) at the end of a
# first initialization, once its accounts exist. Marks it finished: galera-start.sh initializes again
# a data directory whose first initialization never got here.
set -euo pipefail
DATA_DIR="${DATA_DIR:-/var/lib/mysql/data}"
touch "${INIT_MARKER:-$(dirname "$DATA_DIR")/.cdk8s-initialized}"
