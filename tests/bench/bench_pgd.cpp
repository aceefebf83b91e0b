// PGD attack speed of the engine (bp::pgdAttack, core/probing/attacks.h) on the CPU, and one JSON
// line on stdout. pgd.py runs the same attack, written in Python PyTorch after attacks.cpp, on the
// same model; pgd.sh runs both, alternately, and prints the C++/Python ratio of steps per second.
//
// What is timed: one pgdAttack call on one batch of `batch` synthetic images (uniform [0, 1],
// 1 x size x size) against a small ResNet with random weights (ClassifierConfig's defaults otherwise:
// 10 classes, the model normalises its input) in evaluation mode. The labels are the model's own
// clean predictions, so every image starts correctly classified, and the budget is small (default
// L-inf 1/255, L2 0.1) so that not every image is fooled: the attack then runs all its `steps` steps
// (steps + 1 forward passes, steps input-gradient backward passes, the projections and the per-step
// checks) on the whole batch. A run where every image was fooled stopped early and is an error. One
// restart, a random start, relative step size 0.125 (PgdConfig's defaults).
// Each run is `warmup` untimed attacks, then `repeats` timed ones; it prints the median (and best)
// seconds per attack, steps per second (steps / seconds: one step moves the whole batch) and image
// steps per second (batch x steps / seconds), and the median process CPU seconds per attack.
//
// Usage: bench_pgd [--norm linf|l2] [--epsilon E (default 1/255 for linf, 0.1 for l2)] [--steps 10]
//          [--batch 128] [--image-size 32] [--width 16] [--repeats 5] [--warmup 1]
//          [--threads 0 (all cores)] [--seed 0] [--parameters-only]
// --parameters-only prints the model's parameter count without attacking: pgd.sh hands it to
// pgd.py --expect-parameters.
#include <ATen/Parallel.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench_timing.h"
#include "classifiers/resnet.h"
#include "probing/attacks.h"
#include "runtime/error.h"
#include "runtime/runtime.h"

namespace {

using bp::bench::envOrUnset;
using bp::bench::medianOf;
using bp::bench::processCpuSeconds;

struct Options {
  std::string norm = "linf";
  double epsilon = 0.0;  // 0: the norm's default
  int steps = 10;
  int batch = 128;
  int imageSize = 32;
  int width = bp::ClassifierConfig{}.width;
  int repeats = 5;
  int warmup = 1;
  int threads = 0;
  std::uint64_t seed = 0;
  bool parametersOnly = false;
};

int run(const Options& options) {
  bp::RuntimeConfig runtime;
  runtime.threads = options.threads;
  runtime.device = "cpu";  // the Python reference (Debian's python3-torch) has no CUDA
  bp::initializeRuntime(runtime);
  torch::manual_seed(options.seed);

  bp::ClassifierConfig modelConfig;
  modelConfig.architecture = bp::ClassifierArchitecture::SmallResNet;
  modelConfig.width = options.width;
  bp::Classifier model(modelConfig);
  model->eval();
  std::int64_t parameters = 0;
  for (const auto& parameter : model->parameters()) parameters += parameter.numel();
  nlohmann::ordered_json out;
  out["side"] = "C++";
  out["norm"] = options.norm;
  out["parameters"] = parameters;
  if (options.parametersOnly) {
    std::printf("%s\n", out.dump().c_str());
    return 0;
  }

  bp::PgdConfig config;
  config.norm = *bp::parseAttackNorm(options.norm);
  config.steps = options.steps;
  config.seed = options.seed;
  const double defaultEpsilon = config.norm == bp::AttackNorm::LInf ? 1.0 / 255 : 0.1;
  const double epsilon = options.epsilon > 0.0 ? options.epsilon : defaultEpsilon;
  const torch::Tensor images = torch::rand({options.batch, 1, options.imageSize, options.imageSize});
  torch::Tensor labels;
  {
    torch::NoGradGuard noGrad;
    labels = model->forward(images).argmax(1);
  }

  std::vector<double> seconds;
  std::vector<double> cpuSeconds;
  std::int64_t fooled = 0;
  for (int attack = 0; attack < options.warmup + options.repeats; ++attack) {
    const auto start = std::chrono::steady_clock::now();
    const double cpuStart = processCpuSeconds();
    const bp::AttackResult result = bp::pgdAttack(model, images, labels, epsilon, config, {}, options.batch);
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double cpu = processCpuSeconds() - cpuStart;
    fooled = std::count(result.fooled.begin(), result.fooled.end(), true);
    if (fooled == options.batch)
      throw bp::Error("every image was fooled, so the attack may have stopped before its last step; lower --epsilon");
    if (attack >= options.warmup) {
      seconds.push_back(elapsed);
      cpuSeconds.push_back(cpu);
    }
  }
  const double median = medianOf(seconds);
  out["epsilon"] = epsilon;
  out["steps"] = options.steps;
  out["batch"] = options.batch;
  out["image_size"] = options.imageSize;
  out["width"] = options.width;
  out["threads"] = at::get_num_threads();
  out["omp_num_threads"] = envOrUnset("OMP_NUM_THREADS");
  out["warmup"] = options.warmup;
  out["repeats"] = options.repeats;
  out["seconds_per_attack"] = median;
  out["seconds_per_attack_best"] = *std::min_element(seconds.begin(), seconds.end());
  out["cpu_seconds_per_attack"] = medianOf(cpuSeconds);
  out["steps_per_second"] = options.steps / median;
  out["image_steps_per_second"] = static_cast<double>(options.batch) * options.steps / median;
  out["fooled"] = fooled;
  out["libtorch"] = bp::runtimeInfo().libtorchVersion;
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{"PGD attack speed of bp::pgdAttack (see the comment at the top of bench_pgd.cpp)"};
  app.add_option("--norm", options.norm, "linf or l2")->check(CLI::IsMember({"linf", "l2"}));
  app.add_option("--epsilon", options.epsilon, "budget (0: 1/255 for linf, 0.1 for l2)")->check(CLI::NonNegativeNumber);
  app.add_option("--steps", options.steps, "PGD steps")->check(CLI::PositiveNumber);
  app.add_option("--batch", options.batch, "images, attacked as one batch")->check(CLI::PositiveNumber);
  app.add_option("--image-size", options.imageSize, "images are 1 x size x size")->check(CLI::Range(8, 512));
  app.add_option("--width", options.width, "small_resnet's stem width")->check(CLI::PositiveNumber);
  app.add_option("--repeats", options.repeats, "timed attacks")->check(CLI::PositiveNumber);
  app.add_option("--warmup", options.warmup, "untimed attacks first")->check(CLI::NonNegativeNumber);
  app.add_option("--threads", options.threads, "intra-op threads (0: all cores)")->check(CLI::NonNegativeNumber);
  app.add_option("--seed", options.seed, "seed of the weights, the images and the random start");
  app.add_flag("--parameters-only", options.parametersOnly, "print the parameter count and exit");
  CLI11_PARSE(app, argc, argv);
  try {
    return run(options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
