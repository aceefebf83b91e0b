// Feature extraction of an imported TorchScript model by the engine (bp::layerFeatures,
// core/probing/layer_features.h: what predictivity and layer similarity run), on the CPU, and one
// JSON line on stdout. imported_features.py runs the same network eagerly in Python PyTorch
// (torchvision with the same weights); imported_features.sh makes the model, runs both alternately
// and prints the C++/Python ratio of images per second.
//
// What is timed: one layerFeatures call over `images` synthetic images (uniform [0, 1], the model's
// declared input shape, so nothing is resized) in batches of `batch`: the declared normalisation, the
// forward pass without gradients, every layer adaptive-average-pooled to pool x pool, flattened and
// converted to double on the CPU. Each run is `warmup` untimed calls, then `repeats` timed ones; it
// prints the median and best seconds per call, images per second and the median process CPU seconds.
//
// Usage: bench_imported_features --model FILE [--images 128] [--batch 32] [--pool 2] [--repeats 3]
//          [--warmup 1] [--threads 0 (all cores)]
#include <ATen/Parallel.h>
#include <torch/types.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench_timing.h"
#include "classifiers/scripted_classifier.h"
#include "probing/layer_features.h"
#include "runtime/error.h"
#include "runtime/runtime.h"

namespace {

using bp::bench::envOrUnset;
using bp::bench::medianOf;
using bp::bench::processCpuSeconds;

struct Options {
  std::string model;
  int images = 128;
  int batch = 32;
  int pool = 2;
  int repeats = 3;
  int warmup = 1;
  int threads = 0;
};

int run(const Options& options) {
  bp::RuntimeConfig runtime;
  runtime.threads = options.threads;
  runtime.device = "cpu";  // the Python reference (Debian's python3-torch) has no CUDA
  bp::initializeRuntime(runtime);
  const bp::TrainedClassifier trained = bp::loadScriptedClassifier(options.model);
  torch::manual_seed(0);
  const std::vector<std::int64_t>& shape = trained.imageShape;
  const torch::Tensor images = torch::rand({options.images, shape[0], shape[1], shape[2]});

  std::vector<double> seconds;
  std::vector<double> cpuSeconds;
  std::int64_t units = 0;
  for (int call = 0; call < options.warmup + options.repeats; ++call) {
    const double cpuBefore = processCpuSeconds();
    const auto start = std::chrono::steady_clock::now();
    const bp::LayerFeatures features = bp::layerFeatures(trained, images, {}, options.pool, options.batch);
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    units = 0;
    for (const auto& layer : features.features) units += layer.size(1);
    if (call < options.warmup) continue;
    seconds.push_back(elapsed);
    cpuSeconds.push_back(processCpuSeconds() - cpuBefore);
  }
  const double median = medianOf(seconds);
  nlohmann::ordered_json out;
  out["side"] = "C++";
  out["size"] = shape[1];
  out["images"] = options.images;
  out["batch"] = options.batch;
  out["units"] = units;
  out["seconds"] = median;
  out["seconds_best"] = *std::min_element(seconds.begin(), seconds.end());
  out["images_per_second"] = options.images / median;
  out["cpu_seconds"] = medianOf(cpuSeconds);
  out["threads"] = at::get_num_threads();
  out["omp_num_threads"] = envOrUnset("OMP_NUM_THREADS");
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app("Feature extraction of an imported TorchScript model by the engine");
  app.add_option("--model", options.model, "TorchScript file with its <file>.json")->required();
  app.add_option("--images", options.images)->check(CLI::PositiveNumber);
  app.add_option("--batch", options.batch)->check(CLI::PositiveNumber);
  app.add_option("--pool", options.pool)->check(CLI::PositiveNumber);
  app.add_option("--repeats", options.repeats)->check(CLI::PositiveNumber);
  app.add_option("--warmup", options.warmup)->check(CLI::NonNegativeNumber);
  app.add_option("--threads", options.threads)->check(CLI::NonNegativeNumber);
  CLI11_PARSE(app, argc, argv);
  try {
    return run(options);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "bench_imported_features: %s\n", error.what());
    return 1;
  }
}
