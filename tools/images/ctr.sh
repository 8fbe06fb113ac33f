# shellcheck shell=bash
# A private containerd for tools/images/smoke.sh: its own root, state, socket and config under
# CTR_DIR (default /tmp/ctr-images), so it never touches a node's containerd. Sourced.
#
#   ctr_up                  start it (or reuse the one running there)
#   ctr_down                stop it (only the process this directory's pid file names)
#   c <ctr args...>         ctr against it, namespace k8s.io
#   ctr_import NAME         import <images dir>/NAME.tar
#   ctr_run ID UID GID NAME [options...] -- [args...]
#                           run a container detached as a restricted pod would (see below)
#   ctr_rm ID               kill and remove a container

CTR_DIR="${CTR_DIR:-/tmp/ctr-images}"
CTR_SOCK="$CTR_DIR/containerd.sock"

c() { ctr --address "$CTR_SOCK" --namespace k8s.io "$@"; }

ctr_up() {
  local tool
  for tool in containerd ctr runc; do
    command -v "$tool" >/dev/null ||
      fail "$tool is missing: the image smoke test runs the images in a private containerd (apt-get install containerd runc)"
  done
  mkdir -p "$CTR_DIR"
  if [ -S "$CTR_SOCK" ] && c version >/dev/null 2>&1; then return 0; fi
  cat >"$CTR_DIR/config.toml" <<EOF
version = 2
root = "$CTR_DIR/root"
state = "$CTR_DIR/state"
[grpc]
  address = "$CTR_SOCK"
[ttrpc]
  address = "$CTR_SOCK.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.grpc.v1.cri"]
  # this machine's sandbox lacks CAP_SYS_RESOURCE: runc cannot lower oom_score_adj
  restrict_oom_score_adj = true
  disable_cgroup = false
  sandbox_image = "registry.k8s.io/pause:3.10"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$CTR_DIR/cni"
EOF
  containerd --config "$CTR_DIR/config.toml" >"$CTR_DIR/containerd.log" 2>&1 &
  echo $! >"$CTR_DIR/containerd.pid"
  local _
  for _ in $(seq 1 50); do
    if c version >/dev/null 2>&1; then return 0; fi
    kill -0 "$(cat "$CTR_DIR/containerd.pid")" 2>/dev/null ||
      fail "containerd exited at start: $(tail -5 "$CTR_DIR/containerd.log")"
    sleep 0.2
  done
  fail "containerd did not answer on $CTR_SOCK within 10s: $(tail -5 "$CTR_DIR/containerd.log")"
}

ctr_down() {
  local pid
  pid="$(cat "$CTR_DIR/containerd.pid" 2>/dev/null || true)"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    local _
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  fi
  rm -f "$CTR_DIR/containerd.pid"
}

# archive_ref ARCHIVE: the image reference an OCI archive names
archive_ref() {
  python3 -c 'import json, sys, tarfile; print(json.load(tarfile.open(sys.argv[1]).extractfile("index.json"))["manifests"][0]["annotations"]["io.containerd.image.name"])' "$1"
}

ctr_import() {
  c images import "$IMAGES_OUT/$1.tar" >/dev/null || fail "ctr images import $IMAGES_OUT/$1.tar failed"
}

# ctr_run ID UID GID IMAGE [options] -- [args]: a detached container as a restricted pod runs it.
# ctr 1.6 has no --user and takes no image with --config, so the container gets the image's
# root filesystem mounted from a containerd snapshot (ctr images mount) and a runtime spec written
# here: `ctr oci spec` defaults, then the image's entrypoint/command/env/working directory (from the
# OCI archive) and:
#   the uid and gid given (gid also supplementary, as fsGroup), a read-only root filesystem,
#   no capabilities at all, no new privileges, a new network namespace.
# No seccomp profile: ctr has none to give a spec file; the node's kubelet applies RuntimeDefault.
# Options: --env K=V, --mount SRC:DST[:ro], --netns PATH (join a network namespace),
# --hostname NAME, --foreground (wait for the end, fail unless it exits 0: an init container),
# --command (the arguments replace the image's entrypoint, as a pod's `command` does; without it
# they replace the image's command, as a pod's `args` do).
ctr_run() {
  local id="$1" uid="$2" gid="$3" archive="$IMAGES_OUT/$4.tar" image
  shift 4
  local -a opts=()
  local foreground=''
  while [ "$#" -gt 0 ] && [ "$1" != -- ]; do
    case "$1" in
      --foreground) foreground=1 ;;
      --command) opts+=("$1" 1) ;;
      *) opts+=("$1" "$2"); shift ;;
    esac
    shift
  done
  [ "${1:-}" = -- ] && shift
  image="$(archive_ref "$archive")"
  local images
  images="$(c images ls -q)"
  grep -Fxq "$image" <<<"$images" || fail "$image is not imported"
  mkdir -p "$CTR_DIR/rootfs/$id"
  c images mount --rw "$image" "$CTR_DIR/rootfs/$id" >/dev/null || fail "ctr images mount $image failed"
  c oci spec >"$CTR_DIR/$id.default.json"
  python3 - "$CTR_DIR/$id.default.json" "$CTR_DIR/$id.spec.json" "$archive" \
    "$CTR_DIR/rootfs/$id" "$id" "$uid" "$gid" "${opts[@]}" -- "$@" <<'PY' || fail "cannot write the runtime spec of $id"
