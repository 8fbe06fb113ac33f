#!/usr/bin/env bash
# Installs the Debian packages tools/images/build.sh needs: mmdebstrap (the Debian images), gcc and
# libc6-dev (the static pause program), python3 (the OCI archive), and the keyring mmdebstrap
# verifies the mirror with. Idempotent; tools/images/build.sh runs it when a tool is missing; needs root.
exec "$(dirname "$0")/../scripts/apt-install.sh" '[images] install-deps' \
  mmdebstrap gcc libc6-dev python3 debian-archive-keyring
