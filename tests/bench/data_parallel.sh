#!/usr/bin/env bash
# Data-parallel training throughput (issue 16): `brainprior-cli train --nproc 2` (two workers of
# one thread each, torch.distributed over Gloo on 127.0.0.1, each taking half of every batch)
# against one process with two threads, the same config and seed, on Fashion-MNIST (Debian's
# dataset-fashion-mnist): small ResNet, grayscale 28 x 28, batch 64, SGD, random crop + flip.
# The two sides alternate (the order reverses every round). Each run's summary gives its seconds
# per epoch (the first epoch is not counted: allocation and warm-up) and, for the workers, the
# seconds spent in collectives (sending, receiving and waiting for the slower worker) and the
# bytes each worker sent per step. Prints every run, then per side the median images/s, and the
# ratio workers / one process (target >= 0.9).
# Usage: tests/bench/data_parallel.sh [build dir] [rounds]
#   build dir  default: build/release in the checkout (configured from the release preset when
#              empty; only brainprior-cli is built)
#   rounds     default: 3
# Environment: BATCH_NORM (synchronized, the default: one exchange per batch-norm layer each way; or
# per_worker: one exchange per step), IMAGES (6000 train images), EPOCHS (3), BATCH (64), WIDTH (16), REGULARIZER (none,
# or neural_similarity: a pixel-similarity target of 500 test images, pair batch 16, alpha 1),
# DATA (/usr/share/datasets/fashion-mnist), PYTHON (/usr/bin/python3, for reading the summaries).
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$repo/build/release}
rounds=${2:-3}
images=${IMAGES:-6000}
epochs=${EPOCHS:-3}
batch=${BATCH:-64}
width=${WIDTH:-16}
regularizer=${REGULARIZER:-none}
batch_norm=${BATCH_NORM:-synchronized}
data=${DATA:-/usr/share/datasets/fashion-mnist}
python=${PYTHON:-/usr/bin/python3}

[[ -d $data ]] || { echo "no Fashion-MNIST at $data (install dataset-fashion-mnist or set DATA)" >&2; exit 1; }
if [[ ! -f $build/CMakeCache.txt ]]; then cmake -S "$repo" -B "$build" --preset release >/dev/null; fi
cmake --build "$build" --target brainprior-cli >&2
cli=$build/app/cli/brainprior-cli

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$python" - "$work/config.json" "$data" "$images" "$epochs" "$batch" "$width" "$regularizer" "$batch_norm" <<'PY'
import json, sys
path, data, images, epochs, batch, width, regularizer, batch_norm = sys.argv[1:]
config = {
    "name": "bench",
    "data": {"path": data, "grayscale": True, "max_train_images": int(images), "max_test_images": 1000,
             "validation_fraction": 0.0,
             "augmentation": {"enabled": True, "random_crop": True, "crop_padding": 4, "horizontal_flip": True}},
    "model": {"architecture": "small_resnet", "width": int(width), "input_channels": 1, "class_count": 10,
              "image_mean": [0.2860], "image_std": [0.3530]},
    "optimizer": {"kind": "sgd", "learning_rate": 0.05, "momentum": 0.9, "weight_decay": 0.0005},
    "schedule": {"kind": "constant"},
    "epochs": int(epochs), "batch_size": int(batch), "seed": 1,
    "regularizer": {"kind": regularizer}, "batch_norm": batch_norm,
}
if regularizer == "neural_similarity":
    config["regularizer"].update({"alpha": 1.0, "pair_batch_size": 16,
                                  "target": {"source": "pixel", "images": {"split": "test", "max_images": 500}}})
json.dump(config, open(path, "w"), indent=1)
PY

# run_side SIDE: trains once and prints "images/s exchange-ms/step exchange-KB/step".
run_side() {
  local side=$1 output=$work/runs-$RANDOM
  if [[ $side == workers ]]; then
    "$cli" --quiet train --config "$work/config.json" --output-dir "$output" --nproc 2 >/dev/null
  else
    "$cli" --quiet --threads 2 train --config "$work/config.json" --output-dir "$output" >/dev/null
  fi
  "$python" - "$output/bench-seed1/summary.json" "$batch" <<'PY'
import json, math, statistics, sys
summary = json.load(open(sys.argv[1]))
batch = int(sys.argv[2])
train = summary["images"]["train"]
seconds = statistics.median(epoch["seconds"] for epoch in summary["history"][1:])
steps = len(summary["history"]) * math.ceil(train / batch)
exchange = summary["timing"].get("exchange")
if exchange:
    print(f"{train / seconds:.1f} {1000 * exchange['seconds'] / steps:.2f} {exchange['bytes'] / steps / 1024:.1f}")
else:
    print(f"{train / seconds:.1f} - -")
PY
  rm -rf "$output"
}

echo "data-parallel benchmark: $images images, $epochs epochs (first not counted), batch $batch, small ResNet width $width, regularizer $regularizer, batch norm $batch_norm; $(nproc) cores"
echo "round side     images/s exchange-ms/step exchange-KB/step"
declare -A measured=([one]="" [workers]="")
for ((round = 1; round <= rounds; ++round)); do
  order=(one workers)
  ((round % 2)) || order=(workers one)
  for side in "${order[@]}"; do
    result=$(run_side "$side")
    printf "%-5d %-8s %s\n" "$round" "$side" "$result"
    measured[$side]+="${result%% *} "
  done
done
"$python" - "${measured[one]}" "${measured[workers]}" <<'PY'
import statistics, sys
one = [float(x) for x in sys.argv[1].split()]
workers = [float(x) for x in sys.argv[2].split()]
print(f"one process x 2 threads : median {statistics.median(one):.1f} images/s")
print(f"2 workers x 1 thread    : median {statistics.median(workers):.1f} images/s")
print(f"ratio workers / one process: {statistics.median(workers) / statistics.median(one):.3f} (target >= 0.9)")
PY
