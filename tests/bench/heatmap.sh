#!/usr/bin/env bash
# The heatmap view on a 5,000 x 5,000 matrix (bench_heatmap): first paint after setMatrix, hover
# latency over 500 synthesized mouse moves, and the wheel zoom that switches to full resolution.
# Prints the program's JSON and a summary against the targets (first paint < 300 ms, hover p95
# < 16 ms, one frame at 60 Hz). Timings are reported, never asserted.
# Usage: tests/bench/heatmap.sh [build dir] [matrix size] [moves]
#   build dir    default: build/release in the checkout (the script builds bench_heatmap there; it
#                exists only in GUI builds)
#   matrix size  default: 5000;  moves  default: 500
# QT_QPA_PLATFORM defaults to offscreen (raster painting into memory, as under Xvfb without a
# compositor); set it to xcb and run under xvfb-run or a real display to include the X server.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$repo/build/release}
size=${2:-5000}
moves=${3:-500}

source "$(dirname "$0")/bench_program.sh" bench_heatmap

export QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen}
result=$("$bench" --size "$size" --moves "$moves")
echo "$result"
python3 - "$result" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
h, z = r["hover"], r["zoom"]
print(f"first paint {r['first_paint_ms']:.0f} ms (setMatrix {r['set_matrix_ms']:.0f} ms, of which block means "
      f"{r['overview_block_means_ms']:.0f} ms; replot {r['first_replot_ms']:.0f} ms; "
      f"again with warm caches {r['repeat_paint_median_ms']:.0f} ms), target < 300 ms")
print(f"hover: to handler median {h['signal_median_ms']:.3f} ms, p95 {h['signal_p95_ms']:.3f} ms; "
      f"with repaint median {h['with_repaint_median_ms']:.3f} ms, p95 {h['with_repaint_p95_ms']:.3f} ms "
      f"({h['signals']} cell changes of {h['moves']} moves), target < 16 ms")
print(f"zoom: full resolution after {z['wheel_steps_to_full_resolution']} wheel steps "
      f"({z['visible_cells_at_switch']} cells visible), that step {z['switch_step_ms']:.0f} ms, "
      f"other steps median {z['other_steps_median_ms']:.0f} ms")
PY
