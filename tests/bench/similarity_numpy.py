#!/usr/bin/env python3
"""The numpy reference for bench_similarity: the paper's centred cosine as a Python user writes
it, in float32 (centre each unit across images, scale each image's row to unit L2 norm,
S = Xc @ Xc.T; numpy hands `A @ A.T` to BLAS SYRK, which computes one triangle only).
Median (and best) of `runs` runs on standard-normal data with a fixed seed; prints one JSON line.

Usage: similarity_numpy.py [images, default 5000] [units, default 5335] [runs, default 3]
"""
import json
import statistics
import sys
import time

import numpy as np


def centred_cosine(x):
    xc = x - x.mean(axis=0)
    xc /= np.linalg.norm(xc, axis=1, keepdims=True)
    return xc @ xc.T


def main():
    images = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    units = int(sys.argv[2]) if len(sys.argv) > 2 else 5335
    runs = max(1, int(sys.argv[3])) if len(sys.argv) > 3 else 3
    x = np.random.default_rng(20190101).standard_normal((images, units), dtype=np.float32)
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        s = centred_cosine(x)
        seconds.append(time.perf_counter() - start)
    assert s.dtype == np.float32 and s.shape == (images, images)
    median = statistics.median(seconds)
    useful_gflop = images * (images + 1) * units / 1e9
    print(json.dumps({"images": images, "units": units, "runs": runs, "seconds": round(median, 4),
                      "seconds_best": round(min(seconds), 4), "gflops_effective": round(useful_gflop / median, 2),
                      "numpy": np.__version__}))


if __name__ == "__main__":
    main()
