#!/usr/bin/env bash
# The `cli-only` preset configures where Qt is absent: Qt 6 is hidden from find_package, so any
# find_package(Qt6) left on the engine-and-CLI path fails this check. It then checks that the build
# it would run has the engine and the CLI and nothing of Qt.
# Usage: tests/build/cli_only_configure.sh <source dir>
set -euo pipefail
source_dir=$1
build_dir=$(mktemp -d)
trap 'rm -rf "$build_dir"' EXIT
cmake -S "$source_dir" -B "$build_dir" --preset cli-only -DCMAKE_DISABLE_FIND_PACKAGE_Qt6=ON \
  -DCMAKE_DISABLE_FIND_PACKAGE_QCustomPlotQt6=ON >"$build_dir/configure.log" 2>&1 ||
  { cat "$build_dir/configure.log"; echo "cli-only: configuring without Qt failed" >&2; exit 1; }
targets=$(cmake --build "$build_dir" --target help)
for wanted in brainprior_core brainprior-cli; do
  grep -q "^$wanted:" <<<"$targets" || { echo "cli-only: no target $wanted" >&2; exit 1; }
done
if grep -qiE '^(brainprior|brainprior_app|brainprior_widgets|[a-z]+_test_[a-z_]+):' <<<"$targets"; then
  echo "cli-only: Qt targets configured:" >&2
  grep -iE '^(brainprior|brainprior_app|brainprior_widgets|[a-z]+_test_[a-z_]+):' <<<"$targets" >&2
  exit 1
fi
if grep -q 'Qt6' "$build_dir/CMakeCache.txt" && grep -q '^Qt6_DIR:PATH=/' "$build_dir/CMakeCache.txt"; then
  echo "cli-only: Qt 6 was found although it was hidden" >&2
  exit 1
fi
echo "cli-only configures without Qt: engine and CLI targets only"
