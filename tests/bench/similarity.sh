#!/usr/bin/env bash
# Centred-cosine similarity of 5,000 images x 5,335 units (the Lurz scan's size): the C++ kernel
# (bench_similarity) against numpy (similarity_numpy.py) on the same machine, both on OpenBLAS
# with the same thread count. Prints both median times, the ratio C++/numpy (target <= 1.0), and
# the kernel's useful GFLOP/s against one large SGEMM (target >= 80%); the same for the best runs,
# which other work on a shared machine disturbs least.
# Usage: tests/bench/similarity.sh [build dir] [images] [units] [runs]
#   build dir  default: build/release in the checkout (the script turns benchmarks on there and builds bench_similarity)
#   images, units, runs  default: 5000 5335 3
# Set THREADS (default 2) for both sides; PYTHON to pick the interpreter (default: the first of
# python3, /usr/bin/python3 that has numpy; Debian's python3-numpy uses the system OpenBLAS).
# The streamed 50,000-image run is separate: $build/tests/bench/bench_similarity --stream 50000
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$repo/build/release}
images=${2:-5000}
units=${3:-5335}
runs=${4:-3}
threads=${THREADS:-2}

source "$(dirname "$0")/bench_program.sh" bench_similarity

source "$(dirname "$0")/reference_python.sh" numpy

# OpenBLAS reads OPENBLAS_NUM_THREADS; LibTorch's own loops read OMP_NUM_THREADS.
export OPENBLAS_NUM_THREADS=$threads OMP_NUM_THREADS=$threads
cpp=$("$bench" --images "$images" --units "$units" --runs "$runs" 2>/dev/null)
numpy=$("$python" "$repo/tests/bench/similarity_numpy.py" "$images" "$units" "$runs")
echo "C++   $cpp"
echo "numpy $numpy"
"$python" - "$cpp" "$numpy" <<'PY'
import json, sys
cpp, numpy = (json.loads(text) for text in sys.argv[1:3])
ratio = cpp["seconds"] / numpy["seconds"]
best = cpp["seconds_best"] / numpy["seconds_best"]
print(f"time C++ {cpp['seconds']:.3f} s, numpy {numpy['seconds']:.3f} s: ratio C++/numpy {ratio:.3f} "
      f"(best runs {best:.3f}; target <= 1.0)")
print(f"useful GFLOP/s: C++ {cpp['gflops_effective']:.1f}, numpy {numpy['gflops_effective']:.1f}; "
      f"SGEMM {cpp['sgemm_gflops']:.1f}: C++ at {100 * cpp['ratio_to_sgemm']:.0f}% of SGEMM "
      f"(best runs {100 * cpp['ratio_to_sgemm_best']:.0f}%; target >= 80%)")
PY
