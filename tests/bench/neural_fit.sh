#!/usr/bin/env bash
# Training throughput of the predictive model of neurons (default NeuralModelConfig: stacked core
# 9/7/7/7 x 32 channels + Gaussian readout, 36x64 images, batch 64, Poisson loss + regularization,
# Adam): the engine (bench_neural_fit) against the same model in Python PyTorch (neural_fit.py, the
# same LibTorch 1.13 underneath), on the CPU with the same thread count. The two run alternately
# `rounds` times (the first side alternating too), so load from other work falls on both; each run
# prints the median seconds per step over its repeats. Prints every run, then a table of the medians
# over rounds: steps/s and images/s per side and the ratio C++ time / Python time per step (< 1:
# C++ faster), also for the best runs, and the process CPU time per step (less sensitive to other
# work on the machine, with THREADS=1 above all). Fails when the two models' parameter counts differ.
# Usage: tests/bench/neural_fit.sh [build dir] [rounds] [neurons]
#   build dir  default: build/release in the checkout (the script turns benchmarks on there and builds bench_neural_fit)
#   rounds, neurons  default: 3 5335 (the Lurz scan's population)
# Environment: THREADS (default: all cores) for both sides; STEPS, RUNS, WARMUP, BATCH (defaults 3,
# 5, 2, 64: each run is WARMUP + RUNS x STEPS training steps); PYTHON (default: the first of python3,
# /usr/bin/python3 that imports torch; Debian's python3-torch is the same LibTorch 1.13).
# Allocator: the C++ side runs with bp::initializeRuntime's glibc thresholds (mmap 32 MiB, trim
# 1 GiB), Python with glibc's defaults, as each side's users get them. MATCH_MALLOC=1 gives Python
# the runtime's thresholds too (glibc's MALLOC_*_ variables), so the ratio compares the frameworks
# alone; MMAP_THRESHOLD=BYTES sets that mmap threshold on both sides (trim 1 GiB), an experiment.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$repo/build/release}
rounds=${2:-3}
neurons=${3:-5335}
threads=${THREADS:-$(nproc)}
steps=${STEPS:-3}
runs=${RUNS:-5}
warmup=${WARMUP:-2}
batch=${BATCH:-64}

source "$(dirname "$0")/bench_program.sh" bench_neural_fit

source "$(dirname "$0")/reference_python.sh" torch

# Both sides set their intra-op threads themselves; OpenMP and OpenBLAS read these.
export OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads
common=(--neurons "$neurons" --batch "$batch" --steps "$steps" --runs "$runs" --warmup "$warmup" --threads "$threads")
cpp_extra=() python_env=() allocator="C++: runtime (mmap 32 MiB, trim 1 GiB); Python: glibc defaults"
if [[ -n ${MMAP_THRESHOLD:-} ]]; then
  cpp_extra=(--mmap-threshold "$MMAP_THRESHOLD")
  python_env=(MALLOC_MMAP_THRESHOLD_="$MMAP_THRESHOLD" MALLOC_TRIM_THRESHOLD_=1073741824)
  allocator="both: mmap threshold $MMAP_THRESHOLD bytes, trim 1 GiB"
elif [[ ${MATCH_MALLOC:-0} == 1 ]]; then
  python_env=(MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=1073741824)
  allocator="both: runtime's (mmap 32 MiB, trim 1 GiB)"
fi
run_cpp() { "$bench" "${common[@]}" "${cpp_extra[@]}" 2>/dev/null; }
run_python() { env "${python_env[@]}" "$python" "$repo/tests/bench/neural_fit.py" "${common[@]}" --expect-parameters "$1"; }

echo "allocator: $allocator"
echo "load before: $(uptime)"
# The C++ model's parameter count, which the Python model must match (neural_fit.py exits 2 otherwise).
parameters=$("$bench" --neurons "$neurons" --batch 2 --steps 1 --runs 1 --warmup 0 --threads "$threads" 2>/dev/null |
  "$python" -c 'import json, sys; print(json.load(sys.stdin)["parameters"])')
results=()
for ((round = 1; round <= rounds; ++round)); do
  if ((round % 2)); then
    cpp=$(run_cpp); python_result=$(run_python "$parameters")
  else
    python_result=$(run_python "$parameters"); cpp=$(run_cpp)
  fi
  echo "round $round C++    $cpp"
  echo "round $round Python $python_result"
  results+=("$cpp" "$python_result")
done
echo "load after:  $(uptime)"

"$python" - "${results[@]}" <<'PY'
import json, statistics, sys
runs = [json.loads(text) for text in sys.argv[1:]]
cpp, py = runs[0::2], runs[1::2]
if any(c["parameters"] != p["parameters"] for c, p in zip(cpp, py)):
    sys.exit("parameter counts differ: C++ %s, Python %s" % (cpp[0]["parameters"], py[0]["parameters"]))
first = cpp[0]
print(f"\n{first['neurons']} neurons, batch {first['batch']}, {first['parameters']} parameters, "
      f"{first['threads']} threads; per run {first['warmup']} warm-up + {first['runs']} x {first['steps']} timed steps")
print(f"{'round':>5}  {'C++ s/step':>10}  {'Python s/step':>13}  {'ratio':>6}   {'CPU s/step: C++':>15}  "
      f"{'Python':>6}  {'ratio':>6}")
for i, (c, p) in enumerate(zip(cpp, py), 1):
    print(f"{i:>5}  {c['seconds_per_step']:>10.3f}  {p['seconds_per_step']:>13.3f}  "
          f"{c['seconds_per_step'] / p['seconds_per_step']:>6.3f}   {c['cpu_seconds_per_step']:>15.3f}  "
          f"{p['cpu_seconds_per_step']:>6.3f}  {c['cpu_seconds_per_step'] / p['cpu_seconds_per_step']:>6.3f}")
median = {side: statistics.median(r["seconds_per_step"] for r in rs) for side, rs in (("C++", cpp), ("Python", py))}
best = {side: min(r["seconds_per_step_best"] for r in rs) for side, rs in (("C++", cpp), ("Python", py))}
batch = first["batch"]
print(f"\n{'side':<7} {'s/step':>7} {'steps/s':>8} {'images/s':>9}   {'best s/step':>11} {'best images/s':>13}")
for side in ("C++", "Python"):
    print(f"{side:<7} {median[side]:>7.3f} {1 / median[side]:>8.3f} {batch / median[side]:>9.1f}   "
          f"{best[side]:>11.3f} {batch / best[side]:>13.1f}")
print(f"ratio C++/Python time per step: {median['C++'] / median['Python']:.3f} (median of rounds), "
      f"{best['C++'] / best['Python']:.3f} (best runs); < 1 means C++ faster")
cpu = {side: statistics.median(r["cpu_seconds_per_step"] for r in rs) for side, rs in (("C++", cpp), ("Python", py))}
print(f"CPU time per step (all threads): C++ {cpu['C++']:.3f} s, Python {cpu['Python']:.3f} s, ratio "
      f"{cpu['C++'] / cpu['Python']:.3f} (load-robust with THREADS=1; with more threads, spinning at "
      f"OpenMP barriers adds to it on a busy machine)")
PY
