#!/usr/bin/env bash
# What made alpha 20 swamp the cross-entropy in the README's comparison: the target, the atanh
# clamp, the loss scale or alpha itself (docs/results.md, "What made alpha 20 swamp the
# cross-entropy"). The small ResNet on TRAIN_IMAGES Fashion-MNIST images for EPOCHS epochs, seeds
# SEEDS, under six launches:
#   baseline                  no regularizer
#   readme-a20                the README comparison's target (a 4-epoch model of the Lurz recording
#                             over 1,000 Fashion-MNIST images), alpha 20
#   readme-shuffled-a20       the same target shuffled: the same values without their structure
#   readme-a20-eps0.1         the same with the atanh clamp at 0.9 instead of 0.999
#   readme-a2                 the same at alpha 2
#   demo-a20                  the demo's target (the embedded population, 500 images), alpha 20
# Usage: packaging/examples/alpha-and-target-scale.sh [LURZ_FOLDER] [WORK]
#   LURZ_FOLDER  default: ../shared/data/mouse-v1-lurz2021/static20457-5-9-preproc0
#   WORK         default: runs/alpha-and-target-scale
# Environment: CLI (default build/release/app/cli/brainprior-cli), THREADS (1), TRAIN_IMAGES
# (10000), EPOCHS (3), SEEDS ("1 2 3"). An interrupted script resumes when rerun.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
cli=${CLI:-$repo/build/release/app/cli/brainprior-cli}
lurz=${1:-$repo/../shared/data/mouse-v1-lurz2021/static20457-5-9-preproc0}
work=${2:-runs/alpha-and-target-scale}
threads=${THREADS:-1}
train_images=${TRAIN_IMAGES:-10000}
epochs=${EPOCHS:-3}
read -r -a seeds <<<"${SEEDS:-1 2 3}"
fashion=${BRAINPRIOR_FASHION_MNIST:-/usr/share/datasets/fashion-mnist}

[[ -x $cli ]] || { echo "no $cli: build the target brainprior-cli first (or set CLI)" >&2; exit 1; }
[[ -d $lurz ]] || { echo "no Lurz recording at $lurz (see ../shared/data/README.md)" >&2; exit 1; }
mkdir -p "$work/runs"
work=$(cd "$work" && pwd)

# The two targets: the README comparison's (its V1 model had 4 epochs) and the demo's.
if [[ ! -f $work/readme-target.h5 ]]; then
  "$cli" --threads "$threads" fit "$lurz" -o "$work/v1-4-epochs.pt" --epochs 4 >"$work/fit.json"
  "$cli" --threads "$threads" target "$work/v1-4-epochs.pt" "$lurz" --images "$fashion" --split train \
    --max-images 1000 --check -o "$work/readme-target.h5" >"$work/readme-target.json"
fi
if [[ ! -f $work/demo/target.h5 ]]; then
  rm -rf "$work/demo"
  # Only the target is used: the demo's classifiers are kept tiny.
  "$cli" --threads "$threads" demo -o "$work/demo" --train-images 1000 --test-images 500 --epochs 1 \
    --probe-images 50 >"$work/demo.json"
fi

python3 - "$repo/packaging/examples/fashion-mnist-small-resnet.json" "$work" "$fashion" "$train_images" \
  "$epochs" "${seeds[*]}" <<'PY'
import copy, json, os, sys
base_file, work, fashion, train, epochs, seeds = sys.argv[1:]
base = json.load(open(base_file))
base["data"].update(path=fashion, max_train_images=int(train), max_test_images=2000)
base.update(epochs=int(epochs), seeds=[int(s) for s in seeds.split()])
def neural(matrix, images, alpha, clamp=None, shuffled=False):
    regularizer = {"kind": "neural_similarity", "alpha": alpha, "pair_batch_size": 16,
                   "target": {"source": "matrix_file", "matrix_file": os.path.join(work, matrix),
                              "images": {"path": fashion, "split": "train", "max_images": images},
                              "shuffled": shuffled}}
    if clamp is not None:
        regularizer["similarity"] = {"clamp_epsilon": clamp}
    return regularizer
launches = {
    "baseline": {"kind": "none"},
    "readme-a20": neural("readme-target.h5", 1000, 20.0),
    "readme-shuffled-a20": neural("readme-target.h5", 1000, 20.0, shuffled=True),
    "readme-a20-eps0.1": neural("readme-target.h5", 1000, 20.0, clamp=0.1),
    "readme-a2": neural("readme-target.h5", 1000, 2.0),
    "demo-a20": neural("demo/target.h5", 500, 20.0),
}
for name, regularizer in launches.items():
    config = copy.deepcopy(base)
    config.update(name=name, regularizer=regularizer)
    with open(os.path.join(work, name + ".json"), "w") as out:
        json.dump(config, out, indent=2)
PY

for launch in baseline readme-a20 readme-shuffled-a20 readme-a20-eps0.1 readme-a2 demo-a20; do
  echo "== training $launch" >&2
  "$cli" --threads "$threads" train --config "$work/$launch.json" --output-dir "$work/runs" --resume >/dev/null
done
"$cli" info "$work/readme-target.h5" >"$work/readme-target-info.json"
"$cli" info "$work/demo/target.h5" >"$work/demo-target-info.json"
"$cli" runs "$work/runs" --compare
