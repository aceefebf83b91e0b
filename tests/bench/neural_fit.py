#!/usr/bin/env python3
"""The Python PyTorch reference for bench_neural_fit: BrainPrior's predictive model of neurons (the
default NeuralModelConfig: stacked core of 4 conv -> batch norm -> ELU layers, 9/7/7/7 pixel filters,
32 channels, the first layer unpadded and the later ones 'same'; a Gaussian readout sampling the
core with grid_sample at mu + sigma * noise while training; ELU + 1 output) written in plain
PyTorch, op for op as core/models/neural_model.cpp writes it, with the same regularization
(0.01 x normalised Laplacian energy of the first layer's filters + 0.0 x group sparsity of the later
layers, still computed as the C++ does, + 1.5e-5 x sum |readout features|), the same Poisson loss
and Adam (lr 5e-3), and the trainer's step: gradients cleared to none, forward, loss, loss.item(), backward, step.

Same data and timing protocol as bench_neural_fit: standard-normal 36x64 images and Poisson(1)
targets, `pool` distinct batches used in turn; `warmup` steps, then `runs` repeats of `steps` steps;
median (and best) seconds per step, and the median process CPU time per step. Prints one JSON line. With --expect-parameters N it fails
(exit 2) when its parameter count differs from N (neural_fit.sh passes the C++ model's count).

Usage: neural_fit.py [--neurons 5335] [--batch 64] [--steps 3] [--runs 5] [--warmup 2]
                     [--threads 0 (all cores)] [--pool 4] [--seed 0] [--expect-parameters N]
Needs torch 1.13 (Debian's python3-torch: /usr/bin/python3).
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

# core/models/neural_model.h, NeuralModelConfig defaults
INPUT_CHANNELS, INPUT_HEIGHT, INPUT_WIDTH = 1, 36, 64
KERNEL_SIZES = [9, 7, 7, 7]
CHANNELS = [32, 32, 32, 32]
BATCH_NORM_MOMENTUM = 0.1
SMOOTHNESS_PENALTY = 0.01
GROUP_SPARSITY_PENALTY = 0.0
READOUT_PENALTY = 1.5e-5
INIT_POSITION_RANGE = 0.3
INIT_POSITION_SPREAD = 0.1
LEARNING_RATE = 5e-3  # NeuralTrainerConfig
LAPLACIAN = [[0.5, 1.0, 0.5], [1.0, -6.0, 1.0], [0.5, 1.0, 0.5]]  # neuralpredictors LaplaceL2norm


def laplacian_smoothness(filters):
    """|Laplacian * filters|^2 / |filters|^2, the 3x3 Laplacian applied without padding."""
    k_h, k_w = filters.shape[-2:]
    bank = filters.reshape(-1, 1, k_h, k_w)
    kernel = torch.tensor(LAPLACIAN, dtype=filters.dtype).view(1, 1, 3, 3)
    return F.conv2d(bank, kernel).pow(2).sum() / bank.pow(2).sum().clamp_min(1e-12)


def group_sparsity(layers):
    total = torch.zeros(())
    for weight in layers:
        squares = weight.pow(2).sum((2, 3))  # out x in
        total = total + (squares.sqrt().sum(1) / (squares.sum(1) + 1e-8).sqrt()).sum()
    return total / len(layers)


class StackedCore(nn.Module):
    def __init__(self):
        super().__init__()
        self.convs = nn.ModuleList()
        self.norms = nn.ModuleList()
        channels_in = INPUT_CHANNELS
        for layer, (kernel, channels) in enumerate(zip(KERNEL_SIZES, CHANNELS)):
            padding = 0 if layer == 0 else kernel // 2
            # batch norm follows, so no convolution bias
            self.convs.append(nn.Conv2d(channels_in, channels, kernel, padding=padding, bias=False))
            self.norms.append(nn.BatchNorm2d(channels, momentum=BATCH_NORM_MOMENTUM))
            channels_in = channels

    def forward(self, x):
        for conv, norm in zip(self.convs, self.norms):
            x = F.elu(norm(conv(x)))
        return x

    def regularization(self):
        return (SMOOTHNESS_PENALTY * laplacian_smoothness(self.convs[0].weight)
                + GROUP_SPARSITY_PENALTY * group_sparsity([conv.weight for conv in self.convs[1:]]))


class GaussianReadout(nn.Module):
    def __init__(self, core_channels, neurons):
        super().__init__()
        self.positions = nn.Parameter(torch.empty(neurons, 2).uniform_(-INIT_POSITION_RANGE, INIT_POSITION_RANGE))
        self.spreads = nn.Parameter(torch.full((neurons, 2), INIT_POSITION_SPREAD))
        self.features = nn.Parameter(torch.full((neurons, core_channels), 1.0 / core_channels))
        self.bias = nn.Parameter(torch.zeros(neurons))

    def forward(self, core_output):
        batch, neurons = core_output.shape[0], self.positions.shape[0]
        grid = self.positions.unsqueeze(0).expand(batch, neurons, 2)
        if self.training:
            grid = grid + torch.randn_like(grid) * self.spreads
        grid = grid.clamp(-1.0, 1.0).unsqueeze(2)  # batch x neurons x 1 x 2
        sampled = F.grid_sample(core_output, grid, mode="bilinear", padding_mode="zeros", align_corners=True)
        # sampled: batch x channels x neurons x 1
        return (sampled.squeeze(3).transpose(1, 2) * self.features.unsqueeze(0)).sum(2) + self.bias

    def regularization(self):
        return READOUT_PENALTY * self.features.abs().sum()


class NeuralModel(nn.Module):
    def __init__(self, neurons):
        super().__init__()
        self.core = StackedCore()
        self.readout = GaussianReadout(CHANNELS[-1], neurons)

    def forward(self, images):
        return F.elu(self.readout(self.core(images))) + 1.0

    def regularization(self):
        return self.core.regularization() + self.readout.regularization()


def poisson_loss(prediction, target):
    return (prediction - target * (prediction + 1e-8).log()).sum(1).mean()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--neurons", type=int, default=5335)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--pool", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--expect-parameters", type=int, default=None)
    args = parser.parse_args()

    # Debian's torch 1.13 starts with 1 thread; bp::initializeRuntime sets one per core the same way.
    torch.set_num_threads(args.threads if args.threads > 0 else (os.cpu_count() or 1))
    torch.manual_seed(args.seed)
    model = NeuralModel(args.neurons)
    model.train()
    parameters = sum(p.numel() for p in model.parameters())
    if args.expect_parameters is not None and parameters != args.expect_parameters:
        print(f"error: the Python model has {parameters} parameters, the C++ model {args.expect_parameters}",
              file=sys.stderr)
        sys.exit(2)
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)

    pool = max(1, args.pool)
    images = [torch.randn(args.batch, INPUT_CHANNELS, INPUT_HEIGHT, INPUT_WIDTH) for _ in range(pool)]
    targets = [torch.poisson(torch.ones(args.batch, args.neurons)) for _ in range(pool)]
    state = {"next": 0, "loss": 0.0}

    def step():
        i = state["next"]
        state["next"] = (i + 1) % pool
        optimizer.zero_grad(set_to_none=True)
        loss = poisson_loss(model(images[i]), targets[i]) + model.regularization()
        state["loss"] = loss.item()
        if not math.isfinite(state["loss"]):
            raise RuntimeError(f"the loss became {state['loss']}")
        loss.backward()
        optimizer.step()

    for _ in range(max(0, args.warmup)):
        step()
    steps = max(1, args.steps)
    seconds, cpu_seconds = [], []
    for _ in range(max(1, args.runs)):
        start, cpu_start = time.perf_counter(), time.process_time()  # process_time: every thread's CPU time
        for _ in range(steps):
            step()
        cpu_seconds.append((time.process_time() - cpu_start) / steps)
        seconds.append((time.perf_counter() - start) / steps)
    median = statistics.median(seconds)
    print(json.dumps({"side": "Python", "neurons": args.neurons, "batch": args.batch, "parameters": parameters,
                      "threads": torch.get_num_threads(), "interop_threads": torch.get_num_interop_threads(),
                      "omp_num_threads": os.environ.get("OMP_NUM_THREADS", "unset"), "warmup": args.warmup,
                      "steps": steps, "runs": args.runs, "seconds_per_step": round(median, 5),
                      "seconds_per_step_best": round(min(seconds), 5),
                      "cpu_seconds_per_step": round(statistics.median(cpu_seconds), 5), "steps_per_second": round(1 / median, 3),
                      "images_per_second": round(args.batch / median, 1), "loss": round(state["loss"], 4),
                      "torch": torch.__version__}))


if __name__ == "__main__":
    main()
