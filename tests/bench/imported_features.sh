#!/usr/bin/env bash
# Feature extraction of an imported model (issue 17): torchvision's ResNet18 saved as TorchScript and
# run by the engine (bp::layerFeatures, bench_imported_features), against the same network run eagerly
# in Python PyTorch (imported_features.py; Debian's python3-torch and python3-torchvision, the same
# LibTorch 1.13 underneath), at two input sizes (default 64 and 224 pixels a side), on the CPU with the
# same thread count. Each round runs the four programs in an order that reverses every round, so load
# from other work falls on all of them; each prints the median seconds per extraction of IMAGES
# images. Prints every run, then per size the images per second of each side (median over rounds) and
# the ratio C++ time / Python time (target <= 1.0), also for the best runs and for CPU time.
# Usage: tests/bench/imported_features.sh [build dir] [rounds]
#   build dir  default: build/release in the checkout (the script turns benchmarks on there and
#              builds bench_imported_features)
#   rounds     default: 3
# Environment: THREADS (default: all cores) for both sides; IMAGES (128), BATCH (32), POOL (2), REPEATS
# (3), WARMUP (1); SMALL (64) and LARGE (224), the two sizes; PYTHON (default: the first of python3,
# /usr/bin/python3 that imports torch).
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$repo/build/release}
rounds=${2:-3}
threads=${THREADS:-$(nproc)}
small=${SMALL:-64} large=${LARGE:-224}

source "$(dirname "$0")/bench_program.sh" bench_imported_features
source "$(dirname "$0")/reference_python.sh" torchvision
source "$(dirname "$0")/alternating_rounds.sh"

export OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads
models=$(mktemp -d)
trap 'rm -rf "$models"' EXIT
"$python" "$repo/tests/bench/imported_features.py" --make "$models" --sizes "$small" "$large"
common=(--images "${IMAGES:-128}" --batch "${BATCH:-32}" --pool "${POOL:-2}" --repeats "${REPEATS:-3}"
  --warmup "${WARMUP:-1}" --threads "$threads")
run_side() {  # side size
  if [[ $1 == C++ ]]; then
    "$bench" --model "$models/resnet18-$2.pt" "${common[@]}" 2>/dev/null
  else
    "$python" "$repo/tests/bench/imported_features.py" --size "$2" "${common[@]}"
  fi
}

echo "load before: $(uptime)"
run_alternating_rounds "$rounds" 4 "C++ $small" "Python $small" "C++ $large" "Python $large"
echo "load after:  $(uptime)"

"$python" - "${results[@]}" <<'PY'
import json, statistics, sys
runs = [json.loads(text) for text in sys.argv[1:]]
table = {}
for run in runs:
    table.setdefault((run["side"], run["size"]), []).append(run)
sizes = sorted({run["size"] for run in runs})
for size in sizes:
    units = {run["units"] for run in runs if run["size"] == size}
    if len(units) != 1:
        sys.exit(f"the two sides extract different features at {size} px: {sorted(units)} units")
first = runs[0]
print(f"\nResNet18 (torchvision, random weights) as a feature extractor: stages 1-4 pooled to 2 x 2 and the "
      f"logits; {first['images']} images in batches of {first['batch']}; {first['threads']} threads")
print("\nC++ (TorchScript through bp::layerFeatures) / Python (eager torchvision), median over rounds; "
      "target time ratio <= 1.0")
print(f"{'size':>5} {'C++ img/s':>10} {'Python img/s':>12} {'time ratio':>10} {'best':>6} {'CPU':>6}")
def median(side, size, key):
    return statistics.median(r[key] for r in table[(side, size)])
for size in sizes:
    c, p = median("C++", size, "seconds"), median("Python", size, "seconds")
    best_c = min(r["seconds_best"] for r in table[("C++", size)])
    best_p = min(r["seconds_best"] for r in table[("Python", size)])
    cpu = median("C++", size, "cpu_seconds") / median("Python", size, "cpu_seconds")
    print(f"{size:>5} {first['images'] / c:>10.1f} {first['images'] / p:>12.1f} {c / p:>10.3f} "
          f"{best_c / best_p:>6.3f} {cpu:>6.3f}")
PY
