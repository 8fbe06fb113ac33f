#!/usr/bin/env bash
# ZooKeeper, database container: starts the server on the member's zoo.cfg (DATA_DIR/conf, written
# by zookeeper-config.sh and kept current by ZooKeeper at every reconfig) with a superuser of this
# member only: a random password made at each start in ADMIN_DIR (a memory-backed volume of the
# pod), of which the server knows only the digest (DigestAuthenticationProvider.superDigest).
# `reconfig` needs a superuser; zookeeper-members.sh authenticates with that password over the
# local client port, and the server forwards the authenticated request to the leader. No password
# is in the pod spec, in a Secret or on a volume, and ACLs stay enforced for every other client.
set -euo pipefail
# shellcheck source=common.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/common.sh"

DATA_DIR="${DATA_DIR:-/data}"
: "${ADMIN_DIR:?ADMIN_DIR is not set}"

# super_digest PASSWORD: ZooKeeper's digest of cdk8s:PASSWORD (base64 of the SHA-1)
super_digest() {
  local hex
  hex="$(printf '%s' "cdk8s:$1" | sha1sum | cut -c1-40 | sed 's/../\\x&/g')"
  # shellcheck disable=SC2059 # the format is the escaped digest itself
  printf "$hex" | base64
}

umask 077
password="$(tr -d '-' </proc/sys/kernel/random/uuid)$(tr -d '-' </proc/sys/kernel/random/uuid)"
printf '%s' "$password" >"$ADMIN_DIR/password.tmp"
mv -f "$ADMIN_DIR/password.tmp" "$ADMIN_DIR/password"
SERVER_JVMFLAGS="${SERVER_JVMFLAGS:-} -Dzookeeper.DigestAuthenticationProvider.superDigest=cdk8s:$(super_digest "$password")"
export SERVER_JVMFLAGS
unset password
umask 022

# the member's part in the ensemble's membership, beside the server (this process, after exec)
SERVER_PID=$$ bash "${SCRIPTS_DIR:-$(dirname "$0")}/zookeeper-members.sh" </dev/null &
exec zkServer.sh start-foreground "$DATA_DIR/conf/zoo.cfg"
