#!/usr/bin/env bash
# Catches LibTorch API drift without a GPU (issue 15): compiles every translation unit of the engine,
# the CLI, the app's sessions, the engine tests and the benchmarks against LibTorch 2.x headers,
# syntax only (-fsyntax-only: nothing is linked, so no 2.x libraries are needed). The headers come
# from Debian trixie's libtorch-dev (2.6), fetched with apt-get download through a private sources
# list and lists folder and unpacked with dpkg -x into a private folder: the system's packages are
# never touched. Not part of CTest: it needs the network once and takes about 8 minutes on 2 cores.
# Run it before you stop whenever you touch LibTorch code.
# Usage: tests/build/libtorch2_syntax.sh [build dir] [headers dir]
#   build dir    a configured build of this checkout (default build/ci): its generated headers and
#                the tests' moc output are used
#   headers dir  where the 2.x headers are unpacked (default build/libtorch2-headers; reused)
# Environment: JOBS (default: all cores); SUITE (default trixie); FILES (a space-separated subset).
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
build=$(realpath "${1:-$repo/build/ci}")
headers=$(realpath -m "${2:-$repo/build/libtorch2-headers}")
suite=${SUITE:-trixie}
jobs=${JOBS:-$(nproc)}

if [[ ! -d $headers/usr/include/torch ]]; then
  mkdir -p "$headers/apt/lists/partial" "$headers/apt/cache/archives/partial" "$headers/debs"
  echo "deb http://deb.debian.org/debian $suite main" >"$headers/apt/sources.list"
  apt_options=(-o "Dir::Etc::SourceList=$headers/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$headers/apt/lists" -o "Dir::Cache=$headers/apt/cache")
  apt-get update -qq "${apt_options[@]}"
  (cd "$headers/debs" && apt-get download -qq "${apt_options[@]}" libtorch-dev 2>/dev/null)
  dpkg -x "$headers"/debs/libtorch-dev_*.deb "$headers"
fi
version=$(basename "$headers"/debs/libtorch-dev_*.deb | sed 's/libtorch-dev_\([^_]*\)_.*/\1/')
include=$headers/usr/include
qt=/usr/include/x86_64-linux-gnu/qt6

flags=(-std=c++17 -fsyntax-only -fPIC -D_GLIBCXX_USE_CXX11_ABI=1 -DQT_NO_KEYWORDS -DQT_NO_DEBUG
  "-DBRAINPRIOR_CLI_PATH=\"brainprior-cli\"" "-DBRAINPRIOR_CLI_VERSION=\"0\"" "-DBRAINPRIOR_SHARED_DATA_DEFAULT=\"\""
  -I "$repo/core" -I "$repo" -I "$build/core/generated" -I "$repo/tests/support"
  -I "$build/tests/core_tests_autogen/include" -I "$build/tests/acceptance_tests_autogen/include"
  -isystem /usr/include/hdf5/serial -isystem /usr/include/opencv4
  -isystem "$include/torch/csrc/api/include" -isystem "$include"
  -isystem "$qt" -isystem "$qt/QtCore" -isystem "$qt/QtTest" -isystem /usr/lib/x86_64-linux-gnu/qt6/mkspecs/linux-g++)

cd "$repo"
if [[ -n ${FILES:-} ]]; then
  read -r -a files <<<"$FILES"
else
  mapfile -t files < <(git ls-files 'core/*.cpp' 'app/cli/*.cpp' 'app/*_session.cpp' 'tests/core/*.cpp' \
    'tests/acceptance/*.cpp' 'tests/support/torchscript_fixture.cpp' 'tests/bench/bench_*.cpp' |
    grep -v 'bench_heatmap.cpp')
fi
echo "LibTorch $version headers in $include; ${#files[@]} files, $jobs at a time"
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
started=$SECONDS
printf '%s\n' "${files[@]}" | xargs -P "$jobs" -I{} bash -c \
  'out="$1/$(echo "$2" | tr / _).log"; shift 2; g++ "$@" >"$out" 2>&1 || echo failed >>"$out"' _ "$log" {} "${flags[@]}" {}
failed=0
for file in "${files[@]}"; do
  out="$log/$(echo "$file" | tr / _).log"
  if grep -q '^failed$' "$out"; then
    failed=$((failed + 1))
    echo "== $file"
    grep -E 'error|required from here' "$out" | head -20
  fi
done
echo "LibTorch $version: ${#files[@]} files, $failed failed, $((SECONDS - started)) s"
[[ $failed -eq 0 ]]
