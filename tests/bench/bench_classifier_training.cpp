// Training throughput of the engine's classifier training loop (bp::trainClassifier) on the CPU, with
// or without the neural-similarity regularizer, and one JSON line on stdout. classifier_training.py
// runs the same model and loop in Python PyTorch; classifier_training.sh runs both, alternately, and
// prints (a) the C++/Python time ratio and (b) the regularizer's overhead on each side.
//
// What is timed: the real engine, bp::trainClassifier, on synthetic data held in memory:
//  - `steps` x `batch` train images (uniform [0, 1], 1 x size x size, random labels of 10 classes),
//    so that one epoch is exactly `steps` optimizer steps;
//  - no validation and no test images (both hold 0 images), so the epoch's evaluation is empty and
//    an epoch is its training steps plus the engine's per-epoch bookkeeping (the check that the
//    weights are finite, the layer weights gamma, the report), which a real epoch has too;
//  - with --regularizer neural_similarity: a RegularizationTarget of `target-images` random images
//    of the same size and a random valid similarity matrix (cosines of random vectors: symmetric, 1
//    on the diagonal, PSD), pair batch `pairs` (RegularizerConfig default 16) and alpha (default 20).
// Everything else is ClassifierTrainingConfig's defaults: SGD (lr 0.1, momentum 0.9, weight decay
// 5e-4 on the model, none on the layer weights), augmentation on (zero-pad 4 + random crop + random
// horizontal flip per image, per batch), the cyclic schedule (x0.3 every 4 epochs: the rate, not the
// work, changes), no checkpoint. Per step the engine therefore does: index_select of the shuffled batch, the
// augmentation, forward, cross-entropy, [the pair draws, the pair images' forwardWithTaps, L_sim],
// loss.item(), zero_grad, backward, SGD step, the loss terms' and the accuracy's item().
// The run has `warmup` + `runs` epochs; each epoch's time is the engine's own
// ClassifierEpochReport::seconds (from the epoch's start to its report, evaluation included, empty
// here), divided by `steps`. The warm-up epochs (oneDNN primitive creation, first allocations) are
// left out; the median (and best) of the other epochs give the seconds per step, and the process CPU
// time (all threads) between two epoch callbacks gives the CPU seconds per step.
//
// Usage: bench_classifier_training [--architecture small_resnet|resnet18|resnet34] [--width 16]
//          [--regularizer none|neural_similarity] [--batch 64] [--pairs 16] [--alpha 20]
//          [--image-size 32] [--target-images 500] [--steps 6] [--runs 4] [--warmup 1]
//          [--threads 0 (all cores)] [--no-augmentation] [--seed 0] [--parameters-only]
//          [--breakdown [--repeats 6]]
// --parameters-only prints the model's parameter count (and the regularizer's) without training:
// classifier_training.sh hands it to classifier_training.py --expect-parameters.
//
// --breakdown [--repeats 6] splits the regularizer's overhead instead (classifier_training.sh with
// BREAKDOWN=1). It cannot look inside trainClassifier, so it rebuilds the engine's step from the
// engine's own modules (bp::Classifier, bp::SimilarityRegularizer, torch::optim::SGD with the
// trainer's two parameter groups), on one fixed batch and one fixed pair batch (no shuffle, no
// augmentation, no pair draws), and times three variants, alternating them in every repeat:
//   batch:      forward of the batch, cross-entropy, loss.item(), zero_grad, backward, SGD step;
//   pair_pass:  the same plus the pair images' forwardWithTaps, the taps' means added to the loss
//               (the model's own forward and backward work on the 2P pair images);
//   regularized: the same with alpha x L_sim instead of the taps' means (the engine's step).
// pair_pass - batch is what the pair batch costs in the model, regularized - pair_pass what the
// regularizer's own arithmetic (running means, centring, cosines, mixing, atanh loss, and their
// backward) costs. Each variant: 2 untimed steps, then `steps` timed ones per repeat; medians of
// wall and process CPU seconds per step.
#include <ATen/Parallel.h>
#include <time.h>
#include <torch/nn/functional/loss.h>
#include <torch/optim/sgd.h>
#include <torch/types.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "classifiers/classifier_trainer.h"
#include "classifiers/regularization_target.h"
#include "classifiers/resnet.h"
#include "classifiers/similarity_regularizer.h"
#include "runtime/error.h"
#include "runtime/runtime.h"
#include "bench_timing.h"

