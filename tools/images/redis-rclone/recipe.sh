# shellcheck shell=bash disable=SC2034 # build.sh reads CONFIG, PACKAGES and VARIANT
# redis-rclone: the redis test image (images/redis: Debian's redis-server and redis-tools of
# versions.json's version, laid out as the official image, with its docker-entrypoint.sh) plus
# Debian's rclone and the system CAs: the image of the Redis preset with `backup` or `restoreFrom`,
# what docs/engines.md's recipe adds to the official image. The redis recipe is sourced, not
# copied: a change to images/redis/ rebuilds this image only with `images/build.sh redis-rclone`
# after removing its .recipe stamp (its hash covers this directory and its versions.json entry).
# shellcheck source=../redis/recipe.sh
. "$HERE/redis/recipe.sh"
PACKAGES+=(rclone ca-certificates)

eval "redis_$(declare -f customize)"
customize() {
  local root="$1"
  copy_into "$root" "$HERE/redis/rootfs" /
  redis_customize "$root"
  for tool in /usr/bin/rclone /usr/bin/redis-cli /usr/bin/redis-check-rdb; do
    in_root "$root" test -x "$tool" || die "redis-rclone: $tool is missing"
  done
}
