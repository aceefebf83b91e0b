#!/usr/bin/env bash
# Classifier training throughput (issue 5): the engine's loop, bp::trainClassifier
# (bench_classifier_training), against the same model and loop in Python PyTorch
# (classifier_training.py, the same LibTorch 1.13 underneath), each without a regularizer and with
# the neural-similarity regularizer at its defaults (pair batch 16, alpha 20), on synthetic
# in-memory data (default: small ResNet, 1 x 32 x 32 images, batch 64, SGD with momentum and weight
# decay, random crop + flip), on the CPU with the same thread count.
# Each round runs four programs, C++ and Python without and with the regularizer, in an order that
# reverses every round, so load from other work falls on all four; each prints the median seconds per
# step over its timed epochs. Prints every run, then
#   (a) per regularizer setting, C++ and Python seconds per step (median over rounds), images/s and
#       the ratio C++ time / Python time (target <= 1.0), also for the best runs and for CPU time;
#   (b) per side, the regularizer's overhead: seconds per step with it / without it - 1 (target
#       <= 25% for the engine), from the medians and as the median of the rounds' paired ratios.
# Fails when the two models' parameter counts differ.
# Usage: tests/bench/classifier_training.sh [build dir] [rounds] [architecture]
#   build dir     default: build/release in the checkout (the script turns benchmarks on there and builds bench_classifier_training)
#   rounds        default: 3
#   architecture  default: small_resnet (or resnet18, resnet34: much slower, lower STEPS and RUNS)
# Environment: THREADS (default: all cores) for both sides; STEPS, RUNS, WARMUP (defaults 6, 4, 1:
# each run is WARMUP + RUNS epochs of STEPS steps, STEPS x BATCH train images), BATCH (64), PAIRS
# (16), ALPHA (20), SIZE (32: images are 1 x SIZE x SIZE), WIDTH (16, small_resnet only),
# AUGMENTATION (1; 0 turns random crop and flip off on both sides); PYTHON (default: the first of
# python3, /usr/bin/python3 that imports torch). MATCH_MALLOC=1 gives Python bp::initializeRuntime's
# glibc thresholds (mmap 32 MiB, trim 1 GiB), which the C++ side always has. BREAKDOWN=1 then runs
# bench_classifier_training --breakdown (REPEATS, default 6): the engine's step rebuilt from its
# modules, without and with the pair batch's pass through the model and with the whole regularizer,
# to tell the model's extra work on the pair images from the regularizer's own arithmetic.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$repo/build/release}
rounds=${2:-3}
architecture=${3:-small_resnet}
threads=${THREADS:-$(nproc)}
steps=${STEPS:-6}
runs=${RUNS:-4}
warmup=${WARMUP:-1}
batch=${BATCH:-64}
pairs=${PAIRS:-16}
alpha=${ALPHA:-20}
size=${SIZE:-32}
width=${WIDTH:-16}

source "$(dirname "$0")/bench_program.sh" bench_classifier_training

source "$(dirname "$0")/reference_python.sh" torch
source "$(dirname "$0")/alternating_rounds.sh"

# Both sides set their intra-op threads themselves; OpenMP and OpenBLAS read these.
export OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads
common=(--architecture "$architecture" --width "$width" --batch "$batch" --pairs "$pairs" --alpha "$alpha"
  --image-size "$size" --steps "$steps" --runs "$runs" --warmup "$warmup" --threads "$threads")
[[ ${AUGMENTATION:-1} == 1 ]] || common+=(--no-augmentation)
python_env=() allocator="C++: runtime (mmap 32 MiB, trim 1 GiB); Python: glibc defaults"
if [[ ${MATCH_MALLOC:-0} == 1 ]]; then
  python_env=(MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=1073741824)
  allocator="both: runtime's (mmap 32 MiB, trim 1 GiB)"
fi

# The C++ model's parameter count, which the Python model must match (classifier_training.py exits 2 otherwise).
parameters=$("$bench" "${common[@]}" --parameters-only 2>/dev/null |
  "$python" -c 'import json, sys; print(json.load(sys.stdin)["parameters"])')
run_side() {  # side regularizer
  if [[ $1 == C++ ]]; then
    "$bench" "${common[@]}" --regularizer "$2" 2>/dev/null
  else
    env "${python_env[@]}" "$python" "$repo/tests/bench/classifier_training.py" "${common[@]}" --regularizer "$2" \
      --expect-parameters "$parameters"
  fi
}

echo "allocator: $allocator"
echo "load before: $(uptime)"
run_alternating_rounds "$rounds" 17 "C++ none" "Python none" "C++ neural_similarity" "Python neural_similarity"
breakdown=""
if [[ ${BREAKDOWN:-0} == 1 ]]; then
  breakdown=$("$bench" "${common[@]}" --breakdown --repeats "${REPEATS:-6}" 2>/dev/null)
  echo "breakdown $breakdown"
fi
echo "load after:  $(uptime)"

