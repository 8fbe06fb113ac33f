#!/usr/bin/env bash
# Builds the test images (see docs/contributing/images.md) into OCI image archives that
# `ctr -n k8s.io images import` takes: $CDK8S_STATEFUL_CACHE/images/<name>.tar (default cache
# ~/.cache/cdk8s-stateful), each naming its full reference (docker.io/library/mariadb:10.11.19, ...).
#
#   images/build.sh [name ...]   build every image, or the named ones
#   images/build.sh --tags       print images/versions.json (the references the e2e suite uses)
#   images/build.sh --list       print the image names
#
# An image is rebuilt only when its recipe changes: its directory images/<name>/, its entry of
# versions.json, this script and oci.py. The recipe's hash is kept beside the archive
# (<name>.recipe). Debian images are made with mmdebstrap from the Debian 12 mirror; the
# downloaded packages are kept in <cache>/images/debs. Progress goes to stderr; the output
# directory is the last line of stdout. Any failure stops the build with the reason.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${CDK8S_STATEFUL_CACHE:-$HOME/.cache/cdk8s-stateful}"
# IMAGES_VERSIONS=old: images/versions-old.json (the older majors), built into <cache>/images-old
case "${IMAGES_VERSIONS:-default}" in
  default) VERSIONS="$HERE/versions.json" OUT="$CACHE/images" ;;
  old) VERSIONS="$HERE/versions-old.json" OUT="$CACHE/images-old" ;;
  *) printf '[images] ERROR: IMAGES_VERSIONS=%s: give "old" (images/versions-old.json) or nothing (images/versions.json)\n' "$IMAGES_VERSIONS" >&2; exit 1 ;;
esac
# the downloaded packages, shared by both sets (a Debian file name is one content archive-wide)
DEBS="$CACHE/images/debs"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SECURITY_MIRROR="${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
# every file of an image gets this time: the archives are byte-identical from one build to the next
export SOURCE_DATE_EPOCH=0

log() { printf '[images] %s\n' "$*" >&2; }
die() { printf '[images] ERROR: %s\n' "$*" >&2; exit 1; }

# versions.json, read once: each image's reference, upstream version, Debian suite (default
# bookworm) and pinned Debian packages (pkg=version)
declare -A IMAGE_REF=() IMAGE_VERSION=() IMAGE_SUITE=() IMAGE_PINS=()
read_versions() {
  local name ref version suite pins
  while IFS=$'\t' read -r name ref version suite pins; do
    IMAGE_REF[$name]="$ref"
    IMAGE_VERSION[$name]="$version"
    IMAGE_SUITE[$name]="$suite"
    IMAGE_PINS[$name]="$pins"
  done < <(python3 - "$VERSIONS" <<'PY'
import json, sys
for name, entry in json.load(open(sys.argv[1])).items():
    pins = ' '.join(f'{pkg}={ver}' for pkg, ver in sorted(entry.get('debian', {}).items()))
    print('\t'.join([name, entry.get('image', ''), entry.get('version', '-'), entry.get('suite', 'bookworm'), pins]))
PY
  )
  [ "${#IMAGE_REF[@]}" -gt 0 ] || die "cannot read $VERSIONS"
}

# pins NAME: the image's pinned Debian packages, one pkg=version a line
pins() {
  [ -n "${IMAGE_REF[$1]+set}" ] || die "images/versions.json has no entry '$1'"
  [ -z "${IMAGE_PINS[$1]}" ] || tr ' ' '\n' <<<"${IMAGE_PINS[$1]}"
}

