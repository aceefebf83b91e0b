#!/usr/bin/env python3
"""The Python PyTorch reference for bench_classifier_training: BrainPrior's classifier training loop
(core/classifiers/classifier_trainer.cpp) with its ResNet (core/classifiers/resnet.cpp) and the
neural-similarity regularizer (core/classifiers/similarity_regularizer.cpp), written in plain PyTorch
op for op, on the same kind of synthetic data, timed the same way.

Model: grayscale input normalised inside the model ((x - 0.4808) / 0.2391, buffers); stem 3x3 conv
(no bias) -> batch norm -> ReLU, no max-pool; stages of basic blocks (conv3x3 -> BN -> ReLU ->
conv3x3 -> BN, + identity or a strided 1x1 conv + BN shortcut, ReLU): small_resnet one block per
stage at width x 1, 2, 4 (strides 1, 2, 2), resnet18/34 2-2-2-2 / 3-4-6-3 blocks at 64-512; global
average pool; linear head. He-normal (fan-out, ReLU) convolutions, batch norm weight 1 and bias 0,
PyTorch's default linear init. Taps: the stem's output and each stage's output.

Regularizer (training mode): per tap, running mean <- 0.9 mean + 0.1 batch mean (per channel, no
grad), maps centred by it and flattened, cosine of pair p's two rows (norm product floored at 1e-8);
S = sum_k softmax(logits)_k S_k; L_sim = mean (atanh(clamp(S)) - atanh(clamp(target)))^2, clamp to
[-1 + 1e-3, 1 - 1e-3]; loss = CE + alpha L_sim.

Per step, as the engine: index_select of the shuffled batch; augmentation (zero-pad 4, then per image a
random 32x32 window and a horizontal flip with probability 1/2, stacked); forward; cross-entropy; with
the regularizer P pairs of two different target images drawn uniformly, the 2P images' index_select,
the targets S[rows, columns], forward with taps (training mode), L_sim; loss.item() and a finiteness
check; zero_grad; backward; SGD step (lr 0.1 with the cyclic schedule, momentum 0.9, weight decay
5e-4 on the model's parameters, none on the layer logits, a second parameter group as in the
engine); the cross-entropy's, L_sim's and the correct count's item(). Per epoch, as the engine: a shuffled order, the finiteness
check of the model's parameters, the layer weights as numbers; no validation or test images.

Timing, as bench_classifier_training: `warmup` + `runs` epochs of `steps` steps each (steps x batch
train images); each epoch is timed from its start to after its bookkeeping, divided by `steps`; the
median (and best) of the timed epochs, and the median process CPU time per step. Prints one JSON line.
With --expect-parameters N it fails (exit 2) when the model's parameter count differs from N
(classifier_training.sh passes the C++ model's count).

Usage: classifier_training.py [--architecture small_resnet] [--width 16] [--regularizer none]
           [--batch 64] [--pairs 16] [--alpha 20] [--image-size 32] [--target-images 500]
           [--steps 6] [--runs 4] [--warmup 1] [--threads 0 (all cores)] [--no-augmentation]
           [--seed 0] [--expect-parameters N]
Needs torch 1.13 (Debian's python3-torch: /usr/bin/python3).
"""
import argparse
import json
import math
import os
import random
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

# core/classifiers/resnet.h, ClassifierConfig defaults; classifier_trainer.h defaults
IMAGE_MEAN, IMAGE_STD = 0.4808, 0.2391
CLASSES = 10
LEARNING_RATE, MOMENTUM, WEIGHT_DECAY = 0.1, 0.9, 5e-4
CROP_PADDING = 4
RUNNING_MEAN_BETA, CLAMP_EPSILON = 0.9, 1e-3


