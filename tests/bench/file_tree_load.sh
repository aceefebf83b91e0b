#!/usr/bin/env bash
# Loads one neuralpredictors file tree with the C++ reader (bench_file_tree_load) and with numpy
# (file_tree_load_numpy.py), prints both median times and the ratio C++/numpy (below 1: C++ faster).
# Usage: tests/bench/file_tree_load.sh [folder] [build dir] [runs]
#   folder     default: ../shared/data/mouse-v1-lurz2021/static20457-5-9-preproc0 beside the checkout
#   build dir  default: build/release in the checkout (the script builds bench_file_tree_load there)
#   runs       default: 3
# Set PYTHON to pick the interpreter; otherwise the first of python3, /usr/bin/python3 with numpy.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
folder=${1:-$repo/../shared/data/mouse-v1-lurz2021/static20457-5-9-preproc0}
build=${2:-$repo/build/release}
runs=${3:-3}

source "$(dirname "$0")/bench_program.sh" bench_file_tree_load
[[ -d $folder ]] || { echo "no file tree at $folder" >&2; exit 1; }

source "$(dirname "$0")/reference_python.sh" numpy

cpp=$("$bench" "$folder" "$runs")
numpy=$("$python" "$repo/tests/bench/file_tree_load_numpy.py" "$folder" "$runs")
echo "C++   $cpp"
echo "numpy $numpy"
"$python" - "$cpp" "$numpy" <<'PY'
import json, sys
cpp, numpy = (json.loads(text) for text in sys.argv[1:3])
if (cpp["trials"], cpp["files"]) != (numpy["trials"], numpy["files"]):
    sys.exit(f"the two loaders read different data: {cpp} vs {numpy}")
print(f"ratio C++/numpy: {cpp['seconds_median'] / numpy['seconds_median']:.3f}")
PY
