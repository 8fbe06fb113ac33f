#!/usr/bin/env bash
# Tests of the image build (tools/images/build.sh):
#   1. clean: the named images are built cold into a private cache inside a mount namespace in
#      which every other file system is read-only, so a build that writes anywhere outside its
#      cache (through an absolute symlink of the image's root, a hook run outside the chroot, ...)
#      fails there with "Read-only file system";
#   2. content: each archive holds what its recipe says: the reference of versions.json, every
#      file of tools/images/<name>/rootfs/ and tools/images/lib/ byte for byte (a regular file, not a link to
#      something else), every pinned Debian package at its pinned version.
#
#   tools/images/test-build.sh [name ...]     default: mariadb and mysql (their /etc/mysql/my.cnf is an
#                                       absolute symlink in Debian's packages)
#   TEST_BUILD_KEEP=1                   keep the private cache (its path is printed)
#
# Needs root (mount namespace, mmdebstrap). The packages already downloaded into the shared cache
# are copied into the private one, so only what is missing is downloaded. Fails with the reason.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SHARED="${CDK8S_STATEFUL_CACHE:-$HOME/.cache/cdk8s-stateful}"

say() { printf '[test-build] %s\n' "$*" >&2; }
fail() { printf '[test-build] FAIL: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || fail "run as root: the build needs mmdebstrap's root mode and a mount namespace"
command -v unshare >/dev/null || fail "unshare (util-linux) is missing"
if [ "$#" -eq 0 ]; then set -- mariadb mysql; fi

PRIVATE="$(mktemp -d /tmp/cdk8s-stateful-test-build.XXXXXX)"
if [ -z "${TEST_BUILD_KEEP:-}" ]; then trap 'rm -rf "$PRIVATE"' EXIT; fi
mkdir -p "$PRIVATE/images/debs" "$PRIVATE/tmp"
if [ -d "$SHARED/images/debs" ]; then
  cp -al "$SHARED/images/debs/." "$PRIVATE/images/debs/" 2>/dev/null || cp -a "$SHARED/images/debs/." "$PRIVATE/images/debs/"
fi

# --- 1. a cold build with the rest of the machine read-only ---------------------------------------
# build.sh's own tools first (installing them is not the build)
if ! command -v mmdebstrap >/dev/null || ! command -v gcc >/dev/null; then "$HERE/install-deps.sh"; fi
say "building $* into $PRIVATE with every other file system read-only"
start=$SECONDS
# shellcheck disable=SC2016 # expanded by the inner shell
unshare --mount --propagation private bash -euo pipefail -c '
  private="$1"
  shift
  mount --bind "$private" "$private"
  # every mount read-only but the private cache and the kernel file systems (/proc, /sys, /dev)
  awk "{ print \$5 }" /proc/self/mountinfo | sort -u | while read -r mp; do
    mp="$(printf "%b" "$mp")"
    case "$mp" in
      "$private" | /proc | /proc/* | /sys | /sys/* | /dev | /dev/*) continue ;;
    esac
    mount -o remount,bind,ro "$mp" 2>/dev/null || true
  done
  touch /etc/.cdk8s-stateful-rw-check 2>/dev/null && { echo "the host is not read-only in the namespace" >&2; exit 1; }
  touch /tmp/.cdk8s-stateful-rw-check 2>/dev/null && { echo "/tmp is not read-only in the namespace" >&2; exit 1; }
  export CDK8S_STATEFUL_CACHE="$private" TMPDIR="$private/tmp" HOME="$private"
  exec "$0" "$@"
' "$HERE/build.sh" "$PRIVATE" "$@" >/dev/null ||
  fail "tools/images/build.sh $* failed with the machine read-only outside its cache (a 'Read-only file system' above is a write outside the cache)"
say "built $* in $((SECONDS - start))s without writing outside $PRIVATE"

# --- 2. what each archive holds -------------------------------------------------------------------
for name in "$@"; do
  python3 "$HERE/check_image.py" "$HERE" "$PRIVATE/images/$name.tar" "$name" ||
    fail "$name: the archive does not hold what its recipe says (above)"
  say "$name: the reference, the recipe's files and the pinned packages are in the image"
done
say "PASS"