import json, sys, tarfile
default, out, archive, rootfs, cid, uid, gid, *rest = sys.argv[1:]
sep = rest.index('--')
opts, args = rest[:sep], rest[sep + 1:]
spec = json.load(open(default))
with tarfile.open(archive) as tar:
    blob = lambda d: json.load(tar.extractfile('blobs/sha256/' + d.split(':')[1]))
    index = json.load(tar.extractfile('index.json'))
    image = blob(blob(index['manifests'][0]['digest'])['config']['digest'])['config']
env = list(image.get('Env') or [])
proc = spec['process']
command = '--command' in opts[::2]
if command:
    proc['args'] = args
else:
    proc['args'] = (image.get('Entrypoint') or []) + (args or image.get('Cmd') or [])
proc['cwd'] = image.get('WorkingDir') or '/'
proc['user'] = {'uid': int(uid), 'gid': int(gid), 'additionalGids': [int(gid)]}
proc['capabilities'] = {k: [] for k in ('bounding', 'effective', 'permitted', 'inheritable', 'ambient')}
proc['noNewPrivileges'] = True
spec['root'] = {'path': rootfs, 'readonly': True}
spec['hostname'] = cid
# a cgroup of its own (ctr's default spec has none per container; a node's pods use /k8s.io)
spec['linux']['cgroupsPath'] = f'/cdk8s-images-smoke/{cid}'
mounts = spec['mounts']
i = 0
while i < len(opts):
    flag, value = opts[i], opts[i + 1]
    i += 2
    if flag == '--env':
        key = value.split('=', 1)[0]
        env = [e for e in env if e.split('=', 1)[0] != key] + [value]
    elif flag == '--mount':
        src, dst, *mode = value.split(':')
        mounts.append({'destination': dst, 'type': 'bind', 'source': src,
                       'options': ['rbind', mode[0] if mode else 'rw']})
    elif flag == '--netns':
        for ns in spec['linux']['namespaces']:
            if ns['type'] == 'network':
                ns['path'] = value
    elif flag == '--command':
        pass
    elif flag == '--hostname':
        spec['hostname'] = value
    else:
        sys.exit(f'unknown option {flag}')
proc['env'] = env
# /etc/hosts as the kubelet gives every pod one
hosts = out + '.hosts'
open(hosts, 'w').write(f"127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.0.1\t{spec['hostname']}\n")
mounts.append({'destination': '/etc/hosts', 'type': 'bind', 'source': hosts, 'options': ['rbind', 'ro']})
json.dump(spec, open(out, 'w'), indent=1)
PY
  if [ -n "$foreground" ]; then
    local status=0
    c run --config "$CTR_DIR/$id.spec.json" "$id" >"$CTR_DIR/$id.log" 2>&1 </dev/null || status=$?
    [ "$status" -eq 0 ] || fail "$id ($image) exited with status $status: $(tail -20 "$CTR_DIR/$id.log")"
    return 0
  fi
  c run --detach --log-uri "file://$CTR_DIR/$id.log" --config "$CTR_DIR/$id.spec.json" "$id" >/dev/null ||
    fail "ctr run $id ($image) failed: $(tail -5 "$CTR_DIR/$id.log" 2>/dev/null)"
}

# ctr_run_as_root ID NAME [--mount SRC:DST[:ro]]... -- [args]: the image as `docker run` would
# start it, as ctr itself makes the spec: the image's user (root), containerd's default
# capabilities and its default seccomp profile (the kubelet's RuntimeDefault), a read-only root.
ctr_run_as_root() {
  local id="$1" image
  image="$(archive_ref "$IMAGES_OUT/$2.tar")"
  shift 2
  local -a opts=()
  while [ "$#" -gt 0 ] && [ "$1" != -- ]; do
    case "$1" in
      --mount)
        local src dst mode
        IFS=: read -r src dst mode <<<"$2"
        opts+=(--mount "type=bind,src=$src,dst=$dst,options=rbind:${mode:-rw}")
        shift
        ;;
      *) opts+=("$1") ;;
    esac
    shift
  done
  [ "${1:-}" = -- ] && shift
  c run --detach --log-uri "file://$CTR_DIR/$id.log" --cgroup "/cdk8s-images-smoke/$id" --seccomp --read-only \
    "${opts[@]}" "$image" "$id" "$@" >/dev/null || fail "ctr run $id ($image) failed: $(tail -5 "$CTR_DIR/$id.log" 2>/dev/null)"
}

ctr_rm() {
  c tasks kill --signal SIGKILL "$1" >/dev/null 2>&1 || true
  local _
  for _ in $(seq 1 25); do
    c tasks delete "$1" >/dev/null 2>&1 && break
    c tasks ls -q 2>/dev/null | grep -qx "$1" || break
    sleep 0.2
  done
  c containers delete "$1" >/dev/null 2>&1 || true
  if [ -d "$CTR_DIR/rootfs/$1" ]; then
    c images unmount --rm "$CTR_DIR/rootfs/$1" >/dev/null 2>&1 || umount "$CTR_DIR/rootfs/$1" 2>/dev/null || true
    rmdir "$CTR_DIR/rootfs/$1" 2>/dev/null || true
  fi
}
