# shellcheck shell=bash disable=SC2034 # build.sh reads CONFIG, PACKAGES and VARIANT
# registry.k8s.io/pause: the pod sandbox's process, our own pause.c linked statically; the image
# holds nothing else. It runs as 65535:65535, as the upstream image does.
CONFIG='{"Entrypoint":["/pause"],"User":"65535:65535","WorkingDir":"/"}'

layer() {
  command -v gcc >/dev/null || die "gcc is missing (apt-get install gcc libc6-dev)"
  local root
  root="$(dirname "$1")/root"
  mkdir -p "$root"
  gcc -static -Os -s -Wall -Wextra -Werror -o "$root/pause" "$HERE/pause/pause.c" ||
    die "pause: gcc -static failed (is libc6-dev installed?)"
  deterministic_tar "$root" "$1"
}
