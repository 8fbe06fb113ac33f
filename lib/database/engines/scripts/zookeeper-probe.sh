#!/usr/bin/env bash
# ZooKeeper probes with four-letter words on the client port.
# `ready`: `srvr` reports a Mode (leader, follower or standalone): the member serves requests,
# which it does only inside a quorum. `live`: `ruok` answers `imok`: the process runs.
set -euo pipefail
# shellcheck source=common.sh
. "${SCRIPTS_DIR:-$(dirname "$0")}/common.sh"

four_letter_word() {
  # shellcheck disable=SC2016 # expanded by the inner bash
  timeout "${PROBE_TIMEOUT:-5}" bash -c 'exec 3<>"/dev/tcp/$0/$1"; printf "%s" "$2" >&3; cat <&3' \
    "${ZK_HOST:-127.0.0.1}" "${CLIENT_PORT:-2181}" "$1"
}

case "${1:-ready}" in
  ready)
    reply="$(four_letter_word srvr || true)"
    grep -q '^Mode: ' <<<"$reply" || die "zookeeper: not serving: ${reply:-no answer}"
    ;;
  live)
    reply="$(four_letter_word ruok || true)"
    [ "$reply" = imok ] || die "zookeeper: ruok answered '${reply}'"
    ;;
  *) die "usage: $0 ready|live" ;;
esac
