#!/usr/bin/env bash
# Regenerates the README screenshots from the real app under Xvfb (builds nothing):
#   docs/screenshots/main-window.png  the default data in the Neural data tab
#   docs/screenshots/images.png       the Images tab on Fashion-MNIST (the Debian package's), by class
#   docs/screenshots/similarity.png   the Similarity tab: A = test tier, repeat average, centred
#                                     cosine; B = single trial 0; both ordered by class; one cell
#                                     of A hovered
#   docs/screenshots/models.png       the Models tab with a model of the default data, fitted
#                                     first by brainprior-cli (12 epochs of the GUI's default core)
#   docs/screenshots/training.png     the Training tab over a folder of runs: $TRAINING_RUNS when set
#                                     (e.g. the runs of packaging/examples/compare-fashion-mnist.sh),
#                                     else three quick launches trained first by brainprior-cli
#                                     (baseline, pixel similarity, noise; 2 seeds, 2,000 images)
#   docs/screenshots/probe.png        the Probe tab over the same runs: a noisy test image under a
#                                     PGD attack on the first model (--show probe --probe)
#   docs/screenshots/comparison.png   the Comparison tab over the same runs: the probe report in
#                                     <runs>/probe-report (made first by brainprior-cli probe with
#                                     packaging/examples/probe-quick.json when missing) and, when
#                                     $PREDICTIVITY_REPORT names one, a predictivity report.json
#   docs/screenshots/demo.png         the Demo tab after a shortened demo (--demo; 2,000 train images,
#                                     2 epochs), every step done with its finding
#   docs/screenshots/presentation.png presentation mode (--presentation) on the Similarity tab
# Every tab is shot on a 1280x720 screen (a laptop), presentation mode on a 1920x1080 one (a projector).
# Usage: packaging/screenshots.sh [build dir]   (default: build/release; needs app/brainprior there)
# Each run uses a fresh settings folder, so recent files and engine choices of whoever runs it do
# not show up in the pictures.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$repo/build/release}
app=$build/app/brainprior
cli=$build/app/cli/brainprior-cli
out=$repo/docs/screenshots

[[ -x $app ]] || { echo "no $app: build the target brainprior first" >&2; exit 1; }
command -v xvfb-run >/dev/null || { echo "xvfb-run not found: install xvfb and xauth" >&2; exit 1; }
mkdir -p "$out"

settings=$(mktemp -d)
trap 'rm -rf "$settings"' EXIT
export XDG_CONFIG_HOME=$settings QT_QPA_PLATFORM=xcb

screen=1280x720
shoot() {
  local file=$1
  shift
  xvfb-run -a -s "-screen 0 ${screen}x24" "$app" "$@" --screenshot "$out/$file"
  [[ -s $out/$file ]] || { echo "no screenshot $out/$file" >&2; exit 1; }
  echo "$out/$file ($(($(stat -c %s "$out/$file") / 1024)) KiB)"
}

shoot main-window.png
shoot images.png --show images /usr/share/datasets/fashion-mnist
shoot similarity.png --show similarity

cat >"$settings/fit.json" <<'JSON'
{"model": {"kernel_sizes": [9, 7, 7], "channels": [16, 16, 16]}, "trainer": {"max_epochs": 12, "seed": 1}}
JSON
"$cli" -q fit default --config "$settings/fit.json" -o "$settings/default-model.pt" >/dev/null
shoot models.png --show models --model "$settings/default-model.pt"

runs=${TRAINING_RUNS:-}
if [[ -z $runs ]]; then
  runs=$settings/runs
  base=$repo/packaging/examples/fashion-mnist-small-resnet.json
  for variant in baseline pixel noise; do
    python3 - "$base" "$settings/$variant.json" "$variant" <<'PY'
import json, sys
base, out, variant = sys.argv[1:]
config = json.load(open(base))
config.update(name="quick-" + variant, epochs=4, seeds=[1, 2])
config["data"].update(max_train_images=2000, max_test_images=2000)
config["regularizer"] = {
    "baseline": {"kind": "none"},
    "pixel": {"kind": "neural_similarity", "alpha": 20,
              "target": {"source": "pixel", "images": {"path": config["data"]["path"], "split": "test", "max_images": 500}}},
    "noise": {"kind": "gaussian_noise_augmentation", "noise_sigma": 0.1},
}[variant]
json.dump(config, open(out, "w"), indent=2)
PY
    "$cli" -q train --config "$settings/$variant.json" --output-dir "$runs" >/dev/null
  done
fi
shoot training.png --show training --runs "$runs"
shoot probe.png --show probe --probe "$runs"

if [[ ! -s $runs/probe-report/report.json ]]; then
  "$cli" -q probe "$runs" --config "$repo/packaging/examples/probe-quick.json" --output-dir "$runs/probe-report" >/dev/null
fi
reports=(--report "$runs/probe-report/report.json")
[[ -z ${PREDICTIVITY_REPORT:-} ]] || reports+=(--report "$PREDICTIVITY_REPORT")
shoot comparison.png --show comparison --runs "$runs" "${reports[@]}"

cat >"$settings/demo.json" <<'JSON'
{"fit_epochs": 3, "target_images": 200, "train_images": 2000, "test_images": 500, "epochs": 2, "probe_images": 100}
JSON
shoot demo.png --demo --demo-config "$settings/demo.json" --demo-output "$settings/demo"
screen=1920x1080 shoot presentation.png --presentation --show similarity
