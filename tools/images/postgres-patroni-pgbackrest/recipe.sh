# shellcheck shell=bash disable=SC2034 # build.sh reads CONFIG, PACKAGES and VARIANT
# postgres-patroni-pgbackrest: the postgres-patroni test image (Debian's PostgreSQL of the major of
# versions.json's version with Debian's Patroni) plus Debian's pgBackRest: the image of the
# PostgreSQL preset with `patroni` and `backup` or `restoreFrom`, what docs/engines.md's recipe
# gives users. The postgres-patroni recipe is sourced, not copied: a change to
# images/postgres-patroni/ rebuilds this image only with `images/build.sh
# postgres-patroni-pgbackrest` after removing its .recipe stamp.
# shellcheck source=../postgres-patroni/recipe.sh
. "$HERE/postgres-patroni/recipe.sh"
PACKAGES+=(pgbackrest)

eval "patroni_$(declare -f customize)"
customize() {
  local root="$1"
  patroni_customize "$root"
  in_root "$root" test -x /usr/bin/pgbackrest || die "postgres-patroni-pgbackrest: /usr/bin/pgbackrest is missing"
  # the package's config and log directories: the preset writes its config in the run directory
  # and logs to stderr only
  in_root "$root" sh -c 'rm -rf /etc/pgbackrest /var/log/pgbackrest /var/lib/pgbackrest /var/spool/pgbackrest'
}
