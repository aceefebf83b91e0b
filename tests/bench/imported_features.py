"""The Python side of imported_features.sh: torchvision's ResNet18 (10 classes, the weights of seed 0,
as the TorchScript file the C++ side loads was made from) run eagerly in Python PyTorch as a feature
extractor, the way bp::layerFeatures runs the imported model: ImageNet normalisation, the stages and
the logits (create_feature_extractor), each pooled to pool x pool, flattened and converted to double,
in batches without gradients. With --make FOLDER it writes that TorchScript file instead (scripted,
returning the dictionary of layers), with a description per size: resnet18-<size>.pt and its .json.
"""
import argparse
import json
import resource
import shutil
import statistics
import time

import torch
import torchvision
from torchvision.models.feature_extraction import create_feature_extractor

LAYERS = {"layer1": "stage1", "layer2": "stage2", "layer3": "stage3", "layer4": "stage4", "fc": "logits"}
MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]


def model():
    torch.manual_seed(0)
    return create_feature_extractor(torchvision.models.resnet18(num_classes=10).eval(), return_nodes=LAYERS)


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--make", help="write the TorchScript files into this folder and exit")
    parser.add_argument("--sizes", type=int, nargs="*", default=[64, 224])
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--images", type=int, default=128)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--pool", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--threads", type=int, default=0)
    options = parser.parse_args()
    if options.make:
        first = f"{options.make}/resnet18-{options.sizes[0]}.pt"
        torch.jit.script(model()).save(first)
        for size in options.sizes:
            file = f"{options.make}/resnet18-{size}.pt"
            if file != first:
                shutil.copyfile(first, file)
            description = {"input": {"channels": 3, "size": [size, size], "range": [0, 1], "mean": MEAN, "std": STD}}
            with open(file + ".json", "w") as out:
                json.dump(description, out)
        return
    if options.threads > 0:
        torch.set_num_threads(options.threads)
    network = model()
    torch.manual_seed(0)
    images = torch.rand(options.images, 3, options.size, options.size)
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)

    def extract():
        features = {name: [] for name in LAYERS.values()}
        with torch.no_grad():
            for begin in range(0, options.images, options.batch):
                outputs = network((images[begin:begin + options.batch] - mean) / std)
                for name, value in outputs.items():
                    if value.dim() == 4:
                        value = torch.nn.functional.adaptive_avg_pool2d(value, options.pool)
                    features[name].append(value.flatten(1).double())
        return {name: torch.cat(parts) for name, parts in features.items()}

    seconds, cpu = [], []
    units = 0
    for call in range(options.warmup + options.repeats):
        cpu_before, start = cpu_seconds(), time.perf_counter()
        features = extract()
        elapsed = time.perf_counter() - start
        units = sum(value.size(1) for value in features.values())
        if call >= options.warmup:
            seconds.append(elapsed)
            cpu.append(cpu_seconds() - cpu_before)
    median = statistics.median(seconds)
    print(json.dumps({"side": "Python", "size": options.size, "images": options.images, "batch": options.batch,
                      "units": units, "seconds": median, "seconds_best": min(seconds),
                      "images_per_second": options.images / median, "cpu_seconds": statistics.median(cpu),
                      "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
