#!/usr/bin/env bash
# Installs the database servers the real-server suite (test/servers/, `npm run test:servers`)
# runs the engine scripts against, from Debian's packages: Redis 7.0 with rclone, PostgreSQL 15 with pgBackRest,
# MariaDB 10.11 with Galera 4 and mariadb-backup (and socat, which SST uses).
# The backup tests also need the S3 store tools/s3-server/build.sh builds. Needs root.
# A no-op when they are installed already.
exec "$(dirname "$0")/apt-install.sh" install-servers \
  redis-server redis-tools rclone postgresql-15 postgresql-client-15 pgbackrest mariadb-server mariadb-client mariadb-backup galera-4 socat
