#include "classifiers/classifier_trainer.h"

#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>
#include <torch/optim/sgd.h>
#include <torch/utils.h>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <numeric>
#include <sstream>

#include "classifiers/training_regularizer.h"
#include "distributed/data_parallel_group.h"
#include "runtime/config_reader.h"
#include "runtime/error.h"
#include "runtime/random.h"
#include "runtime/runtime.h"
#include "training/training_checkpoint.h"
#include "runtime/undefined.h"

namespace bp {

namespace {

const CheckpointKind kClassifierCheckpoint{
    "brainprior classifier checkpoint", "run",
    "only epochs, seeds and name may change, and epochs not with a cosine schedule", "train without resuming"};

// Random streams of one run: each epoch draws its own, so a resumed run repeats an uninterrupted one
// (the regularizer seeds its own pair draws, see training_regularizer.cpp).
constexpr std::uint64_t kShuffleStream = 0;
constexpr std::uint64_t kAugmentationStream = 1ULL << 32;

std::unique_ptr<torch::optim::Optimizer> makeOptimizer(const ClassifierOptimizerConfig& config,
                                                       const std::vector<torch::Tensor>& modelParameters,
                                                       const std::vector<torch::Tensor>& regularizerParameters) {
  // Two groups: the model's parameters with weight decay, the regularizer's layer weights without.
  auto groups = [&](auto options) {
    std::vector<torch::optim::OptimizerParamGroup> result;
    result.emplace_back(modelParameters, std::make_unique<decltype(options)>(options));
    if (!regularizerParameters.empty()) {
      auto noDecay = options;
      noDecay.weight_decay(0.0);
      result.emplace_back(regularizerParameters, std::make_unique<decltype(options)>(noDecay));
    }
    return std::make_pair(std::move(result), options);
  };
  switch (config.kind) {
    case OptimizerKind::Sgd: {
      auto [parameterGroups, options] = groups(torch::optim::SGDOptions(config.learningRate)
                                                   .momentum(config.momentum)
                                                   .nesterov(config.nesterov)
                                                   .weight_decay(config.weightDecay));
      return std::make_unique<torch::optim::SGD>(std::move(parameterGroups), options);
    }
    case OptimizerKind::Adam: {
      auto [parameterGroups, options] =
          groups(torch::optim::AdamOptions(config.learningRate).weight_decay(config.weightDecay));
      return std::make_unique<torch::optim::Adam>(std::move(parameterGroups), options);
    }
    case OptimizerKind::AdamW: {
      auto [parameterGroups, options] =
          groups(torch::optim::AdamWOptions(config.learningRate).weight_decay(config.weightDecay));
      return std::make_unique<torch::optim::AdamW>(std::move(parameterGroups), options);
    }
  }
  throw Error("classifier training: unknown optimizer");
}

struct ClassifierRunState {
  int epoch = 0;  // epochs completed
  double seconds = 0.0;
  int bestEpoch = 0;
  double bestValidationAccuracy = -1.0;
  std::vector<ClassifierEpochReport> history;
};

nlohmann::json describeState(const ClassifierRunState& state) {
  nlohmann::json history = nlohmann::json::array();
  for (const auto& report : state.history) history.push_back(toJson(report));
  return {{"epoch", state.epoch},
          {"seconds", state.seconds},
          {"best_epoch", state.bestEpoch},
          {"best_validation_accuracy", state.bestValidationAccuracy},
          {"history", history}};
}

ClassifierRunState readState(const nlohmann::json& description, const std::filesystem::path& path) {
  ClassifierRunState state;
  try {
    state.epoch = description.at("epoch").get<int>();
    state.seconds = description.at("seconds").get<double>();
    state.bestEpoch = description.at("best_epoch").get<int>();
    state.bestValidationAccuracy = description.at("best_validation_accuracy").get<double>();
    for (const auto& report : description.at("history"))
      state.history.push_back(classifierEpochReportFromJson(report));
  } catch (const nlohmann::json::exception& error) {
    throw FileError(path.string(), std::string("corrupt checkpoint description: ") + error.what());
  }
  return state;
}

// What must match for a resumed run to continue this one. The epoch count may grow (except for a
// cosine schedule, whose rates depend on it); seeds and name only name runs.
nlohmann::json configIdentity(const ClassifierTrainingConfig& config) {
  nlohmann::json identity = toJson(config);
  if (config.schedule.kind != ScheduleKind::Cosine) identity.erase("epochs");
  identity.erase("seeds");
  identity.erase("name");
  // Runs checkpointed before the setting existed trained alone, as synchronized batch norm does.
  if (config.batchNorm == BatchNormAcrossWorkers::Synchronized) identity.erase("batch_norm");
  return identity;
}

std::string formatValue(double value, int precision = 4) {
  if (!std::isfinite(value)) return std::isnan(value) ? "nan" : (value > 0 ? "inf" : "-inf");
  std::ostringstream text;
  text.precision(precision);
  text << value;
  return text.str();
}

// The next batch of train images: drawn in shuffled order, with the regularizer's per-pixel maps,
// augmented, perturbed by the regularizer, and then, in this one place, moved to the device.
TrainingBatch nextBatch(const ClassifierTrainingData& data, const torch::Tensor& rows,
                        const AugmentationConfig& augmentation, RandomStream& augmentationDraws,
                        const TrainingRegularizer& regularizer, const torch::Device& device) {
  TrainingBatch batch;
  batch.rows = rows;
  torch::Tensor images = data.trainImages.index_select(0, rows);
  torch::Tensor maps = regularizer.pixelMaps(rows);
  augmentImages(images, maps, augmentation, augmentationDraws);
  regularizer.perturbImages(images);
  batch.images = images.to(device);
  batch.labels = data.trainLabels.index_select(0, rows).to(device);
  if (maps.defined()) batch.maps = maps.to(device);
  return batch;
}

// This rank's share of a step's batch (the whole batch without a group).
TrainingBatch shareOf(const TrainingBatch& batch, const DataParallelGroup* group) {
  if (group == nullptr) return batch;
  const std::int64_t count = batch.rows.size(0);
  const RowShare share = rowShare(count, group->rank(), group->size());
  TrainingBatch mine;
  const std::int64_t size = share.end - share.begin;
  mine.rows = batch.rows.narrow(0, share.begin, size);
  mine.images = batch.images.narrow(0, share.begin, size);
  mine.labels = batch.labels.narrow(0, share.begin, size);
  if (batch.maps.defined()) mine.maps = batch.maps.narrow(0, share.begin, size);
  mine.share = static_cast<double>(size) / static_cast<double>(count);
  return mine;
}

// The step's gradients from `loss`. In a group, every rank's gradient is its part of the step's,
// and the parts are summed over the ranks together with the step's `figures` (one exchange); the
// caller then checks the figures and takes the step.
void computeGradients(torch::optim::Optimizer& optimizer, const torch::Tensor& loss, const torch::Tensor& figures,
                      DataParallelGroup* group) {
  optimizer.zero_grad();
  loss.backward();
  if (group == nullptr) return;
  std::vector<torch::Tensor> parameters;
  for (auto& parameterGroup : optimizer.param_groups())
    for (const auto& parameter : parameterGroup.params()) parameters.push_back(parameter);
  sumGradients(*group, parameters, figures);
}

// Accuracy on a set of images; in a group each rank counts its share and the counts are summed.
double accuracyOf(Classifier& model, const torch::Tensor& images, const torch::Tensor& labels, const Job& job,
                  DataParallelGroup* group) {
  if (group == nullptr) return classifierAccuracy(model, images, labels, job);
  const std::int64_t count = images.defined() ? images.size(0) : 0;
  if (count == 0) return std::numeric_limits<double>::quiet_NaN();
  const RowShare share = rowShare(count, group->rank(), group->size());
  const std::int64_t size = share.end - share.begin;
  const double mine = size > 0 ? classifierAccuracy(model, images.narrow(0, share.begin, size),
                                                    labels.narrow(0, share.begin, size), job) *
                                     static_cast<double>(size)
                               : 0.0;
  torch::Tensor correct = torch::full({1}, std::round(mine), torch::kDouble);
  group->allReduceSum({correct});
  return correct.item<double>() / static_cast<double>(count);
}

// Every rank of a group must hold images in every share of every step: a batch (and the last,
// smaller one) and a pair batch of at least one image (pair) per rank.
void checkShares(const ClassifierTrainingConfig& config, std::int64_t trainCount, const DataParallelGroup& group) {
  const std::int64_t ranks = group.size();
  const std::int64_t last = trainCount % config.batchSize;
  const std::string advice = " so that every one of the " + std::to_string(ranks) + " workers gets a share";
  if (config.batchSize < ranks)
    throw Error("data-parallel training: batch_size " + std::to_string(config.batchSize) + " is too small" + advice);
  if (last != 0 && last < ranks)
    throw Error("data-parallel training: the last batch of an epoch holds " + std::to_string(last) + " of the " +
                std::to_string(trainCount) + " train images; choose a batch_size that leaves 0 or at least " +
                std::to_string(ranks) + advice);
  if (config.regularizer.kind == RegularizerKind::NeuralSimilarity && config.regularizer.pairBatchSize < ranks)
    throw Error("data-parallel training: pair_batch_size " + std::to_string(config.regularizer.pairBatchSize) +
                " is too small" + advice);
}

std::string checkpointKeeps(const ClassifierFitControl& control, int epoch) {
  return control.checkpoint.empty()
             ? std::string()
             : "; the checkpoint " + control.checkpoint.string() + " keeps epoch " + std::to_string(epoch);
}

}  // namespace

nlohmann::json toJson(const ClassifierTrainingResult& result) {
  nlohmann::json history = nlohmann::json::array();
  for (const auto& report : result.history) history.push_back(toJson(report));
  return {{"history", history},
          {"kept_epoch", result.keptEpoch},
          {"best_epoch", result.bestEpoch},
          {"best_validation_accuracy", finiteOrNull(result.bestValidationAccuracy)},
          {"test_accuracy", finiteOrNull(result.testAccuracy)},
          {"validation_accuracy", finiteOrNull(result.validationAccuracy)},
          {"seconds", result.seconds},
          {"resumed_after_epoch", result.resumedAfterEpoch},
          {"device", result.device},
          {"tap_names", result.tapNames},
          {"images",
           {{"train", result.trainImages},
            {"validation", result.validationImages},
            {"test", result.testImages},
            {"target", result.targetImages}}},
          {"target", result.targetDescription},
          {"model", result.trained.model ? toJson(resNetConfig(result.trained.model)) : nlohmann::json()}};
}

// ---- training -----------------------------------------------------------------------------------

ClassifierTrainingResult trainClassifier(const ClassifierTrainingConfig& config, const ClassifierTrainingData& data,
                                         const Job& job, const ClassifierEpochCallback& onEpoch,
                                         const ClassifierFitControl& control) {
  validate(config);
  const std::int64_t trainCount = data.trainImages.defined() ? data.trainImages.size(0) : 0;
  if (trainCount < 1) throw Error("classifier training: no train images");
  if (data.trainImages.size(1) != config.model.inputChannels)
    throw Error("classifier training: the images have " + std::to_string(data.trainImages.size(1)) +
                " channels but the model's input_channels is " + std::to_string(config.model.inputChannels) +
                (data.trainImages.size(1) == 3 ? " (set 'data': 'grayscale' or the model's channels)" : ""));
  const auto largestLabel = std::max(data.trainLabels.max().item<std::int64_t>(),
                                     data.testLabels.numel() > 0 ? data.testLabels.max().item<std::int64_t>() : 0);
  if (largestLabel >= config.model.classCount)
    throw Error("classifier training: the data has labels up to " + std::to_string(largestLabel) +
                " but the model's class_count is " + std::to_string(config.model.classCount));

  DataParallelGroup* group = control.group;
  if (group != nullptr) checkShares(config, trainCount, *group);
  // The regularizer's running means (and batch norm, unless per worker) sum over the group's ranks
  // on this thread.
  const DataParallelScope dataParallel(group, config.batchNorm == BatchNormAcrossWorkers::Synchronized);
  // Grad mode is per thread; a caller's inference guard must not leak into training.
  torch::AutoGradMode gradMode(true);
  torch::manual_seed(config.seed);
  const torch::Device device(runtimeInfo().device == "cuda" ? torch::kCUDA : torch::kCPU);

  ClassifierConfig modelConfig = config.model;
  if (config.data.normalization == NormalizationSource::TrainImages) {
    const torch::Tensor perChannel = data.trainImages.transpose(0, 1).flatten(1).to(torch::kDouble);
    const torch::Tensor mean = perChannel.mean(1);
    const torch::Tensor deviation = perChannel.std(1, /*unbiased=*/false).clamp_min(1e-6);
    modelConfig.imageMean.clear();
    modelConfig.imageStd.clear();
    for (std::int64_t c = 0; c < mean.size(0); ++c) {
      modelConfig.imageMean.push_back(static_cast<float>(mean[c].item<double>()));
      modelConfig.imageStd.push_back(static_cast<float>(deviation[c].item<double>()));
    }
  }

  ClassifierTrainingResult result;
  result.device = device.is_cuda() ? "cuda" : "cpu";
  result.trainImages = trainCount;
  result.validationImages = data.validationImages.defined() ? data.validationImages.size(0) : 0;
  result.testImages = data.testImages.defined() ? data.testImages.size(0) : 0;
  result.trained.classNames = data.classNames;
  result.trained.imageShape = {data.trainImages.size(1), data.trainImages.size(2), data.trainImages.size(3)};
  result.trained.model = Classifier(modelConfig);
  Classifier& model = result.trained.model;
  result.tapNames = model->tapNames();
  model->to(device);
  const std::unique_ptr<TrainingRegularizer> regularizer = makeTrainingRegularizer(config, data, model, device);
  if (config.regularizer.kind == RegularizerKind::NeuralSimilarity) {
    result.targetImages = data.target->size();
    result.targetDescription = data.target->description;
  }
  torch::nn::Module* regularizerModule = regularizer->module();
  const std::unique_ptr<torch::optim::Optimizer> optimizer =
      makeOptimizer(config.optimizer, model->parameters(),
                    regularizerModule ? regularizerModule->parameters() : std::vector<torch::Tensor>{});
  const std::vector<CheckpointModule> checkpointModules = {{"model", model.get()}, {"regularizer", regularizerModule}};

  const nlohmann::json identity = {{"config", configIdentity(config)},
                                   {"train_images", trainCount},
                                   {"validation_images", result.validationImages},
                                   {"test_images", result.testImages},
                                   {"target_images", result.targetImages}};

  ClassifierRunState state;
  std::vector<torch::Tensor> best =
      config.keep == ModelSelection::BestValidation ? snapshotModule(*model) : std::vector<torch::Tensor>{};
  if (control.resume && !control.checkpoint.empty() && std::filesystem::exists(control.checkpoint)) {
    state = readState(readTrainingCheckpoint(control.checkpoint, kClassifierCheckpoint, identity, checkpointModules,
                                             *optimizer, best),
                      control.checkpoint);
    result.resumedAfterEpoch = state.epoch;
    job.progress(static_cast<double>(std::min(state.epoch, config.epochs)) / config.epochs,
                 "resumed after epoch " + std::to_string(state.epoch));
  }
  if (group != nullptr) {
    group->requireSameOnEveryRank("training run (config and data)", identity.dump());
    group->requireSameOnEveryRank("resumed epoch (every rank must see the run folder's checkpoint)",
                                  std::to_string(state.epoch));
    // One set of weights to start from, whatever each rank's library drew.
    std::vector<torch::Tensor> weights;
    for (const CheckpointModule& entry : checkpointModules) {
      if (entry.module == nullptr) continue;
      for (const auto& parameter : entry.module->parameters()) weights.push_back(parameter);
      for (const auto& buffer : entry.module->buffers()) weights.push_back(buffer);
    }
    group->broadcastFromLeader(weights);
  }

  const auto start = std::chrono::steady_clock::now();
  const double secondsBefore = state.seconds;
  auto elapsed = [&] {
    return secondsBefore + std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  const auto batches = (trainCount + config.batchSize - 1) / config.batchSize;
  std::vector<std::int64_t> order(static_cast<std::size_t>(trainCount));

  while (state.epoch < config.epochs) {
    const int epoch = state.epoch + 1;
    const auto epochStart = std::chrono::steady_clock::now();
    const double learningRate = learningRateAt(config.optimizer.learningRate, config.schedule, epoch, config.epochs);
    for (auto& group : optimizer->param_groups()) group.options().set_lr(learningRate);
    const auto epochStream = static_cast<std::uint64_t>(epoch);
    RandomStream shuffler(config.seed, kShuffleStream + epochStream);
    RandomStream augmentationDraws(config.seed, kAugmentationStream + epochStream);
    regularizer->beginEpoch(config.seed, epoch);
    torch::manual_seed(config.seed * 1000003u + epochStream);
    std::iota(order.begin(), order.end(), std::int64_t{0});
    shuffler.shuffle(order);
    const torch::Tensor permutation = torch::tensor(order, torch::kLong);

    model->train();
    if (regularizerModule) regularizerModule->train();
    double classificationSum = 0.0;
    double regularizationSum = 0.0;
    double totalSum = 0.0;
    std::int64_t correct = 0;
    for (std::int64_t batchIndex = 0; batchIndex < batches; ++batchIndex) {
      job.throwIfCancelled();
      const std::int64_t begin = batchIndex * config.batchSize;
      // Every rank draws and augments the whole batch (the same draws whatever the world size)
      // and keeps its share.
      const TrainingBatch batch =
          shareOf(nextBatch(data, permutation.slice(0, begin, std::min(trainCount, begin + config.batchSize)),
                            config.data.augmentation, augmentationDraws, *regularizer, device),
                  group);
      const StepLoss step = regularizer->loss(model, batch);
      // The step's figures, in the gradients' dtype and device so that a group sums them in the
      // gradients' exchange (the loss terms are each rank's parts).
      const torch::Tensor figures = torch::stack(
          {step.total.detach(), step.classification.detach(),
           step.regularization.defined() ? step.regularization.detach() : torch::zeros_like(step.total),
           step.logits.detach().argmax(1).eq(batch.labels).sum().to(step.total.dtype())});
      computeGradients(*optimizer, step.total, figures, group);
      const torch::Tensor values = figures.to(torch::kCPU, torch::kDouble);
      const double totalValue = values[0].item<double>();
      const double classificationValue = values[1].item<double>();
      const double regularizationValue = values[2].item<double>();
      // Checked before the step: a non-finite loss never reaches the weights.
      if (!std::isfinite(totalValue)) {
        std::string terms = "cross-entropy " + formatValue(classificationValue);
        if (step.regularization.defined()) terms += ", regularization " + formatValue(regularizationValue);
        throw Error("training stopped: the loss is not finite (" + formatValue(totalValue) + ": " + terms +
                    ") in epoch " + std::to_string(epoch) + ", batch " + std::to_string(batchIndex + 1) + " of " +
                    std::to_string(batches) + " at learning rate " + formatValue(learningRate) +
                    checkpointKeeps(control, state.epoch) + "; try a smaller learning rate or regularization weight");
      }
      optimizer->step();

      classificationSum += classificationValue;
      regularizationSum += regularizationValue;
      totalSum += totalValue;
      correct += std::llround(values[3].item<double>());
      job.progress(
          (static_cast<double>(epoch - 1) + static_cast<double>(batchIndex + 1) / static_cast<double>(batches)) /
              config.epochs,
          "epoch " + std::to_string(epoch) + "/" + std::to_string(config.epochs) + ", batch " +
              std::to_string(batchIndex + 1) + "/" + std::to_string(batches) + ": loss " +
              formatValue(totalSum / static_cast<double>(batchIndex + 1)));
    }

    // The last step can leave non-finite weights behind a finite loss: never checkpoint those.
    for (const auto& parameter : optimizer->param_groups().front().params())
      if (!torch::isfinite(parameter).all().item<bool>())
        throw Error("training stopped: the weights are not finite after epoch " + std::to_string(epoch) +
                    " at learning rate " + formatValue(learningRate) + checkpointKeeps(control, state.epoch) +
                    "; try a smaller learning rate or regularization weight");

    // Per-worker batch norm leaves each rank its own running statistics: rank 0's are the model's
    // (as DistributedDataParallel broadcasts them), for every rank's share of the evaluation.
    if (group != nullptr && config.batchNorm == BatchNormAcrossWorkers::PerWorker)
      group->broadcastFromLeader(model->buffers());

    ClassifierEpochReport report;
    report.epoch = epoch;
    report.learningRate = learningRate;
    report.classificationLoss = classificationSum / static_cast<double>(batches);
    report.regularizationLoss = regularizationSum / static_cast<double>(batches);
    report.totalLoss = totalSum / static_cast<double>(batches);
    report.trainAccuracy = static_cast<double>(correct) / static_cast<double>(trainCount);
    report.validationAccuracy = accuracyOf(model, data.validationImages, data.validationLabels, job, group);
    report.testAccuracy = accuracyOf(model, data.testImages, data.testLabels, job, group);
    report.gamma = regularizer->gammaValues();
    report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - epochStart).count();
    report.totalSeconds = elapsed();
    if (std::isfinite(report.validationAccuracy) && report.validationAccuracy > state.bestValidationAccuracy) {
      state.bestValidationAccuracy = report.validationAccuracy;
      state.bestEpoch = epoch;
      if (config.keep == ModelSelection::BestValidation) best = snapshotModule(*model);
    }
    state.history.push_back(report);
    state.epoch = epoch;
    state.seconds = report.totalSeconds;
    if (!control.checkpoint.empty() && (group == nullptr || group->leads()))
      writeTrainingCheckpoint(control.checkpoint, kClassifierCheckpoint, identity, describeState(state),
                              checkpointModules, *optimizer, best);
    if (onEpoch) onEpoch(report);
    job.progress(static_cast<double>(epoch) / config.epochs,
                 "epoch " + std::to_string(epoch) + "/" + std::to_string(config.epochs) + ": loss " +
                     formatValue(report.totalLoss) + ", test accuracy " + formatValue(report.testAccuracy, 3));
  }

  result.history = state.history;
  result.bestEpoch = state.bestEpoch;
  result.bestValidationAccuracy = state.bestEpoch > 0 ? state.bestValidationAccuracy : kUndefined;
  result.keptEpoch = state.epoch;
  if (config.keep == ModelSelection::BestValidation && state.bestEpoch > 0) {
    restoreModule(*model, best);
    result.keptEpoch = state.bestEpoch;
  }
  if (result.keptEpoch > 0 && result.keptEpoch <= static_cast<int>(result.history.size())) {
    const ClassifierEpochReport& kept = result.history[static_cast<std::size_t>(result.keptEpoch - 1)];
    result.testAccuracy = kept.testAccuracy;
    result.validationAccuracy = kept.validationAccuracy;
  }
  result.seconds = std::max(state.seconds, elapsed());
  model->to(torch::kCPU);
  model->eval();
  job.progress(
      1.0, "trained " + std::to_string(state.epoch) + " epochs: test accuracy " + formatValue(result.testAccuracy, 3));
  return result;
}

ClassifierTrainingResult trainClassifier(const ClassifierTrainingConfig& config, const Job& job,
                                         const ClassifierEpochCallback& onEpoch, const ClassifierFitControl& control) {
  const ClassifierTrainingData data = loadClassifierTrainingData(config, config.seed, job.subJob(0.0, 0.05));
  return trainClassifier(config, data, job.subJob(0.05, 1.0), onEpoch, control);
}

void checkResumable(const std::filesystem::path& checkpoint, const ClassifierTrainingConfig& config) {
  const nlohmann::json stored = readClassifierCheckpointInfo(checkpoint).identity;
  const nlohmann::json wanted = configIdentity(config);
  if (!stored.contains("config") || stored.at("config") != wanted)
    throw FileError(checkpoint.string(),
                    checkpointMismatch(kClassifierCheckpoint, {{"config", stored.value("config", nlohmann::json())}},
                                       {{"config", wanted}}));
}

ClassifierCheckpointInfo readClassifierCheckpointInfo(const std::filesystem::path& checkpoint) {
  const nlohmann::json description = readTrainingCheckpointDescription(checkpoint, kClassifierCheckpoint);
  const ClassifierRunState state = readState(description, checkpoint);
  ClassifierCheckpointInfo info;
  info.epoch = state.epoch;
  info.seconds = state.seconds;
  info.history = state.history;
  info.identity = description.at("identity");
  return info;
}

}  // namespace bp
