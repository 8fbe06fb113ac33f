# shellcheck shell=bash disable=SC2034 # build.sh reads CONFIG, PACKAGES and VARIANT
# mariadb-rclone: the mariadb test image (images/mariadb: Debian's MariaDB with Galera 4 and
# mariadb-backup, laid out as the official image) plus Debian's rclone and the system CAs: the
# image of the MariaDB Galera preset with `backup` or `restoreFrom`, what docs/engines.md's recipe
# adds to the official image. The mariadb recipe is sourced, not copied.
# shellcheck source=../mariadb/recipe.sh
. "$HERE/mariadb/recipe.sh"
PACKAGES+=(rclone ca-certificates)

eval "mariadb_$(declare -f customize)"
customize() {
  local root="$1"
  copy_into "$root" "$HERE/mariadb/rootfs" /
  mariadb_customize "$root"
  for tool in /usr/bin/rclone /usr/bin/mariadb-backup /usr/bin/mbstream /usr/bin/flock; do
    in_root "$root" test -x "$tool" || die "mariadb-rclone: $tool is missing"
  done
}
