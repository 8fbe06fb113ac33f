# shellcheck shell=bash disable=SC2034 # build.sh reads CONFIG, PACKAGES and VARIANT
# busybox (Debian's busybox-static) as docker.io/library/busybox:<version>: a static busybox with
# its applets linked in /bin (sh, httpd, wget, ...), a passwd with root, www-data and nobody; the
# tools image of the custom-engine test. Runs as root unless the pod says otherwise, like the
# official image.
CONFIG='{"Cmd":["sh"],"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]}'

layer() {
  local dir root pin
  dir="$(dirname "$1")"
  root="$dir/root"
  pin="$(pins busybox | grep '^busybox-static=')" || die "images/versions.json pins no busybox-static version"
  mkdir -p "$dir/extract" "$root/bin" "$root/etc" "$root/tmp" "$root/root" "$root/var/www" "$root/home"
  # mmdebstrap's extract variant unpacks the package and runs no hook: busybox is taken from it
  log "$NAME: mmdebstrap --variant=extract $pin"
  local -a src
  mapfile -t src < <(sources "$SUITE")
  mmdebstrap_logged "$dir/mmdebstrap.log" --mode=root --variant=extract --format=directory --quiet --include="$pin" \
    --skip=output/dev "$SUITE" "$dir/extract" "${src[@]}"
  cp "$dir/extract/bin/busybox" "$root/bin/busybox" || die "busybox-static has no /bin/busybox"
  chmod 1777 "$root/tmp"
  local applet
  for applet in $("$root/bin/busybox" --list); do
    [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
  done
  printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'www-data:x:33:33:www-data:/var/www:/bin/false' \
    'nobody:x:65534:65534:nobody:/home:/bin/false' >"$root/etc/passwd"
  printf '%s\n' 'root:x:0:' 'www-data:x:33:' 'nogroup:x:65534:' >"$root/etc/group"
  printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
  deterministic_tar "$root" "$1"
}