names() {
  local dir
  for dir in "$HERE"/*/; do
    [ -f "$dir/recipe.sh" ] && basename "$dir"
  done
}

# recipe_hash NAME: what the image is made from; a change of any of it rebuilds the image
recipe_hash() {
  local name="$1"
  {
    sha256sum "$HERE/build.sh" "$HERE/oci.py" | awk '{ print $1 }'
    echo "${IMAGE_REF[$name]} ${IMAGE_SUITE[$name]}"
    pins "$name"
    (cd "$HERE/$name" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
    if [ -d "$HERE/lib" ]; then (cd "$HERE/lib" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum); fi
  } | sha256sum | awk '{ print $1 }'
}

# deterministic_tar DIR OUT: a layer tar of DIR's content, owned by root, zero times, sorted
deterministic_tar() {
  tar --create --file="$2" --directory="$1" --sort=name --mtime=@0 --owner=0 --group=0 \
    --numeric-owner --format=posix --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime .
}

# sources SUITE: mmdebstrap's apt sources of a Debian suite (a release has its -updates and
# -security suites; unstable has neither). Unstable's index is taken past its Valid-Until date
# (its signature is still checked): the mirror reachable where this is tested serves a copy
# whose date has passed, and an image pins exact versions anyway.
sources() {
  case "$1" in
    sid | unstable) echo "deb [check-valid-until=no] $MIRROR $1 main" ;;
    *) printf '%s\n' "deb $MIRROR $1 main" "deb $MIRROR $1-updates main" "deb $SECURITY_MIRROR $1-security main" ;;
  esac
}

# mmdebstrap_logged LOG ARG...: mmdebstrap, its output on stderr and in LOG; a pinned version the
# mirror no longer has stops the build naming it
mmdebstrap_logged() {
  local log="$1" missing
  shift
  if mmdebstrap "$@" 2> >(tee "$log" >&2) >&2; then return 0; fi
  missing="$(grep -oE "Version '[^']+' for '[^']+' was not found" "$log" | sort -u | tr '\n' ' ')" || true
  if [ -n "$missing" ]; then
    die "$NAME: the Debian mirror's $SUITE suite no longer has a version images/versions.json pins ($missing). Debian replaced it (a security or point release); pin the new one: apt-cache policy in a $SUITE sources list, then update the version and the tag together (docs/contributing/images.md, Versions)"
  fi
  die "$NAME: mmdebstrap $SUITE failed (see the output above)"
}

# debian_layer OUT PACKAGE...: a root filesystem of the image's Debian suite (the Essential
# packages and the named ones, without docs, man pages and translations) as a layer tar. The
# recipe's `essential ROOT` runs before the named packages are installed, its `customize ROOT`
# last, both given the root directory: they change it only through in_root (inside the chroot).
debian_layer() {
  local out="$1" include
  shift
  include="$(IFS=,; echo "$*")"
  mkdir -p "$DEBS"
  log "$NAME: mmdebstrap $SUITE with $include"
  local -a src
  mapfile -t src < <(sources "$SUITE")
  mmdebstrap_logged "$(dirname "$out")/mmdebstrap.log" --mode=root --variant="$VARIANT" --format=tar --quiet \
    --include="$include" \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --skip=essential/unlink --skip=output/dev \
    --setup-hook="mkdir -p \"\$1/var/cache/apt/archives\"" \
    --setup-hook="sync-in '$DEBS' /var/cache/apt/archives" \
    --essential-hook="'$HERE/build.sh' --hook essential '$NAME' \"\$1\"" \
    --customize-hook="sync-out /var/cache/apt/archives '$DEBS'" \
    --customize-hook="rm -f \"\$1\"/var/cache/apt/archives/*.deb \"\$1\"/var/cache/apt/archives/partial/*.deb" \
    --customize-hook="'$HERE/build.sh' --hook customize '$NAME' \"\$1\"" \
    "$SUITE" "$out" "${src[@]}"
}

# in_root ROOT COMMAND [ARG...]: COMMAND run inside the image's root (chroot), so that its absolute
# symlinks (/var/run -> /run, /etc/mysql/my.cnf -> /etc/alternatives/my.cnf) resolve in the image,
# never on the build host
in_root() {
  local root="$1"
  shift
  [ -x "$root/bin/sh" ] || [ -x "$root/usr/bin/sh" ] || die "$NAME: $root is no root filesystem yet"
  chroot "$root" "$@"
}

# copy_into ROOT FROM DEST: the files of directory FROM (outside) into directory DEST of the root,
# extracted by tar inside the chroot: an existing symlink in the image is replaced, never followed
copy_into() {
  local root="$1" from="$2" dest="$3"
  in_root "$root" mkdir -p "$dest"
  tar --create --directory="$from" --owner=0 --group=0 --numeric-owner . |
    in_root "$root" tar --extract --no-same-owner --directory="$dest" --file=-
}

# system_user ROOT NAME UID [HOME]: a system user and its group with a fixed id, created before the
# packages whose scripts would otherwise give it the next free one
system_user() {
  local root="$1" name="$2" id="$3" home="${4:-/nonexistent}"
  # shellcheck disable=SC2016 # expanded by the shell inside the root
  in_root "$root" sh -c '
    grep -q "^$1:" /etc/group || echo "$1:x:$2:" >>/etc/group
    grep -q "^$1:" /etc/passwd || echo "$1:x:$2:$2:$1:$3:/usr/sbin/nologin" >>/etc/passwd
    if [ -f /etc/shadow ]; then grep -q "^$1:" /etc/shadow || echo "$1:*:0:0:99999:7:::" >>/etc/shadow; fi
    if [ -f /etc/gshadow ]; then grep -q "^$1:" /etc/gshadow || echo "$1:!::" >>/etc/gshadow; fi
  ' system_user "$name" "$id" "$home"
}

# install_files ROOT: the image's own files (images/<name>/rootfs/ and images/lib/); the host's
# hostname and resolv.conf out (the runtime gives every container its own), a localhost hosts file
install_files() {
  local root="$1"
  in_root "$root" sh -c 'rm -f /etc/hostname /etc/resolv.conf /var/cache/debconf/*-old'
  [ "$(realpath "$root/var/cache/debconf")" = "$(realpath "$root")/var/cache/debconf" ] ||
    die "$NAME: /var/cache/debconf of the image is a symlink: refusing to rewrite what it points to"
  # debconf writes its database in perl's (randomized) hash order, and ucf's prompts record a
  # temporary file name: sorted and without those, two builds agree
  python3 - "$root/var/cache/debconf" <<'PY'
import os, sys
for name in ('config.dat', 'templates.dat', 'passwords.dat'):
    path = os.path.join(sys.argv[1], name)
    if os.path.isfile(path):
        with open(path, encoding='utf-8', errors='surrogateescape') as f:
            stanzas = [s.strip('\n') for s in f.read().split('\n\n') if s.strip() and not s.strip().startswith('Name: ucf/')]
        with open(path, 'w', encoding='utf-8', errors='surrogateescape') as f:
            f.write(''.join(s + '\n\n' for s in sorted(stanzas)))
PY
  printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' | in_root "$root" sh -c 'cat >/etc/hosts'
  if [ -d "$HERE/$NAME/rootfs" ]; then copy_into "$root" "$HERE/$NAME/rootfs" /; fi
  if [ -d "$HERE/lib" ]; then copy_into "$root" "$HERE/lib" /usr/local/lib/cdk8s-stateful; fi
}

# the recipe's defaults; images/<name>/recipe.sh sets CONFIG (the image's runtime config as JSON)
# and either PACKAGES (a Debian image) or a `layer OUT` function (anything else)
load_recipe() {
  NAME="$1"
  CONFIG=''
  PACKAGES=()
  VARIANT=essential
  unset -f layer essential customize
  [ -f "$HERE/$NAME/recipe.sh" ] || die "no image '$NAME' (images/$NAME/recipe.sh is missing); images: $(names | tr '\n' ' ')"
  [ -n "${IMAGE_REF[$NAME]+set}" ] || die "$(basename "$VERSIONS") has no entry '$NAME'"
  # what the recipe may read: the image's upstream version and Debian suite (versions.json)
  # shellcheck disable=SC2034 # read by the recipes
  VERSION="${IMAGE_VERSION[$NAME]}"
  SUITE="${IMAGE_SUITE[$NAME]}"
  # shellcheck source=/dev/null
  . "$HERE/$NAME/recipe.sh"
  [ -n "$CONFIG" ] || die "images/$NAME/recipe.sh sets no CONFIG"
  REFERENCE="${IMAGE_REF[$NAME]}"
  [ -n "$REFERENCE" ] || die "images/versions.json gives '$NAME' no image reference"
}

build_one() {
  load_recipe "$1"
  local hash stamp="$OUT/$NAME.recipe" archive="$OUT/$NAME.tar" work start
  hash="$(recipe_hash "$NAME")"
  if [ -f "$archive" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$hash" ]; then
    log "$NAME: $REFERENCE is up to date ($archive)"
    return 0
  fi
  start=$SECONDS
  log "$NAME: building $REFERENCE"
  work="$(mktemp -d "$OUT/.build-$NAME.XXXXXX")"
  # shellcheck disable=SC2064 # expand now: the trap outlives this function's locals
  trap "rm -rf '$work'" EXIT
  if declare -F layer >/dev/null; then
    layer "$work/layer.tar"
  else
    [ "${#PACKAGES[@]}" -gt 0 ] || die "images/$NAME/recipe.sh sets neither PACKAGES nor a layer function"
    # the pinned version of a package replaces its bare name
    local -a include=() pinned=()
    local pin pkg
    while read -r pin; do [ -n "$pin" ] && pinned+=("$pin"); done < <(pins "$NAME")
    for pkg in "${PACKAGES[@]}"; do
      for pin in ${pinned[@]+"${pinned[@]}"}; do [ "${pin%%=*}" = "$pkg" ] && pkg=''; done
      if [ -n "$pkg" ]; then include+=("$pkg"); fi
    done
    include+=(${pinned[@]+"${pinned[@]}"})
    debian_layer "$work/layer.tar" "${include[@]}"
  fi
  python3 "$HERE/oci.py" "$work/layer.tar" "$REFERENCE" "$CONFIG" "$archive" >/dev/null
  echo "$hash" >"$stamp"
  rm -rf "$work"
  trap - EXIT
  log "$NAME: built $REFERENCE in $((SECONDS - start))s ($(du -h "$archive" | cut -f1))"
}

case "${1:-}" in
  --tags) cat "$VERSIONS"; exit 0 ;;
  --list) names; exit 0 ;;
  --hook)
    # called back by mmdebstrap: --hook essential|customize NAME ROOT
    read_versions
    load_recipe "$3"
    if [ "$2" = customize ]; then install_files "$4"; fi
    if declare -F "$2" >/dev/null; then "$2" "$4"; fi
    exit 0
    ;;
  -h | --help) sed -n "2,14p" "$0" | sed "s/^# \{0,1\}//"; exit 0 ;;
  -*) die "unknown option $1 (see images/build.sh --help)" ;;
esac

# the build's tools, installed from Debian when one is missing (images/install-deps.sh)
if ! command -v mmdebstrap >/dev/null || ! command -v gcc >/dev/null || ! command -v python3 >/dev/null ||
  [ ! -f /usr/lib/x86_64-linux-gnu/libc.a ]; then
  "$HERE/install-deps.sh" || die "the build's tools are missing and images/install-deps.sh could not install them (mmdebstrap gcc libc6-dev python3)"
fi
for tool in mmdebstrap gcc python3 sha256sum tar flock; do
  command -v "$tool" >/dev/null || die "$tool is missing: run images/install-deps.sh as root"
done
read_versions
mkdir -p "$OUT"
exec 9>"$OUT/.lock"
flock 9 || die "cannot lock $OUT/.lock"
if [ "$#" -eq 0 ]; then
  # every image with a recipe that the versions file lists (the older set has no mysql)
  selected=()
  for name in $(names); do
    if [ -n "${IMAGE_REF[$name]+set}" ]; then selected+=("$name"); fi
  done
else
  selected=("$@")
fi
for name in "${selected[@]}"; do
  build_one "$name"
done
echo "$OUT"
