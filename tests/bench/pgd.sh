#!/usr/bin/env bash
# PGD attack speed (issue 6): the engine's attack, bp::pgdAttack (bench_pgd), against the same attack
# written in Python PyTorch (pgd.py, the same LibTorch 1.13 underneath), on the same small ResNet with
# random weights and one synthetic batch (default: width 16, 1 x 32 x 32 images, batch 128, 10 steps),
# in L-inf and L2, on the CPU with the same thread count.
# Each round runs four programs, C++ and Python in each norm, in an order that reverses every round,
# so load from other work falls on all four; each prints the median seconds per attack over its timed
# attacks. Prints every run, then per norm the steps per second (one step moves the whole batch) and
# image steps per second of each side (median over rounds) and the ratio C++ steps/s / Python steps/s
# (target >= 1.0), also for the best runs and for CPU time.
# Fails when the two models' parameter counts differ, or when an attack fooled every image (it would
# have stopped before its last step).
# Usage: tests/bench/pgd.sh [build dir] [rounds]
#   build dir  default: build/release in the checkout (the script turns benchmarks on there and builds bench_pgd)
#   rounds     default: 3
# Environment: THREADS (default: all cores) for both sides; STEPS (10), BATCH (128), SIZE (32), WIDTH
# (16), REPEATS (5), WARMUP (1); LINF_EPSILON (1/255), L2_EPSILON (0.1); PYTHON (default: the first of
# python3, /usr/bin/python3 that imports torch). MATCH_MALLOC=1 gives Python bp::initializeRuntime's
# glibc thresholds (mmap 32 MiB, trim 1 GiB), which the C++ side always has.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$repo/build/release}
rounds=${2:-3}
threads=${THREADS:-$(nproc)}

source "$(dirname "$0")/bench_program.sh" bench_pgd

source "$(dirname "$0")/reference_python.sh" torch
source "$(dirname "$0")/alternating_rounds.sh"

# Both sides set their intra-op threads themselves; OpenMP and OpenBLAS read these.
export OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads
common=(--steps "${STEPS:-10}" --batch "${BATCH:-128}" --image-size "${SIZE:-32}" --width "${WIDTH:-16}"
  --repeats "${REPEATS:-5}" --warmup "${WARMUP:-1}" --threads "$threads")
declare -A epsilon=([linf]=${LINF_EPSILON:-0} [l2]=${L2_EPSILON:-0})  # 0: the programs' defaults
python_env=() allocator="C++: runtime (mmap 32 MiB, trim 1 GiB); Python: glibc defaults"
if [[ ${MATCH_MALLOC:-0} == 1 ]]; then
  python_env=(MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=1073741824)
  allocator="both: runtime's (mmap 32 MiB, trim 1 GiB)"
fi

# The C++ model's parameter count, which the Python model must match (pgd.py exits 2 otherwise).
parameters=$("$bench" "${common[@]}" --parameters-only 2>/dev/null |
  "$python" -c 'import json, sys; print(json.load(sys.stdin)["parameters"])')
run_side() {  # side norm
  if [[ $1 == C++ ]]; then
    "$bench" "${common[@]}" --norm "$2" --epsilon "${epsilon[$2]}" 2>/dev/null
  else
    env "${python_env[@]}" "$python" "$repo/tests/bench/pgd.py" "${common[@]}" --norm "$2" \
      --epsilon "${epsilon[$2]}" --expect-parameters "$parameters"
  fi
}

echo "allocator: $allocator"
echo "load before: $(uptime)"
run_alternating_rounds "$rounds" 4 "C++ linf" "Python linf" "C++ l2" "Python l2"
echo "load after:  $(uptime)"

"$python" - "${results[@]}" <<'PY'
import json, statistics, sys
runs = [json.loads(text) for text in sys.argv[1:]]
table = {}  # (side, norm) -> runs in round order
for run in runs:
    table.setdefault((run["side"], run["norm"]), []).append(run)
counts = {run["parameters"] for run in runs}
if len(counts) != 1:
    sys.exit(f"parameter counts differ: {sorted(counts)}")
first = runs[0]
print(f"\nsmall ResNet (width {first['width']}), {first['parameters']} parameters, random weights; batch "
      f"{first['batch']} of 1 x {first['image_size']} x {first['image_size']} images; PGD {first['steps']} steps, "
      f"random start; {first['threads']} threads; per run {first['warmup']} warm-up + {first['repeats']} timed attacks")

def median(side, norm, key):
    return statistics.median(r[key] for r in table[(side, norm)])

print(f"\n{'round':>5}  {'norm':<4} {'C++ steps/s':>11} {'Python steps/s':>14} {'ratio':>6}")
for i in range(len(table[("C++", "linf")])):
    for norm in ("linf", "l2"):
        c, p = table[("C++", norm)][i], table[("Python", norm)][i]
        print(f"{i + 1:>5}  {norm:<4} {c['steps_per_second']:>11.2f} {p['steps_per_second']:>14.2f} "
              f"{c['steps_per_second'] / p['steps_per_second']:>6.3f}")

print("\nPGD speed, C++ (bp::pgdAttack) / Python PyTorch, median over rounds; target ratio >= 1.0")
print(f"{'norm':<5} {'epsilon':>8} {'C++ steps/s':>11} {'Python steps/s':>14} {'C++ img*steps/s':>15} "
      f"{'Python img*steps/s':>18} {'ratio':>6} {'best ratio':>10} {'CPU ratio':>9}")
for norm in ("linf", "l2"):
    c, p = median("C++", norm, "steps_per_second"), median("Python", norm, "steps_per_second")
    ci, pi = median("C++", norm, "image_steps_per_second"), median("Python", norm, "image_steps_per_second")
    best_c = min(r["seconds_per_attack_best"] for r in table[("C++", norm)])
    best_p = min(r["seconds_per_attack_best"] for r in table[("Python", norm)])
    cpu_c, cpu_p = median("C++", norm, "cpu_seconds_per_attack"), median("Python", norm, "cpu_seconds_per_attack")
    print(f"{norm:<5} {table[('C++', norm)][0]['epsilon']:>8.4g} {c:>11.2f} {p:>14.2f} {ci:>15.0f} {pi:>18.0f} "
          f"{c / p:>6.3f} {best_p / best_c:>10.3f} {cpu_p / cpu_c:>9.3f}")
PY