namespace {

using bp::bench::envOrUnset;
using bp::bench::medianOf;
using bp::bench::processCpuSeconds;

struct Options {
  std::string architecture = "small_resnet";
  int width = bp::ClassifierConfig{}.width;
  std::string regularizer = "none";
  int batch = bp::ClassifierTrainingConfig{}.batchSize;
  int pairs = bp::RegularizerConfig{}.pairBatchSize;
  double alpha = bp::RegularizerConfig{}.alpha;
  int imageSize = 32;
  int targetImages = 500;
  int steps = 6;
  int runs = 4;
  int warmup = 1;
  int threads = 0;
  bool noAugmentation = false;
  std::uint64_t seed = 0;
  bool parametersOnly = false;
  bool breakdown = false;
  int repeats = 6;
};

constexpr int kClasses = 10;

std::int64_t parameterCount(const torch::nn::Module& module) {
  std::int64_t count = 0;
  for (const auto& parameter : module.parameters()) count += parameter.numel();
  return count;
}

bp::ClassifierTrainingConfig makeConfig(const Options& options) {
  bp::ClassifierTrainingConfig config;
  config.name = "bench";
  config.data.path = "(synthetic, in memory)";  // validate() wants a path; trainClassifier(config, data) reads none
  config.data.augmentation.enabled = !options.noAugmentation;
  if (options.architecture == "small_resnet") {
    config.model.architecture = bp::ClassifierArchitecture::SmallResNet;
  } else if (options.architecture == "resnet18") {
    config.model.architecture = bp::ClassifierArchitecture::ResNet18;
  } else if (options.architecture == "resnet34") {
    config.model.architecture = bp::ClassifierArchitecture::ResNet34;
  } else {
    throw bp::Error("--architecture must be small_resnet, resnet18 or resnet34");
  }
  config.model.width = options.width;
  config.model.inputChannels = 1;
  config.model.classCount = kClasses;
  config.epochs = options.warmup + options.runs;
  config.batchSize = options.batch;
  config.seed = options.seed;
  const auto kind = bp::parseRegularizerKind(options.regularizer);
  if (!kind || (*kind != bp::RegularizerKind::None && *kind != bp::RegularizerKind::NeuralSimilarity))
    throw bp::Error("--regularizer must be none or neural_similarity");
  config.regularizer.kind = *kind;
  config.regularizer.alpha = options.alpha;
  config.regularizer.pairBatchSize = options.pairs;
  config.regularizer.target.matrixFile = "(synthetic, in memory)";
  return config;
}

bp::ClassifierTrainingData makeData(const Options& options, const bp::ClassifierTrainingConfig& config) {
  const std::int64_t size = options.imageSize;
  const std::int64_t count = static_cast<std::int64_t>(options.steps) * options.batch;
  bp::ClassifierTrainingData data;
  data.trainImages = torch::rand({count, 1, size, size});
  data.trainLabels = torch::randint(kClasses, {count}, torch::kLong);
  data.trainSourceIndices.resize(static_cast<std::size_t>(count));
  std::iota(data.trainSourceIndices.begin(), data.trainSourceIndices.end(), std::int64_t{0});
  data.validationImages = torch::empty({0, 1, size, size});
  data.validationLabels = torch::empty({0}, torch::kLong);
  data.testImages = torch::empty({0, 1, size, size});
  data.testLabels = torch::empty({0}, torch::kLong);
  for (int c = 0; c < kClasses; ++c) data.classNames.push_back(std::to_string(c));
  data.trainSource = "synthetic";
  if (config.regularizer.kind == bp::RegularizerKind::NeuralSimilarity) {
    const std::int64_t n = options.targetImages;
    const torch::Tensor raw = torch::randn({n, 64});
    const torch::Tensor vectors = raw / raw.norm(2, 1, /*keepdim=*/true);
    bp::RegularizationTarget target;
    target.images = torch::rand({n, 1, size, size});
    target.similarity = vectors.mm(vectors.t()).clamp(-1.0, 1.0);
    target.imageIndices.resize(static_cast<std::size_t>(n));
    std::iota(target.imageIndices.begin(), target.imageIndices.end(), std::int64_t{0});
    target.description = "synthetic: random images, cosines of random vectors";
    data.target = std::move(target);
  }
  return data;
}

// The engine's step rebuilt from its modules, in three variants (see the comment at the top).
nlohmann::ordered_json breakdown(const Options& options, const bp::ClassifierTrainingConfig& config) {
  namespace F = torch::nn::functional;
  bp::Classifier model(config.model);
  bp::SimilarityRegularizer regularizer(model->tapChannels(), config.regularizer.similarity);
  model->train();
  regularizer->train();
  const bp::ClassifierOptimizerConfig& settings = config.optimizer;
  const auto sgd = torch::optim::SGDOptions(settings.learningRate)
                       .momentum(settings.momentum)
                       .nesterov(settings.nesterov)
                       .weight_decay(settings.weightDecay);
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(model->parameters(), std::make_unique<torch::optim::SGDOptions>(sgd));
  auto noDecay = sgd;
  noDecay.weight_decay(0.0);
  groups.emplace_back(regularizer->parameters(), std::make_unique<torch::optim::SGDOptions>(noDecay));
  torch::optim::SGD optimizer(std::move(groups), sgd);

  const std::int64_t size = options.imageSize;
  const torch::Tensor images = torch::rand({options.batch, 1, size, size});
  const torch::Tensor labels = torch::randint(kClasses, {options.batch}, torch::kLong);
  const torch::Tensor pairImages = torch::rand({2 * options.pairs, 1, size, size});
  const torch::Tensor targets = torch::rand({options.pairs}) * 2.0 - 1.0;
  const auto step = [&](int variant) {
    torch::Tensor loss = F::cross_entropy(model->forward(images), labels);
    if (variant == 1) {
      for (const auto& tap : model->forwardWithTaps(pairImages).taps) loss = loss + tap.mean();
    } else if (variant == 2) {
      loss = loss + config.regularizer.alpha * regularizer->forward(model->forwardWithTaps(pairImages).taps, targets);
    }
    if (!std::isfinite(loss.item<double>())) throw bp::Error("the loss is not finite");
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
  };
  const char* names[] = {"batch", "pair_pass", "regularized"};
  std::vector<double> wall[3];
  std::vector<double> cpu[3];
  for (int repeat = 0; repeat < options.repeats; ++repeat) {
    for (int variant = 0; variant < 3; ++variant) {
      for (int i = 0; i < 2; ++i) step(variant);
      const auto start = std::chrono::steady_clock::now();
      const double cpuStart = processCpuSeconds();
      for (int i = 0; i < options.steps; ++i) step(variant);
      cpu[variant].push_back((processCpuSeconds() - cpuStart) / options.steps);
      wall[variant].push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() /
                              options.steps);
    }
  }
  nlohmann::ordered_json out;
  for (int variant = 0; variant < 3; ++variant) {
    out[std::string(names[variant]) + "_seconds_per_step"] = medianOf(wall[variant]);
    out[std::string(names[variant]) + "_cpu_seconds_per_step"] = medianOf(cpu[variant]);
  }
  return out;
}

