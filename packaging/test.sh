#!/usr/bin/env bash
# The README's second command (and CI's): install what BrainPrior needs, build everything with
# warnings as errors, and run the whole test suite. Real-data acceptance tests use ../shared/data
# when it is there and skip otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
bash packaging/install-deps.sh
cmake --preset ci >/dev/null
cmake --build --preset ci
ctest --preset ci
