#!/usr/bin/env bash
# Install the Debian packages the real node needs (cluster/node-up.sh): containerd, runc, the CNI
# plugins, iptables, conntrack (kube-proxy) and socat. Idempotent: installs only what is missing,
# and does nothing (no apt-get at all) when everything is there. Run by .ci/run; needs root.
set -euo pipefail
PACKAGES="containerd runc containernetworking-plugins iptables conntrack socat"
missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -n "$missing" ] || exit 0
echo "install-deps: installing$missing" >&2
[ "$(id -u)" = 0 ] || { echo "install-deps: need root to install$missing" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