def convolution(channels_in, channels_out, kernel, stride):
    # batch norm follows every convolution: no bias
    return nn.Conv2d(channels_in, channels_out, kernel, stride=stride, padding=kernel // 2, bias=False)


class BasicBlock(nn.Module):
    def __init__(self, channels_in, channels_out, stride):
        super().__init__()
        self.conv1 = convolution(channels_in, channels_out, 3, stride)
        self.norm1 = nn.BatchNorm2d(channels_out)
        self.conv2 = convolution(channels_out, channels_out, 3, 1)
        self.norm2 = nn.BatchNorm2d(channels_out)
        self.shortcut = None
        if stride != 1 or channels_in != channels_out:
            self.shortcut = nn.Sequential(convolution(channels_in, channels_out, 1, stride),
                                          nn.BatchNorm2d(channels_out))

    def forward(self, maps):
        residual = self.norm2(self.conv2(F.relu(self.norm1(self.conv1(maps)))))
        return F.relu(residual + (self.shortcut(maps) if self.shortcut is not None else maps))


def stage_plan(architecture, width):
    if architecture == "resnet18":
        return [(64, 1, 2), (128, 2, 2), (256, 2, 2), (512, 2, 2)]
    if architecture == "resnet34":
        return [(64, 1, 3), (128, 2, 4), (256, 2, 6), (512, 2, 3)]
    return [(width, 1, 1), (2 * width, 2, 1), (4 * width, 2, 1)]


class Classifier(nn.Module):
    def __init__(self, architecture, width):
        super().__init__()
        self.register_buffer("image_mean", torch.tensor([IMAGE_MEAN]).view(1, 1, 1, 1))
        self.register_buffer("image_std", torch.tensor([IMAGE_STD]).view(1, 1, 1, 1))
        previous = width if architecture == "small_resnet" else 64
        self.stem = convolution(1, previous, 3, 1)
        self.stem_norm = nn.BatchNorm2d(previous)
        self.tap_channels = [previous]
        self.stages = nn.ModuleList()
        for channels, stride, blocks in stage_plan(architecture, width):
            stage = nn.Sequential()
            for block in range(blocks):
                stage.append(BasicBlock(previous, channels, stride if block == 0 else 1))
                previous = channels
            self.stages.append(stage)
            self.tap_channels.append(previous)
        self.head = nn.Linear(previous, CLASSES)
        with torch.no_grad():
            for module in self.modules():
                if isinstance(module, nn.Conv2d):
                    nn.init.kaiming_normal_(module.weight, a=0.0, mode="fan_out", nonlinearity="relu")
                elif isinstance(module, nn.BatchNorm2d):
                    module.weight.fill_(1.0)
                    module.bias.zero_()

    def trunk(self, images, taps):
        maps = F.relu(self.stem_norm(self.stem((images - self.image_mean) / self.image_std)))
        if taps is not None:
            taps.append(maps)
        for stage in self.stages:
            maps = stage(maps)
            if taps is not None:
                taps.append(maps)
        return maps

    def forward(self, images):
        return self.head(self.trunk(images, None).mean((2, 3)))

    def forward_with_taps(self, images):
        taps = []
        logits = self.head(self.trunk(images, taps).mean((2, 3)))
        return logits, taps


def row_cosine(first, second):
    dot = (first * second).sum(1)
    return dot / (first.norm(2, 1) * second.norm(2, 1)).clamp_min(1e-8)


def similarity_loss(model, target, epsilon):
    bound = 1.0 - epsilon
    return (torch.atanh(model.clamp(-bound, bound)) - torch.atanh(target.clamp(-bound, bound))).pow(2).mean()


class SimilarityRegularizer(nn.Module):
    def __init__(self, tap_channels):
        super().__init__()
        self.layer_logits = nn.Parameter(torch.zeros(len(tap_channels)))
        for tap, channels in enumerate(tap_channels):
            self.register_buffer(f"running_mean_{tap}", torch.zeros(channels))
        self.taps = len(tap_channels)

    def gamma(self):
        return torch.softmax(self.layer_logits, 0)

    def forward(self, taps, targets):
        similarities = []
        for tap, maps in enumerate(taps):
            mean = getattr(self, f"running_mean_{tap}")
            if self.training:
                with torch.no_grad():
                    mean.mul_(RUNNING_MEAN_BETA).add_(maps.detach().mean((0, 2, 3)), alpha=1.0 - RUNNING_MEAN_BETA)
            centred = (maps - mean.view(1, -1, 1, 1)).flatten(1)
            pairs = maps.shape[0] // 2
            similarities.append(row_cosine(centred.narrow(0, 0, pairs), centred.narrow(0, pairs, pairs)))
        model = (self.gamma().unsqueeze(1) * torch.stack(similarities)).sum(0)
        return similarity_loss(model, targets.reshape(-1).to(model.dtype), CLAMP_EPSILON)


def augment(images, rng):
    """Zero padding, then per image a random window of the image's size and a random flip."""
    _, _, height, width = images.shape
    padded = F.pad(images, (CROP_PADDING,) * 4)
    out = []
    for i in range(images.shape[0]):
        top = rng.randrange(2 * CROP_PADDING + 1)
        left = rng.randrange(2 * CROP_PADDING + 1)
        flip = rng.randrange(2) == 1
        image = padded[i].narrow(1, top, height).narrow(2, left, width)
        if flip:
            image = image.flip([2])
        out.append(image)
    return torch.stack(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--architecture", choices=["small_resnet", "resnet18", "resnet34"], default="small_resnet")
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--regularizer", choices=["none", "neural_similarity"], default="none")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--pairs", type=int, default=16)
    parser.add_argument("--alpha", type=float, default=20.0)
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--target-images", type=int, default=500)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--no-augmentation", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--expect-parameters", type=int, default=None)
    args = parser.parse_args()

    # Debian's torch 1.13 starts with 1 thread; bp::initializeRuntime sets one per core the same way.
    torch.set_num_threads(args.threads if args.threads > 0 else (os.cpu_count() or 1))
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    model = Classifier(args.architecture, args.width)
    parameters = sum(p.numel() for p in model.parameters())
    if args.expect_parameters is not None and parameters != args.expect_parameters:
        print(f"error: the Python model has {parameters} parameters, the C++ model {args.expect_parameters}",
              file=sys.stderr)
        sys.exit(2)
    regularized = args.regularizer == "neural_similarity"
    regularizer = SimilarityRegularizer(model.tap_channels) if regularized else None
    groups = [{"params": list(model.parameters())}]
    if regularizer is not None:
        groups.append({"params": [regularizer.layer_logits], "weight_decay": 0.0})
    optimizer = torch.optim.SGD(groups, lr=LEARNING_RATE, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)

    size, steps, batch_size = args.image_size, max(1, args.steps), args.batch
    count = steps * batch_size
    train_images = torch.rand(count, 1, size, size)
    train_labels = torch.randint(CLASSES, (count,))
    if regularized:
        raw = torch.randn(args.target_images, 64)
        vectors = raw / raw.norm(2, 1, keepdim=True)
        target_images = torch.rand(args.target_images, 1, size, size)
        target_similarity = (vectors @ vectors.t()).clamp(-1.0, 1.0)

    seconds, cpu_seconds, last = [], [], {"loss": 0.0, "gamma": []}
    epochs = max(0, args.warmup) + max(1, args.runs)
    for epoch in range(1, epochs + 1):
        start, cpu_start = time.perf_counter(), time.process_time()
        # the engine's default cyclic schedule: lr x 0.3 every 4 epochs, cycles of 20
        for group in optimizer.param_groups:
            group["lr"] = LEARNING_RATE * 0.3 ** (((epoch - 1) % 20) // 4)
        order = list(range(count))
        rng.shuffle(order)
        permutation = torch.tensor(order)
        model.train()
        if regularizer is not None:
            regularizer.train()
        total_sum = classification_sum = regularization_sum = 0.0
        correct = 0
        for batch in range(steps):
            indices = permutation[batch * batch_size:min(count, (batch + 1) * batch_size)]
            images = train_images.index_select(0, indices)
            if not args.no_augmentation:
                images = augment(images, rng)
            labels = train_labels.index_select(0, indices)
            logits = model(images)
            classification = F.cross_entropy(logits, labels, label_smoothing=0.0)
            regularization = None
            if regularized:
                first, second = [], []
                for _ in range(args.pairs):
                    a = rng.randrange(args.target_images)
                    b = rng.randrange(args.target_images - 1)
                    if b >= a:
                        b += 1
                    first.append(a)
                    second.append(b)
                pair_images = target_images.index_select(0, torch.tensor(first + second))
                targets = target_similarity[torch.tensor(first), torch.tensor(second)]
                regularization = regularizer(model.forward_with_taps(pair_images)[1], targets)
                loss = classification + args.alpha * regularization
            else:
                loss = classification
            total = loss.item()
            if not math.isfinite(total):
                raise RuntimeError(f"the loss became {total} in epoch {epoch}, batch {batch + 1}")
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            classification_sum += classification.item()
            if regularization is not None:
                regularization_sum += regularization.item()
            total_sum += total
            correct += logits.detach().argmax(1).eq(labels).sum().item()
        for parameter in optimizer.param_groups[0]["params"]:
            if not torch.isfinite(parameter).all().item():
                raise RuntimeError(f"the weights are not finite after epoch {epoch}")
        last["gamma"] = regularizer.gamma().detach().double().tolist() if regularizer is not None else []
        last["loss"] = total_sum / steps
        if epoch > args.warmup:
            cpu_seconds.append((time.process_time() - cpu_start) / steps)
            seconds.append((time.perf_counter() - start) / steps)

    median = statistics.median(seconds)
    print(json.dumps({"side": "Python", "architecture": args.architecture, "regularizer": args.regularizer,
                      "parameters": parameters,
                      "regularizer_parameters": regularizer.layer_logits.numel() if regularizer is not None else 0,
                      "width": args.width, "batch": batch_size, "pairs": args.pairs if regularized else 0,
                      "alpha": args.alpha, "image_size": size, "augmentation": not args.no_augmentation,
                      "threads": torch.get_num_threads(), "interop_threads": torch.get_num_interop_threads(),
                      "omp_num_threads": os.environ.get("OMP_NUM_THREADS", "unset"), "warmup": args.warmup,
                      "steps": steps, "runs": args.runs, "seconds_per_step": median,
                      "seconds_per_step_best": min(seconds), "cpu_seconds_per_step": statistics.median(cpu_seconds),
                      "epoch_seconds": seconds, "images_per_second": batch_size / median,
                      "loss": last["loss"], "gamma": last["gamma"], "torch": torch.__version__}))


if __name__ == "__main__":
    main()