"$python" - "$breakdown" "${results[@]}" <<'PY'
import json, statistics, sys
breakdown = json.loads(sys.argv[1]) if sys.argv[1] else None
runs = [json.loads(text) for text in sys.argv[2:]]
table = {}  # (side, regularizer) -> runs in round order
for run in runs:
    table.setdefault((run["side"], run["regularizer"]), []).append(run)
counts = {run["parameters"] for run in runs}
if len(counts) != 1:
    sys.exit(f"parameter counts differ: {sorted(counts)}")
first = runs[0]
regularized = table[("C++", "neural_similarity")][0]
print(f"\n{first['architecture']}, {first['parameters']} parameters, 1 x {first['image_size']} x {first['image_size']} "
      f"images, batch {first['batch']}, augmentation {'on' if first['augmentation'] else 'off'}, "
      f"{first['threads']} threads; per run {first['warmup']} warm-up + {first['runs']} timed epochs of "
      f"{first['steps']} steps; regularizer: pair batch {regularized['pairs']} (2 x {regularized['pairs']} images), "
      f"alpha {regularized['alpha']:g}")

def median(side, regularizer, key="seconds_per_step"):
    return statistics.median(r[key] for r in table[(side, regularizer)])

def best(side, regularizer):
    return min(r["seconds_per_step_best"] for r in table[(side, regularizer)])

print(f"\n{'round':>5}  {'regularizer':<17} {'C++ s/step':>10} {'Python s/step':>13} {'ratio':>6}")
for i in range(len(table[("C++", "none")])):
    for regularizer in ("none", "neural_similarity"):
        c, p = table[("C++", regularizer)][i], table[("Python", regularizer)][i]
        print(f"{i + 1:>5}  {regularizer:<17} {c['seconds_per_step']:>10.4f} {p['seconds_per_step']:>13.4f} "
              f"{c['seconds_per_step'] / p['seconds_per_step']:>6.3f}")

batch = first["batch"]
print("\n(a) training throughput, C++ (bp::trainClassifier) / Python PyTorch, median over rounds; target ratio <= 1.0")
print(f"{'regularizer':<17} {'C++ s/step':>10} {'Python s/step':>13} {'C++ img/s':>9} {'Python img/s':>12} "
      f"{'ratio':>6} {'best ratio':>10} {'CPU ratio':>9}")
for regularizer in ("none", "neural_similarity"):
    c, p = median("C++", regularizer), median("Python", regularizer)
    cpu_c, cpu_p = median("C++", regularizer, "cpu_seconds_per_step"), median("Python", regularizer, "cpu_seconds_per_step")
    print(f"{regularizer:<17} {c:>10.4f} {p:>13.4f} {batch / c:>9.1f} {batch / p:>12.1f} {c / p:>6.3f} "
          f"{best('C++', regularizer) / best('Python', regularizer):>10.3f} {cpu_c / cpu_p:>9.3f}")

print("\n(b) regularizer overhead: s/step with the neural-similarity regularizer / without - 1; target <= 25% (engine)")
print(f"{'side':<7} {'none s/step':>11} {'regularized':>11} {'overhead':>9} {'paired rounds':>13} {'best runs':>9} {'CPU':>7}")
for side in ("C++", "Python"):
    base, reg = median(side, "none"), median(side, "neural_similarity")
    paired = statistics.median(r["seconds_per_step"] / b["seconds_per_step"] - 1
                               for b, r in zip(table[(side, "none")], table[(side, "neural_similarity")]))
    cpu = median(side, "neural_similarity", "cpu_seconds_per_step") / median(side, "none", "cpu_seconds_per_step") - 1
    print(f"{side:<7} {base:>11.4f} {reg:>11.4f} {100 * (reg / base - 1):>8.1f}% {100 * paired:>12.1f}% "
          f"{100 * (best(side, 'neural_similarity') / best(side, 'none') - 1):>8.1f}% {100 * cpu:>6.1f}%")
print("(a pair batch is 2 x pairs images through the model with taps, forward and backward, on top of the batch's "
      f"{batch}: {2 * regularized['pairs'] / batch:.0%} more images)")
if breakdown:
    b = breakdown
    print(f"\nwhere the engine's overhead goes (--breakdown: the engine's modules on fixed batches, {b['repeats']} "
          f"repeats x {b['steps']} steps, median; relative to the batch step)")
    print(f"{'variant':<12} {'s/step':>8} {'CPU s/step':>10} {'+ wall':>7} {'+ CPU':>7}")
    for name, label in (("batch", "batch"), ("pair_pass", "+pair pass"), ("regularized", "+L_sim")):
        wall, cpu = b[f"{name}_seconds_per_step"], b[f"{name}_cpu_seconds_per_step"]
        print(f"{label:<12} {wall:>8.4f} {cpu:>10.4f} {100 * (wall / b['batch_seconds_per_step'] - 1):>6.1f}% "
              f"{100 * (cpu / b['batch_cpu_seconds_per_step'] - 1):>6.1f}%")
PY
