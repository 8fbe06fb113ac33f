# shellcheck shell=bash disable=SC2034 # build.sh reads CONFIG, PACKAGES and VARIANT
# zookeeper-rclone: the zookeeper test image (images/zookeeper: Debian's ZooKeeper jars and scripts,
# a headless OpenJDK, laid out as the official image, with its docker-entrypoint.sh) plus Debian's
# rclone and the system CAs: the image of the ZooKeeper preset with `backup` or `restoreFrom`, what
# docs/engines.md's recipe adds to the official image. The zookeeper recipe is sourced, not
# copied: a change to images/zookeeper/ rebuilds this image only with
# `images/build.sh zookeeper-rclone` after removing its .recipe stamp (its hash covers this
# directory and its versions.json entry).
# shellcheck source=../zookeeper/recipe.sh
. "$HERE/zookeeper/recipe.sh"
PACKAGES+=(rclone ca-certificates)

eval "zookeeper_$(declare -f customize)"
customize() {
  local root="$1" tool
  copy_into "$root" "$HERE/zookeeper/rootfs" /
  zookeeper_customize "$root"
  for tool in /usr/bin/rclone /usr/bin/tar /usr/bin/flock /usr/bin/sha256sum /usr/bin/od /usr/share/zookeeper/bin/zkServer.sh; do
    in_root "$root" test -x "$tool" || die "zookeeper-rclone: $tool is missing"
  done
}
