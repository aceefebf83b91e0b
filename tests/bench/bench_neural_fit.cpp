// Training throughput of the predictive model of neurons (bp::NeuralModel: the default stacked core,
// 4 layers of 9/7/7/7 pixel filters with 32 channels, and the Gaussian readout) on the CPU, and one
// JSON line on stdout. neural_fit.py builds the same model in Python PyTorch; neural_fit.sh runs both.
//
// One step is what fitNeuralModel does per batch: gradients cleared to none, forward, bp::poissonLoss +
// model->regularization(), loss.item() (the trainer reads it to check it is finite), backward, Adam
// step (the trainer's learning rate). Inputs are random normalised images (standard normal) and
// non-negative random targets (Poisson counts, mean 1), a few distinct batches used in turn. After
// `warmup` steps, `runs` repeats of `steps` steps are timed; the median (and best) repeat gives the
// seconds per step, steps/s and images/s; the median over repeats of the process CPU time per step too.
//
// Usage: bench_neural_fit [--neurons N (5335)] [--batch B (64)] [--steps S (3)] [--runs R (5)]
//                         [--warmup W (2)] [--threads T (0: all cores)] [--pool P (4)] [--seed S (0)]
//                         [--mmap-threshold BYTES]
// --mmap-threshold overrides, after bp::initializeRuntime, glibc's mmap threshold that the runtime
// sets (32 MiB): an experiment, since larger blocks are mapped afresh, and their pages faulted in
// and zeroed, at every allocation (the readout's batch x channels x neurons tensors are 44 MB).
#include <ATen/Parallel.h>
#include <malloc.h>
#include <time.h>
#include <torch/optim/adam.h>
#include <torch/utils.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "models/neural_model.h"
#include "runtime/error.h"
#include "runtime/runtime.h"
#include "bench_timing.h"
#include "training/neural_trainer.h"

namespace {

using bp::bench::envOrUnset;
using bp::bench::medianOf;
using bp::bench::processCpuSeconds;

struct Options {
  std::int64_t neurons = 5335;  // the Lurz scan's population
  std::int64_t batch = bp::NeuralTrainerConfig{}.batchSize;
  int steps = 3;
  int runs = 5;
  int warmup = 2;
  int threads = 0;
  int pool = 4;
  std::uint64_t seed = 0;
  long long mmapThreshold = 0;  // 0: as bp::initializeRuntime sets it
};

std::int64_t parameterCount(const bp::NeuralModel& model) {
  std::int64_t count = 0;
  for (const auto& parameter : model->parameters()) count += parameter.numel();
  return count;
}

int run(const Options& options) {
  bp::RuntimeConfig runtime;
  runtime.threads = options.threads;
  runtime.device = "cpu";  // the Python reference (Debian's python3-torch) has no CUDA
  bp::initializeRuntime(runtime);
  if (options.mmapThreshold > INT_MAX ||
      (options.mmapThreshold > 0 && mallopt(M_MMAP_THRESHOLD, static_cast<int>(options.mmapThreshold)) != 1))
    throw bp::Error("glibc refused an mmap threshold of " + std::to_string(options.mmapThreshold) + " bytes");

  torch::manual_seed(options.seed);
  bp::NeuralModelConfig config;  // the defaults: stacked core, Gaussian readout
  config.inputChannels = 1;
  config.inputHeight = 36;
  config.inputWidth = 64;
  config.neuronCount = options.neurons;
  bp::NeuralModel model(config);
  model->train();
  torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(bp::NeuralTrainerConfig{}.learningRate));

  std::vector<torch::Tensor> images;
  std::vector<torch::Tensor> targets;
  for (int i = 0; i < std::max(1, options.pool); ++i) {
    images.push_back(torch::randn({options.batch, config.inputChannels, config.inputHeight, config.inputWidth}));
    targets.push_back(torch::poisson(torch::ones({options.batch, options.neurons})));
  }

  double lastLoss = 0.0;
  std::size_t next = 0;
  const auto step = [&] {
    const torch::Tensor& input = images[next];
    const torch::Tensor& target = targets[next];
    next = (next + 1) % images.size();
    for (auto& parameter : model->parameters()) parameter.mutable_grad() = torch::Tensor();  // as the trainer clears
    const torch::Tensor loss = bp::poissonLoss(model->forward(input), target) + model->regularization();
    lastLoss = loss.item<double>();
    if (!std::isfinite(lastLoss)) throw bp::Error("the loss became " + std::to_string(lastLoss));
    loss.backward();
    optimizer.step();
  };

  for (int i = 0; i < options.warmup; ++i) step();
  std::vector<double> secondsPerStep;
  std::vector<double> cpuSecondsPerStep;
  for (int r = 0; r < options.runs; ++r) {
    const auto start = std::chrono::steady_clock::now();
    const double cpuStart = processCpuSeconds();
    for (int i = 0; i < options.steps; ++i) step();
    cpuSecondsPerStep.push_back((processCpuSeconds() - cpuStart) / options.steps);
    secondsPerStep.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() /
                             options.steps);
  }
  const double median = medianOf(secondsPerStep);
  const double cpuMedian = medianOf(cpuSecondsPerStep);
  const double best = *std::min_element(secondsPerStep.begin(), secondsPerStep.end());

  std::printf(
      "{\"side\": \"C++\", \"neurons\": %lld, \"batch\": %lld, \"parameters\": %lld, \"threads\": %d, "
      "\"interop_threads\": %d, \"omp_num_threads\": \"%s\", \"mmap_threshold\": %lld, \"warmup\": %d, "
      "\"steps\": %d, \"runs\": %d, \"seconds_per_step\": %.5f, \"seconds_per_step_best\": %.5f, "
      "\"cpu_seconds_per_step\": %.5f, \"steps_per_second\": %.3f, \"images_per_second\": %.1f, "
      "\"loss\": %.4f, \"libtorch\": \"%s\"}\n",
      static_cast<long long>(options.neurons), static_cast<long long>(options.batch),
      static_cast<long long>(parameterCount(model)), at::get_num_threads(), at::get_num_interop_threads(),
      envOrUnset("OMP_NUM_THREADS").c_str(), options.mmapThreshold, options.warmup, options.steps, options.runs, median,
      best, cpuMedian, 1.0 / median, static_cast<double>(options.batch) / median, lastLoss,
      bp::runtimeInfo().libtorchVersion.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string argument = argv[i];
      const auto value = [&]() -> std::string {
        if (i + 1 >= argc) throw bp::Error(argument + " needs a value");
        return argv[++i];
      };
      if (argument == "--neurons")
        options.neurons = std::stoll(value());
      else if (argument == "--batch")
        options.batch = std::stoll(value());
      else if (argument == "--steps")
        options.steps = std::max(1, std::stoi(value()));
      else if (argument == "--runs")
        options.runs = std::max(1, std::stoi(value()));
      else if (argument == "--warmup")
        options.warmup = std::max(0, std::stoi(value()));
      else if (argument == "--threads")
        options.threads = std::stoi(value());
      else if (argument == "--pool")
        options.pool = std::max(1, std::stoi(value()));
      else if (argument == "--seed")
        options.seed = std::stoull(value());
      else if (argument == "--mmap-threshold")
        options.mmapThreshold = std::stoll(value());
      else
        throw bp::Error("unknown argument " + argument + " (see the comment at the top of bench_neural_fit.cpp)");
    }
    return run(options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
