#!/usr/bin/env bash
# Builds the Debian package from a release build: build/release/brainprior_<version>_<arch>.deb.
# Install it with `sudo apt install ./build/release/brainprior_*.deb` (apt fetches the dependencies).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset release >/dev/null
cmake --build --preset release --target brainprior brainprior-cli
(cd build/release && cpack -G DEB)
ls build/release/brainprior_*.deb
