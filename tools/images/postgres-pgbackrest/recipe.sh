# shellcheck shell=bash disable=SC2034 # build.sh reads CONFIG, PACKAGES and VARIANT
# postgres-pgbackrest: the postgres test image (images/postgres: Debian's PostgreSQL of the major of
# versions.json's version, laid out as the official image, with its docker-entrypoint.sh) plus
# Debian's pgBackRest: the image of the PostgreSQL preset with `backup` or `restoreFrom`, what
# docs/engines.md's recipe adds to the official image. The postgres recipe is sourced, not copied:
# a change to images/postgres/ rebuilds this image only with `images/build.sh postgres-pgbackrest`
# after removing its .recipe stamp (its hash covers this directory and its versions.json entry).
# shellcheck source=../postgres/recipe.sh
. "$HERE/postgres/recipe.sh"
PACKAGES+=(pgbackrest)

eval "postgres_$(declare -f customize)"
customize() {
  local root="$1"
  copy_into "$root" "$HERE/postgres/rootfs" /
  postgres_customize "$root"
  in_root "$root" test -x /usr/bin/pgbackrest || die "postgres-pgbackrest: /usr/bin/pgbackrest is missing"
  # the package's config and log directories: the preset writes its config in the run directory
  # and logs to stderr only
  in_root "$root" sh -c 'rm -rf /etc/pgbackrest /var/log/pgbackrest /var/lib/pgbackrest /var/spool/pgbackrest'
}
