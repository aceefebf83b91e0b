#!/usr/bin/env python3
"""The numpy reference for bench_file_tree_load: what a Python user does to load a
neuralpredictors file tree. np.load of every data/<key>/<i>.npy present, stacked into one float32
array per key, plus the metadata arrays the C++ reader reads. Prints the same JSON line.

Usage: file_tree_load_numpy.py <file-tree folder> [runs, default 3]
"""
import json
import os
import statistics
import sys
import time

import numpy as np

DATA_KEYS = ["images", "responses", "behavior", "pupil_center"]
TRIAL_META = ["tiers", "frame_image_id", "trial_idx", "frame_image_class"]
NEURON_META = ["unit_ids", "animal_ids", "sessions", "scan_idx", "area", "layer", "cell_motor_coordinates"]


def metadata_paths(root):
    paths = [os.path.join(root, "meta", "trials", name + ".npy") for name in TRIAL_META]
    paths += [os.path.join(root, "meta", "neurons", name + ".npy") for name in NEURON_META]
    stats = os.path.join(root, "meta", "statistics")
    if os.path.isdir(stats):
        for key in sorted(os.listdir(stats)):
            for group in ("all", "stimulus_frame"):
                folder = os.path.join(stats, key, group)
                if os.path.isdir(folder):
                    paths += [os.path.join(folder, f) for f in sorted(os.listdir(folder)) if f.endswith(".npy")]
    return [p for p in paths if os.path.isfile(p)]


def load(root):
    meta = {path: np.load(path) for path in metadata_paths(root)}
    files = len(meta)
    data = {}
    for key in DATA_KEYS:
        folder = os.path.join(root, "data", key)
        if not os.path.isdir(folder):
            continue
        indices = sorted(int(f[:-4]) for f in os.listdir(folder) if f.endswith(".npy") and f[:-4].isdigit())
        data[key] = np.stack([np.load(os.path.join(folder, f"{i}.npy")) for i in indices]).astype(np.float32)
        files += len(indices)
    return len(data["responses"]), files


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    root = sys.argv[1]
    runs = max(1, int(sys.argv[2])) if len(sys.argv) > 2 else 3
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        trials, files = load(root)
        seconds.append(time.perf_counter() - start)
    print(json.dumps({"seconds_median": statistics.median(seconds), "trials": trials, "files": files}))


if __name__ == "__main__":
    main()
