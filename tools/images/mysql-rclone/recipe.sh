# shellcheck shell=bash disable=SC2034 # build.sh reads CONFIG, PACKAGES and VARIANT
# mysql-rclone: the mysql test image (images/mysql: Debian's MySQL server and clients, laid out as
# the official image, with its docker-entrypoint.sh) plus Debian's rclone and the system CAs: the
# image of the MySQL preset with `backup` or `restoreFrom`, what docs/engines.md's recipe adds to
# the official image. The mysql recipe is sourced, not copied.
# shellcheck source=../mysql/recipe.sh
. "$HERE/mysql/recipe.sh"
PACKAGES+=(rclone ca-certificates)

eval "mysql_$(declare -f customize)"
customize() {
  local root="$1"
  copy_into "$root" "$HERE/mysql/rootfs" /
  mysql_customize "$root"
  for tool in /usr/bin/rclone /usr/bin/mysql /usr/sbin/mysqld /usr/bin/flock /usr/bin/sha256sum /usr/bin/tar; do
    in_root "$root" test -x "$tool" || die "mysql-rclone: $tool is missing"
  done
}
