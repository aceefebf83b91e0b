#!/usr/bin/env bash
# Baseline, neural-similarity and shuffled-control classifiers side by side (Li et al. 2019 in
# CPU size): the small ResNet on Fashion-MNIST, one launch per regularizer, several seeds each.
#   1. fit a predictive model of mouse V1 (Lurz et al. 2021) for MINUTES minutes (skipped when
#      WORK/v1-model.pt exists);
#   2. its denoised similarity over the first TARGET_IMAGES Fashion-MNIST train images, with the
#      denoising check (skipped when WORK/target.h5 exists);
#   3. the three launches, derived from fashion-mnist-small-resnet.json (TRAIN_IMAGES train images,
#      EPOCHS epochs, seeds SEEDS), into WORK/runs; an interrupted script resumes them when rerun;
#   4. `brainprior-cli runs WORK/runs --compare`: per launch, the seeds' mean and sd test accuracy.
# Usage: packaging/examples/compare-fashion-mnist.sh [LURZ_FOLDER] [WORK]
#   LURZ_FOLDER  default: ../shared/data/mouse-v1-lurz2021/static20457-5-9-preproc0
#   WORK         default: runs/compare-fashion-mnist
# Environment: CLI (default build/release/app/cli/brainprior-cli), THREADS (default: all cores),
# MINUTES (10), TARGET_IMAGES (1000), TRAIN_IMAGES (10000), EPOCHS (6), SEEDS ("1 2 3"), ALPHA (20, the
# paper's; on this small problem it lets the regularizer swamp the cross-entropy, see docs/results.md),
# REGULARIZED_SEEDS (default: SEEDS) for the two regularized launches.
# The GUI shows the same folder live: brainprior --show training --runs WORK/runs
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
cli=${CLI:-$repo/build/release/app/cli/brainprior-cli}
lurz=${1:-$repo/../shared/data/mouse-v1-lurz2021/static20457-5-9-preproc0}
work=${2:-runs/compare-fashion-mnist}
threads=${THREADS:-0}
minutes=${MINUTES:-10}
target_images=${TARGET_IMAGES:-1000}
train_images=${TRAIN_IMAGES:-10000}
epochs=${EPOCHS:-6}
read -r -a seeds <<<"${SEEDS:-1 2 3}"
read -r -a regularized_seeds <<<"${REGULARIZED_SEEDS:-${seeds[*]}}"
alpha=${ALPHA:-20}
fashion=${BRAINPRIOR_FASHION_MNIST:-/usr/share/datasets/fashion-mnist}

[[ -x $cli ]] || { echo "no $cli: build the target brainprior-cli first (or set CLI)" >&2; exit 1; }
[[ -d $lurz ]] || { echo "no Lurz recording at $lurz (see ../shared/data/README.md)" >&2; exit 1; }
mkdir -p "$work/runs"

if [[ ! -f $work/v1-model.pt ]]; then
  echo "== fitting the V1 model ($minutes min)" >&2
  "$cli" --threads "$threads" fit "$lurz" -o "$work/v1-model.pt" --minutes "$minutes" >"$work/fit.json"
fi
if [[ ! -f $work/target.h5 ]]; then
  echo "== the denoised neural similarity over $target_images Fashion-MNIST train images" >&2
  "$cli" --threads "$threads" target "$work/v1-model.pt" "$lurz" --images "$fashion" --split train \
    --max-images "$target_images" --check -o "$work/target.h5" >"$work/target.json"
fi

# The three configs: the example's, with the regularizer and the subset set here.
python3 - "$repo/packaging/examples/fashion-mnist-small-resnet.json" "$work" "$fashion" "$train_images" \
  "$epochs" "$target_images" "$alpha" "${seeds[*]}" "${regularized_seeds[*]}" <<'PY'
import json, os, sys
base_file, work, fashion, train, epochs, target_images, alpha, seeds, regularized_seeds = sys.argv[1:]
base = json.load(open(base_file))
base["data"]["path"] = fashion
base["data"]["max_train_images"] = int(train)
base["epochs"] = int(epochs)
neural = {"kind": "neural_similarity", "alpha": float(alpha), "pair_batch_size": 16,
          "target": {"source": "matrix_file", "matrix_file": os.path.abspath(os.path.join(work, "target.h5")),
                     "images": {"path": fashion, "split": "train", "max_images": int(target_images)}}}
# The launch names carry alpha, so runs with another alpha go into their own folders.
for name, launch, regularizer, launch_seeds in [
        ("baseline", "fm-baseline", {"kind": "none"}, seeds),
        ("neural", "fm-neural-alpha" + alpha, neural, regularized_seeds),
        ("shuffled", "fm-shuffled-alpha" + alpha, dict(neural, target=dict(neural["target"], shuffled=True)),
         regularized_seeds)]:
    config = dict(base, name=launch, regularizer=regularizer, seeds=[int(s) for s in launch_seeds.split()])
    with open(os.path.join(work, name + ".json"), "w") as out:
        json.dump(config, out, indent=2)
PY

for launch in baseline neural shuffled; do
  echo "== training $launch" >&2
  "$cli" --threads "$threads" train --config "$work/$launch.json" --output-dir "$work/runs" --resume >/dev/null
done
"$cli" runs "$work/runs" --compare
