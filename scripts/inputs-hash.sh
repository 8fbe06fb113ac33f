# Sourced by package.sh and java-check.sh: a hash of everything a jsii build reads (tracked
# sources, scripts, package metadata, lockfile, documents, and uncommitted changes to them).
inputs_hash() {
  local files="lib imports package.json package-lock.json tsconfig.jsii.json README.md LICENSE CHANGELOG.md"
  # shellcheck disable=SC2086
  (echo "$*"; git ls-files -s $files; git diff HEAD -- $files) | sha256sum | cut -c1-64
}
