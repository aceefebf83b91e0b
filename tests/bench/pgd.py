#!/usr/bin/env python3
"""The Python PyTorch reference for bench_pgd: BrainPrior's PGD attack (core/probing/attacks.cpp,
runPgd) written in plain PyTorch op for op, on the same model (classifier_training.py's small ResNet,
which rebuilds core/classifiers/resnet.cpp) and the same kind of synthetic batch, timed the same way.

Attack, as the engine: evaluation mode; the clean batch's misclassified images count as fooled; a
random start x = P(clean + epsilon * u), u uniform in [-1, 1]^d (L-inf) or in the unit L2 ball (a
Gaussian direction with radius r^(1/d)); then for step 0..steps: forward, the images misclassified
now are fooled (their first fooling iterate kept), stop after the last step or once every image is
fooled (a .item() sync every step), else the summed cross-entropy's gradient with respect to the
input only, the step alpha * sign(g) (L-inf) or alpha * g / |g|_2 (L2, norm floored at 1e-12) with
alpha = 0.125 epsilon, and the projection P: delta clamped to [-epsilon, epsilon] (L-inf) or scaled by
min(1, epsilon / |delta|_2) (L2, norm floored at 1e-12), then x clamped to [0, 1]. The result: the
fooling iterate or the last one, and each image's L-inf and L2 distance. The random numbers come from
torch's generator rather than the engine's per-image streams: the same distributions, other values.

Timing, as bench_pgd: `warmup` untimed attacks, then `repeats` timed ones on one batch; the median
(and best) seconds per attack, steps per second, image steps per second, and the median process CPU
time. Prints one JSON line. With --expect-parameters N it fails (exit 2) when the model's parameter
count differs from N (pgd.sh passes the C++ model's count).

Usage: pgd.py [--norm linf] [--epsilon E] [--steps 10] [--batch 128] [--image-size 32] [--width 16]
              [--repeats 5] [--warmup 1] [--threads 0 (all cores)] [--seed 0] [--expect-parameters N]
Needs torch 1.13 (Debian's python3-torch: /usr/bin/python3).
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

from classifier_training import Classifier

RELATIVE_STEP_SIZE = 0.125  # PgdConfig's default


def per_image(values):
    return values.view(-1, 1, 1, 1)


def l2_norms(delta):
    return delta.flatten(1).norm(2, 1)


def project(images, candidates, epsilons, norm):
    delta = candidates - images
    if norm == "linf":
        bound = per_image(epsilons)
        delta = torch.max(torch.min(delta, bound), -bound)
    else:
        delta = delta * per_image((epsilons / l2_norms(delta).clamp_min(1e-12)).clamp_max(1.0))
    return (images + delta).clamp(0.0, 1.0)


def unit_start(norm, shape):
    if norm == "linf":
        return 2.0 * torch.rand(shape) - 1.0
    direction = torch.randn(shape)
    radius = torch.rand(shape[0])
    dimensions = direction[0].numel()
    return direction / per_image(l2_norms(direction).clamp_min(1e-12)) * per_image(radius.pow(1.0 / dimensions))


def pgd(model, images, labels, epsilon, norm, steps):
    """One restart with a random start, the whole batch at once (attacks.cpp's runPgd)."""
    clean = images.float()
    budget = torch.full((clean.shape[0],), epsilon, dtype=torch.float32)
    step_size = per_image(budget * RELATIVE_STEP_SIZE)
    with torch.no_grad():
        fooled = model(clean).argmax(1).ne(labels)
    clean_fooled = fooled.tolist()
    best = clean.clone()
    last = clean
    if not fooled.all().item():
        x = project(clean, clean + per_image(budget) * unit_start(norm, clean.shape), budget, norm)
        for step in range(steps + 1):
            x = x.detach().requires_grad_(True)
            logits = model(x)
            fooled_now = logits.argmax(1).ne(labels)
            best = torch.where(per_image(fooled_now & ~fooled), x.detach(), best)
            fooled = fooled | fooled_now
            if step == steps or fooled.all().item():
                break
            loss = F.cross_entropy(logits, labels, reduction="sum")
            gradient, = torch.autograd.grad(loss, x)
            direction = gradient.sign() if norm == "linf" else gradient / per_image(l2_norms(gradient).clamp_min(1e-12))
            x = project(clean, x.detach() + step_size * direction, budget, norm)
        last = x.detach()
    adversarials = torch.where(per_image(fooled), best, last)
    delta = adversarials - clean
    return {"fooled": fooled.tolist(), "clean_correct": [not f for f in clean_fooled],
            "linf": delta.flatten(1).abs().amax(1).double().tolist(), "l2": l2_norms(delta).double().tolist()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--norm", choices=["linf", "l2"], default="linf")
    parser.add_argument("--epsilon", type=float, default=0.0)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--expect-parameters", type=int, default=None)
    args = parser.parse_args()

    # Debian's torch 1.13 starts with 1 thread; bp::initializeRuntime sets one per core the same way.
    torch.set_num_threads(args.threads if args.threads > 0 else (os.cpu_count() or 1))
    torch.manual_seed(args.seed)
    model = Classifier("small_resnet", args.width)
    model.eval()
    parameters = sum(p.numel() for p in model.parameters())
    if args.expect_parameters is not None and parameters != args.expect_parameters:
        print(f"error: the Python model has {parameters} parameters, the C++ model {args.expect_parameters}",
              file=sys.stderr)
        sys.exit(2)
    epsilon = args.epsilon if args.epsilon > 0 else (1.0 / 255 if args.norm == "linf" else 0.1)
    images = torch.rand(args.batch, 1, args.image_size, args.image_size)
    with torch.no_grad():
        labels = model(images).argmax(1)

    seconds, cpu_seconds, fooled = [], [], 0
    for attack in range(args.warmup + args.repeats):
        start, cpu_start = time.perf_counter(), time.process_time()
        result = pgd(model, images, labels, epsilon, args.norm, args.steps)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        fooled = sum(result["fooled"])
        if fooled == args.batch:
            sys.exit("error: every image was fooled, so the attack may have stopped before its last step; "
                     "lower --epsilon")
        if attack >= args.warmup:
            seconds.append(elapsed)
            cpu_seconds.append(cpu)

    median = statistics.median(seconds)
    print(json.dumps({"side": "Python", "norm": args.norm, "parameters": parameters, "epsilon": epsilon,
                      "steps": args.steps, "batch": args.batch, "image_size": args.image_size, "width": args.width,
                      "threads": torch.get_num_threads(), "omp_num_threads": os.environ.get("OMP_NUM_THREADS", "unset"),
                      "warmup": args.warmup, "repeats": args.repeats, "seconds_per_attack": median,
                      "seconds_per_attack_best": min(seconds), "cpu_seconds_per_attack": statistics.median(cpu_seconds),
                      "steps_per_second": args.steps / median,
                      "image_steps_per_second": args.batch * args.steps / median, "fooled": fooled,
                      "torch": torch.__version__}))


if __name__ == "__main__":
    main()
