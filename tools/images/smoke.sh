#!/usr/bin/env bash
# Runs the test images for real, before any cluster: builds them (tools/images/build.sh), imports them
# into a private containerd (tools/images/ctr.sh, under CTR_DIR=/tmp/ctr-images) and runs each as a
# restricted pod would run it (non-root uid, read-only root filesystem, no capabilities, seccomp,
# only the preset's volumes writable), checking that the server starts and serves.
#
#   tools/images/smoke.sh [name ...]     every image, or the named ones
#
# Each image's check is tools/images/smoke/<name>.sh. Fails with the reason when containers cannot run
# here (no containerd, no runc, no overlayfs, ...): never a silent skip.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
RUN_ID="smoke-$$"
WORK="${SMOKE_DIR:-/tmp/ctr-images/work}/$RUN_ID"

say() { printf '[smoke] %s\n' "$*" >&2; }
fail() { printf '[smoke] FAIL: %s\n' "$*" >&2; exit 1; }

# shellcheck source=ctr.sh
. "$HERE/ctr.sh"

[ "$(id -u)" = 0 ] || fail "run as root: the smoke test starts its own containerd"
if [ "$#" -eq 0 ]; then mapfile -t NAMES < <("$HERE/build.sh" --list); else NAMES=("$@"); fi
# IMAGES_OUT=<dir> uses archives built before instead of running build.sh
if [ -z "${IMAGES_OUT:-}" ]; then IMAGES_OUT="$("$HERE/build.sh" "${NAMES[@]}" | tail -n 1)"; fi

cleanup() {
  local id
  if [ -f "$WORK/containers" ]; then
    while read -r id; do ctr_rm "$id"; done <"$WORK/containers"
  fi
  ctr_down
  rm -rf "$WORK"
}
trap cleanup EXIT
ctr_up
mkdir -p "$WORK"


# run ID UID GID NAME [ctr_run options] -- [args]: a restricted container, removed at exit
run() {
  local id="$RUN_ID-$1"
  echo "$id" >>"$WORK/containers"
  shift
  ctr_run "$id" "$@"
}

# run_as_root ID NAME [--mount SRC:DST[:ro]]... -- [args]: see ctr_run_as_root; removed at exit
run_as_root() {
  local id="$RUN_ID-$1"
  echo "$id" >>"$WORK/containers"
  shift
  ctr_run_as_root "$id" "$@"
}

# logs ID: the container's output so far
logs() { cat "$CTR_DIR/$RUN_ID-$1.log" 2>/dev/null || true; }

# status ID: RUNNING, STOPPED, ...
status() { c tasks ls 2>/dev/null | awk -v id="$RUN_ID-$1" '$1 == id { print $3 }'; }

# is_status ID STATUS
is_status() { [ "$(status "$1")" = "$2" ]; }

# inside ID CMD...: runs CMD in the running container (as its user), prints its output
inside() {
  local id="$RUN_ID-$1"
  shift
  c tasks exec --exec-id "x$BASHPID-$RANDOM$RANDOM" "$id" "$@"
}

# wait_for SECONDS CMD...: retries CMD (a command or a function) once a second until it succeeds
wait_for() {
  local seconds="$1" i
  shift
  for ((i = 0; i < seconds; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  return 1
}

# data_dir NAME UID GID: a fresh host directory for a claim's volume as the kubelet hands it to a
# pod with fsGroup GID: owned by root, group GID, setgid, group-writable (UID is not its owner)
data_dir() {
  local dir="$WORK/$1"
  mkdir -p "$dir"
  chown "0:$3" "$dir"
  chmod 2775 "$dir"
  echo "$dir"
}


# The preset's files, as StatefulDatabase mounts them: the engine scripts (the ConfigMap) at
# /opt/cdk8s-stateful and the credentials Secret at /run/secrets/db (0440, group fsGroup).
SCRIPTS="$ROOT/lib/database/engines/scripts"
scripts_mount() { echo "$SCRIPTS:/opt/cdk8s-stateful:ro"; }

# secrets GID: a credentials directory like the preset's Secret volume; prints its path
secrets() {
  local dir="$WORK/secrets-$1"
  if [ ! -d "$dir" ]; then
    mkdir -p "$dir"
    printf '%s' "root 'pass\"word" >"$dir/root-password"
    printf '%s' app >"$dir/username"
    printf '%s' "app-pass'word" >"$dir/password"
    printf '%s' "repl-pass'word" >"$dir/replication-password"
    chown -R "0:$1" "$dir"
    chmod 0440 "$dir"/*
    chmod 0755 "$dir"
  fi
  echo "$dir"
}

# tmp_dir NAME UID GID: an emptyDir as the kubelet makes it with fsGroup GID (0777, setgid)
tmp_dir() {
  local dir
  dir="$(data_dir "$@")"
  chmod 2777 "$dir"
  echo "$dir"
}

failed=()
for name in "${NAMES[@]}"; do
  [ -f "$HERE/smoke/$name.sh" ] || fail "no smoke test for '$name' (tools/images/smoke/$name.sh)"
  ctr_import "$name"
  say "$name: $(archive_ref "$IMAGES_OUT/$name.tar")"
  start=$SECONDS
  # shellcheck source=/dev/null
  if ( set -euo pipefail; . "$HERE/smoke/$name.sh" ); then
    say "$name: ok ($((SECONDS - start))s)"
  else
    say "$name: FAILED"
    failed+=("$name")
  fi
done
[ "${#failed[@]}" -eq 0 ] || fail "images that did not work: ${failed[*]} (see the output above)"
say "all passed: ${NAMES[*]}"