int run(const Options& options) {
  bp::RuntimeConfig runtime;
  runtime.threads = options.threads;
  runtime.device = "cpu";  // the Python reference (Debian's python3-torch) has no CUDA
  bp::initializeRuntime(runtime);
  torch::manual_seed(options.seed);

  const bp::ClassifierTrainingConfig config = makeConfig(options);
  const bp::Classifier probe(config.model);
  const std::int64_t parameters = parameterCount(*probe);
  const auto taps = static_cast<std::int64_t>(probe->tapNames().size());
  const std::int64_t regularizerParameters =
      config.regularizer.kind == bp::RegularizerKind::NeuralSimilarity ? taps : 0;  // the layer logits
  nlohmann::ordered_json out;
  out["side"] = "C++";
  out["architecture"] = options.architecture;
  out["regularizer"] = options.regularizer;
  out["parameters"] = parameters;
  out["regularizer_parameters"] = regularizerParameters;
  if (options.parametersOnly) {
    std::printf("%s\n", out.dump().c_str());
    return 0;
  }
  if (options.breakdown) {
    out["regularizer"] = "breakdown";
    out["regularizer_parameters"] = taps;
    out["batch"] = options.batch;
    out["pairs"] = options.pairs;
    out["alpha"] = options.alpha;
    out["threads"] = at::get_num_threads();
    out["steps"] = options.steps;
    out["repeats"] = options.repeats;
    out.update(breakdown(options, config));
    std::printf("%s\n", out.dump().c_str());
    return 0;
  }

  const bp::ClassifierTrainingData data = makeData(options, config);
  std::vector<double> secondsPerStep;
  std::vector<double> cpuSecondsPerStep;
  double cpuMark = processCpuSeconds();
  double lastLoss = 0.0;
  const auto onEpoch = [&](const bp::ClassifierEpochReport& report) {
    const double cpuNow = processCpuSeconds();
    if (report.epoch > options.warmup) {
      secondsPerStep.push_back(report.seconds / options.steps);
      cpuSecondsPerStep.push_back((cpuNow - cpuMark) / options.steps);
    }
    lastLoss = report.totalLoss;
    cpuMark = processCpuSeconds();
  };
  const bp::ClassifierTrainingResult result = bp::trainClassifier(config, data, {}, onEpoch);
  if (secondsPerStep.empty()) throw bp::Error("no timed epoch");
  const double median = medianOf(secondsPerStep);

  out["width"] = options.width;
  out["batch"] = options.batch;
  out["pairs"] = config.regularizer.kind == bp::RegularizerKind::NeuralSimilarity ? options.pairs : 0;
  out["alpha"] = options.alpha;
  out["image_size"] = options.imageSize;
  out["augmentation"] = !options.noAugmentation;
  out["threads"] = at::get_num_threads();
  out["interop_threads"] = at::get_num_interop_threads();
  out["omp_num_threads"] = envOrUnset("OMP_NUM_THREADS");
  out["warmup"] = options.warmup;
  out["steps"] = options.steps;
  out["runs"] = options.runs;
  out["seconds_per_step"] = median;
  out["seconds_per_step_best"] = *std::min_element(secondsPerStep.begin(), secondsPerStep.end());
  out["cpu_seconds_per_step"] = medianOf(cpuSecondsPerStep);
  out["epoch_seconds"] = secondsPerStep;  // per step, one per timed epoch
  out["images_per_second"] = options.batch / median;
  out["loss"] = lastLoss;
  out["gamma"] = result.history.back().gamma;
  out["libtorch"] = bp::runtimeInfo().libtorchVersion;
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{
      "Training throughput of bp::trainClassifier (see the comment at the top of bench_classifier_training.cpp)"};
  app.add_option("--architecture", options.architecture, "small_resnet, resnet18 or resnet34")
      ->check(CLI::IsMember({"small_resnet", "resnet18", "resnet34"}));
  app.add_option("--width", options.width, "small_resnet's stem width")->check(CLI::PositiveNumber);
  app.add_option("--regularizer", options.regularizer, "none or neural_similarity")
      ->check(CLI::IsMember({"none", "neural_similarity"}));
  app.add_option("--batch", options.batch, "classification batch")->check(CLI::PositiveNumber);
  app.add_option("--pairs", options.pairs, "pairs per regularization batch")->check(CLI::PositiveNumber);
  app.add_option("--alpha", options.alpha, "regularizer weight");
  app.add_option("--image-size", options.imageSize, "images are 1 x size x size")->check(CLI::Range(8, 512));
  app.add_option("--target-images", options.targetImages, "images of the synthetic target")
      ->check(CLI::Range(2, 100000));
  app.add_option("--steps", options.steps, "optimizer steps per epoch")->check(CLI::PositiveNumber);
  app.add_option("--runs", options.runs, "timed epochs")->check(CLI::PositiveNumber);
  app.add_option("--warmup", options.warmup, "untimed epochs first")->check(CLI::NonNegativeNumber);
  app.add_option("--threads", options.threads, "intra-op threads (0: all cores)")->check(CLI::NonNegativeNumber);
  app.add_flag("--no-augmentation", options.noAugmentation, "no random crop and flip");
  app.add_option("--seed", options.seed, "seed of the data and the run");
  app.add_flag("--parameters-only", options.parametersOnly, "print the parameter counts and exit");
  app.add_flag("--breakdown", options.breakdown,
               "split the regularizer's overhead (the engine's modules, not its loop)");
  app.add_option("--repeats", options.repeats, "--breakdown: repeats of each variant")->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);
  try {
    return run(options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
