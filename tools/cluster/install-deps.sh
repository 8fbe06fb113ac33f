#!/usr/bin/env bash
# Install the Debian packages the real node needs (tools/cluster/node-up.sh): containerd, runc, the CNI
# plugins, iptables, conntrack (kube-proxy) and socat. Idempotent; run by .ci/run; needs root.
exec "$(dirname "$0")/../scripts/apt-install.sh" install-deps \
  containerd runc containernetworking-plugins iptables conntrack socat
