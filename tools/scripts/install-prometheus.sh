#!/usr/bin/env bash
# Usage: tools/scripts/install-prometheus.sh [PACKAGE...]   (default: promtool)
# Prints the directory holding Debian trixie's promtool (and prometheus, when asked for) for this
# machine, extracted from the packages into the shared cache
# ~/.cache/cdk8s-stateful/prometheus/<package>_<version>/ and reused there. The packages come from
# the Debian mirror through a private apt list of trixie (this machine runs an older release, whose
# prometheus is 2.42); nothing is installed into the system, no service is started.
set -euo pipefail
CACHE="${CDK8S_STATEFUL_CACHE:-$HOME/.cache/cdk8s-stateful}/prometheus"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SUITE=trixie
[ "$#" -gt 0 ] || set -- promtool
mkdir -p "$CACHE/apt/lists/partial" "$CACHE/apt/archives/partial" "$CACHE/bin"
echo "deb $MIRROR $SUITE main" >"$CACHE/apt/sources.list"
APT=(-o "Dir::Etc::SourceList=$CACHE/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
  -o "Dir::State::Lists=$CACHE/apt/lists" -o "Dir::Cache=$CACHE/apt" -o "Dir::Cache::archives=$CACHE/apt/archives"
  -o APT::Sandbox::User=root -o Debug::NoLocking=1)
# the list is fetched once a day at most
if [ -z "$(find "$CACHE/apt/lists" -maxdepth 1 -name '*_Packages*' -mtime -1 2>/dev/null)" ]; then
  apt-get "${APT[@]}" update -qq >&2
fi
for pkg in "$@"; do
  version="$(apt-cache "${APT[@]}" show "$pkg" | awk '/^Version:/ && v == "" {v = $2} END {print v}')"
  [ -n "$version" ] || { echo "install-prometheus: $pkg not found in Debian $SUITE" >&2; exit 1; }
  dir="$CACHE/${pkg}_$version"
  if [ ! -x "$dir/usr/bin/$pkg" ]; then
    (cd "$CACHE/apt/archives" && apt-get "${APT[@]}" download "$pkg=$version" >&2)
    rm -rf "$dir.tmp"
    dpkg-deb -x "$CACHE/apt/archives/${pkg}_${version//:/%3a}_amd64.deb" "$dir.tmp"
    mv "$dir.tmp" "$dir"
  fi
  ln -sfn "$dir/usr/bin/$pkg" "$CACHE/bin/$pkg"
done
echo "$CACHE/bin"
