# Sourced by the benchmark scripts with the timing program's target name ($1) after they set
# `build` (a build folder) and `repo`: turns BRAINPRIOR_BUILD_BENCHMARKS on in that build folder
# (configuring it from the release preset when it holds no build yet), builds the one program and
# sets `bench` to its path.
bench_target=$1
if [[ ! -f $build/CMakeCache.txt ]]; then
  cmake -S "$repo" -B "$build" --preset release -DBRAINPRIOR_BUILD_BENCHMARKS=ON >/dev/null
else
  cmake -S "$repo" -B "$build" -DBRAINPRIOR_BUILD_BENCHMARKS=ON >/dev/null
fi
cmake --build "$build" --target "$bench_target" >&2 ||
  { echo "could not build $bench_target in $build" >&2; exit 1; }
bench=$build/tests/bench/$bench_target
