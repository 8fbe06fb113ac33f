# shellcheck shell=bash
# Sourced by package.sh, java-check.sh and go-check.sh: a hash of everything a jsii build reads (tracked
# sources, scripts, package metadata, lockfile, documents, and uncommitted changes to them).
inputs_hash() {
  local files="lib imports package.json package-lock.json tsconfig.jsii.json README.md LICENSE CHANGELOG.md"
  # shellcheck disable=SC2086
  (echo "$*"; git ls-files -s $files; git diff HEAD -- $files) | sha256sum | cut -c1-64
}

# pacmak_target TARGET LABEL [JSII_PACMAK_ARGS...]: out/package/TARGET built by jsii-pacmak, unless
# its inputs are those of the last build (out/package/TARGET/.inputs holds their hash).
pacmak_target() {
  local target="$1" label="$2" inputs
  shift 2
  inputs=$(inputs_hash "$target")
  if [ -f "out/package/$target/.inputs" ] && [ "$(cat "out/package/$target/.inputs")" = "$inputs" ]; then
    echo "$label: out/package/$target is up to date with the sources"
    return 0
  fi
  rm -rf "out/package/$target" "out/package-$target"
  npx jsii-pacmak --targets "$target" --no-npmignore -o "out/package-$target" "$@"
  mkdir -p out/package && mv "out/package-$target/$target" "out/package/$target" && rm -rf "out/package-$target"
  echo "$inputs" > "out/package/$target/.inputs"
}
