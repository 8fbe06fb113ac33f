# shellcheck shell=bash disable=SC2034 # build.sh reads CONFIG, PACKAGES and VARIANT
# versitygw (an Apache-2.0 S3 gateway) as cdk8s-stateful.invalid/versitygw:<version>: the static
# binary that tools/s3-server/build.sh builds from the Go module proxy, alone in its layer, run as
# 65532:65532. The S3-compatible store of the backup tests: `versitygw --cert ... --key ... posix
# <dir>` serves every directory of <dir> as a bucket over HTTPS.
CONFIG='{"Entrypoint":["/usr/local/bin/versitygw"],"User":"65532:65532","Env":["PATH=/usr/local/bin"],"ExposedPorts":{"7070/tcp":{}}}'

layer() {
  local dir root bin
  dir="$(dirname "$1")"
  root="$dir/root"
  bin="$(VERSITYGW_VERSION="v$VERSION" "$HERE/../s3-server/build.sh" | tail -n 1)" ||
    die "versitygw: tools/s3-server/build.sh failed (see its output above)"
  [ -x "$bin" ] || die "versitygw: tools/s3-server/build.sh printed no binary ($bin)"
  mkdir -p "$root/usr/local/bin" "$root/etc" "$root/tmp" "$root/data"
  install -m 0755 "$bin" "$root/usr/local/bin/versitygw"
  chmod 1777 "$root/tmp"
  printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' 'versitygw:x:65532:65532:versitygw:/data:/sbin/nologin' >"$root/etc/passwd"
  printf '%s\n' 'root:x:0:' 'versitygw:x:65532:' >"$root/etc/group"
  deterministic_tar "$root" "$1"
}
