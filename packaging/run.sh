#!/usr/bin/env bash
# The README's first command: install what BrainPrior needs, build it, and run the main job on the
# embedded default data (a synthetic V1 population driven by Fashion-MNIST). With a display the GUI
# opens with that data loaded; without one the CLI prints a readable summary of the same data.
set -euo pipefail
cd "$(dirname "$0")/.."
bash packaging/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target brainprior brainprior-cli
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  exec build/release/app/brainprior "$@"
else
  echo "No display found: running the default data through brainprior-cli instead of the GUI."
  exec build/release/app/cli/brainprior-cli info default --text "$@"
fi
