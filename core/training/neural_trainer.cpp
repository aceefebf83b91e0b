#include "training/neural_trainer.h"

#include <torch/optim/adam.h>
#include <torch/serialize.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>
#include <torch/utils.h>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>

#include "distributed/data_parallel_group.h"
#include "measures/correlation.h"
#include "measures/reliability.h"
#include "runtime/atomic_file.h"
#include "runtime/config_reader.h"
#include "runtime/error.h"
#include "runtime/random.h"
#include "runtime/runtime.h"
#include "runtime/torch_archive.h"
#include "training/training_checkpoint.h"

namespace bp {

namespace {

constexpr std::int64_t kPredictionBatch = 256;
constexpr const char* kConfigKey = "brainprior_neural_model";
constexpr const char* kNeuralModelFormat = "brainprior neural model";
constexpr int kNeuralModelVersion = 1;

// The normalisation must fit the model it came with: one mean and one positive standard deviation
// per input channel, one positive response scale per neuron.
void checkNormalization(const NeuralNormalization& normalization, const NeuralModelConfig& config) {
  const auto channels = static_cast<std::size_t>(config.inputChannels);
  const auto neurons = static_cast<std::size_t>(config.neuronCount);
  const auto positiveAndFinite = [](const std::vector<float>& values) {
    return std::all_of(values.begin(), values.end(), [](float value) { return std::isfinite(value) && value > 0.0f; });
  };
  if (normalization.imageMean.size() != channels || normalization.imageStd.size() != channels)
    throw Error("the normalisation has " + std::to_string(normalization.imageMean.size()) + " image means and " +
                std::to_string(normalization.imageStd.size()) + " standard deviations for a model of " +
                std::to_string(channels) + " input channel(s)");
  if (!positiveAndFinite(normalization.imageStd))
    throw Error("the normalisation's 'image_std' must be positive and finite");
  if (normalization.responseScale.size() != neurons)
    throw Error("the normalisation has " + std::to_string(normalization.responseScale.size()) +
                " response scales for a model of " + std::to_string(neurons) + " neurons");
  if (!positiveAndFinite(normalization.responseScale))
    throw Error("the normalisation's 'response_scale' must be positive and finite");
}

// Rows `trials` of a row-major matrix with `rowSize` floats per row, as a tensor rows x shape...
torch::Tensor gatherRows(const std::vector<float>& matrix, std::int64_t rowSize,
                         const std::vector<std::int64_t>& trials, std::vector<std::int64_t> shape) {
  shape.insert(shape.begin(), static_cast<std::int64_t>(trials.size()));
  torch::Tensor rows = torch::empty(shape);
  float* out = rows.data_ptr<float>();
  for (std::size_t i = 0; i < trials.size(); ++i)
    std::copy_n(matrix.data() + trials[i] * rowSize, rowSize, out + static_cast<std::int64_t>(i) * rowSize);
  return rows;
}

// (images - mean) / std per channel, in place.
void normalizeImages(torch::Tensor& images, const NeuralNormalization& normalization) {
  const auto channels = static_cast<std::int64_t>(normalization.imageMean.size());
  const torch::Tensor mean = torch::tensor(normalization.imageMean).view({1, channels, 1, 1});
  const torch::Tensor deviation = torch::tensor(normalization.imageStd).view({1, channels, 1, 1});
  images.sub_(mean).div_(deviation);
}

// Model rates for normalised images, batch by batch, in evaluation mode and without gradients.
torch::Tensor predictNormalized(NeuralModel& model, const torch::Tensor& images, const Job& job) {
  torch::NoGradGuard noGrad;
  const bool wasTraining = model->is_training();
  model->eval();
  std::vector<torch::Tensor> batches;
  const auto count = images.size(0);
  for (std::int64_t begin = 0; begin < count; begin += kPredictionBatch) {
    job.throwIfCancelled();
    batches.push_back(model->forward(images.slice(0, begin, std::min(count, begin + kPredictionBatch))));
  }
  model->train(wasTraining);
  return batches.empty() ? torch::empty({0, model->config().neuronCount}) : torch::cat(batches, 0);
}

double meanCorrelation(const torch::Tensor& predictions, const torch::Tensor& targets) {
  const torch::Tensor p = predictions.contiguous();
  const torch::Tensor y = targets.contiguous();
  const auto neurons = p.size(1);
  std::vector<double> correlations(static_cast<std::size_t>(neurons));
  for (std::int64_t n = 0; n < neurons; ++n)
    correlations[static_cast<std::size_t>(n)] =
        pearson(p.data_ptr<float>() + n, y.data_ptr<float>() + n, p.size(0), neurons, neurons);
  return meanOfDefined(correlations);
}

std::vector<float> floatVector(const nlohmann::json& json, const char* key) {
  if (!json.contains(key) || !json.at(key).is_array())
    throw Error(std::string("neural model normalisation: '") + key + "' must be an array of numbers");
  return json.at(key).get<std::vector<float>>();
}

// What besides weights a fit needs to continue after an interruption.
struct NeuralFitState {
  int epoch = 0;  // epochs completed
  double learningRate = 0.0;
  int decays = 0;
  int epochsWithoutImprovement = 0;
  bool finished = false;
  std::string stopReason;
  double seconds = 0.0;
};

const CheckpointKind kNeuralFitCheckpoint{"brainprior neural fit checkpoint", "fit",
                                          "only max_epochs and max_seconds may change", "fit without resuming"};

void writeCheckpoint(const std::filesystem::path& path, const nlohmann::json& identity, NeuralModel& model,
                     const std::vector<torch::Tensor>& best, const torch::optim::Adam& optimizer,
                     const NeuralFitState& state, const NeuralFitResult& result) {
  nlohmann::json history = nlohmann::json::array();
  for (const auto& report : result.history) history.push_back(toJson(report));
  const nlohmann::json description = {{"epoch", state.epoch},
                                      {"learning_rate", state.learningRate},
                                      {"decays", state.decays},
                                      {"epochs_without_improvement", state.epochsWithoutImprovement},
                                      {"finished", state.finished},
                                      {"stop_reason", state.stopReason},
                                      {"seconds", state.seconds},
                                      {"best_epoch", result.bestEpoch},
                                      {"best_validation_correlation", result.bestValidationCorrelation},
                                      {"history", history}};
  writeTrainingCheckpoint(path, kNeuralFitCheckpoint, identity, description, {{"model", model.get()}}, optimizer,
                          best);
}

void readCheckpoint(const std::filesystem::path& path, const nlohmann::json& identity, NeuralModel& model,
                    std::vector<torch::Tensor>& best, torch::optim::Adam& optimizer, NeuralFitState& state,
                    NeuralFitResult& result) {
  const nlohmann::json description =
      readTrainingCheckpoint(path, kNeuralFitCheckpoint, identity, {{"model", model.get()}}, optimizer, best);
  try {
    state.epoch = description.at("epoch").get<int>();
    state.learningRate = description.at("learning_rate").get<double>();
    state.decays = description.at("decays").get<int>();
    state.epochsWithoutImprovement = description.at("epochs_without_improvement").get<int>();
    state.finished = description.at("finished").get<bool>();
    state.stopReason = description.at("stop_reason").get<std::string>();
    state.seconds = description.at("seconds").get<double>();
    result.bestEpoch = description.at("best_epoch").get<int>();
    result.bestValidationCorrelation = description.at("best_validation_correlation").get<double>();
    for (const auto& report : description.at("history")) result.history.push_back(neuralEpochReportFromJson(report));
  } catch (const nlohmann::json::exception& error) {
    throw FileError(path.string(), std::string("corrupt checkpoint description: ") + error.what());
  }
}

}  // namespace

nlohmann::json toJson(const NeuralEpochReport& report) {
  return {{"epoch", report.epoch},
          {"train_loss", report.trainLoss},
          {"validation_correlation", report.validationCorrelation},
          {"learning_rate", report.learningRate},
          {"improved", report.improved},
          {"seconds", report.seconds}};
}

NeuralEpochReport neuralEpochReportFromJson(const nlohmann::json& json) {
  NeuralEpochReport report;
  report.epoch = json.at("epoch").get<int>();
  report.trainLoss = json.at("train_loss").get<double>();
  report.validationCorrelation = json.at("validation_correlation").get<double>();
  report.learningRate = json.at("learning_rate").get<double>();
  report.improved = json.at("improved").get<bool>();
  report.seconds = json.at("seconds").get<double>();
  return report;
}

nlohmann::json toJson(const NeuralFitResult& result) {
  nlohmann::json history = nlohmann::json::array();
  for (const auto& report : result.history) history.push_back(toJson(report));
  return {{"history", history},
          {"best_epoch", result.bestEpoch},
          {"best_validation_correlation", result.bestValidationCorrelation},
          {"stop_reason", result.stopReason},
          {"seconds", result.seconds},
          {"resumed_after_epoch", result.resumedAfterEpoch},
          {"device", result.device}};
}

nlohmann::json toJson(const NeuralTrainerConfig& config) {
  return {{"batch_size", config.batchSize},
          {"max_epochs", config.maxEpochs},
          {"learning_rate", config.learningRate},
          {"patience", config.patience},
          {"tolerance", config.tolerance},
          {"learning_rate_decays", config.learningRateDecays},
          {"learning_rate_factor", config.learningRateFactor},
          {"max_seconds", config.maxSeconds},
          {"seed", config.seed}};
}

NeuralTrainerConfig neuralTrainerConfigFromJson(const nlohmann::json& json) {
  NeuralTrainerConfig config;
  ConfigReader reader(json, "neural trainer config");
  reader.read("batch_size", config.batchSize);
  reader.read("max_epochs", config.maxEpochs);
  reader.read("learning_rate", config.learningRate);
  reader.read("patience", config.patience);
  reader.read("tolerance", config.tolerance);
  reader.read("learning_rate_decays", config.learningRateDecays);
  reader.read("learning_rate_factor", config.learningRateFactor);
  reader.read("max_seconds", config.maxSeconds);
  reader.read("seed", config.seed);
  reader.finish();
  return config;
}

nlohmann::json toJson(const NeuralNormalization& normalization) {
  return {{"image_mean", normalization.imageMean},
          {"image_std", normalization.imageStd},
          {"response_scale", normalization.responseScale},
          {"pixel_range", normalization.pixelRange}};
}

NeuralNormalization neuralNormalizationFromJson(const nlohmann::json& json) {
  if (!json.is_object()) throw Error("neural model normalisation: expected a JSON object");
  NeuralNormalization normalization;
  normalization.imageMean = floatVector(json, "image_mean");
  normalization.imageStd = floatVector(json, "image_std");
  normalization.responseScale = floatVector(json, "response_scale");
  const std::vector<float> range = floatVector(json, "pixel_range");
  if (range.size() != 2 || !(range[1] > range[0]))
    throw Error("neural model normalisation: 'pixel_range' must be [low, high] with low < high");
  normalization.pixelRange = {range[0], range[1]};
  return normalization;
}

NeuralNormalization computeNeuralNormalization(const NeuralDataset& dataset) {
  const std::vector<std::int64_t> train = dataset.trialsOf(Tier::Train);
  if (train.empty()) throw Error("dataset '" + dataset.name + "' has no train trials to normalise with");
  const auto channels = static_cast<std::size_t>(dataset.channels);
  const std::int64_t pixels = static_cast<std::int64_t>(dataset.height) * dataset.width;

  NeuralNormalization normalization;
  const auto stored = dataset.statistics.find("images");
  auto storedValues = [&](const char* name) -> std::vector<float> {
    if (stored == dataset.statistics.end()) return {};
    const auto found = stored->second.all.find(name);
    return found == stored->second.all.end() ? std::vector<float>{} : found->second;
  };
  std::vector<float> mean = storedValues("mean");
  std::vector<float> deviation = storedValues("std");
  // A scalar statistic applies to every channel.
  if (mean.size() == 1) mean.assign(channels, mean.front());
  if (deviation.size() == 1) deviation.assign(channels, deviation.front());
  if (mean.size() != channels || deviation.size() != channels) {
    mean.assign(channels, 0.0f);
    deviation.assign(channels, 0.0f);
    for (std::size_t c = 0; c < channels; ++c) {
      double sum = 0.0;
      double squares = 0.0;
      for (const std::int64_t t : train) {
        const float* plane = dataset.image(t) + static_cast<std::int64_t>(c) * pixels;
        for (std::int64_t i = 0; i < pixels; ++i) {
          sum += plane[i];
          squares += static_cast<double>(plane[i]) * plane[i];
        }
      }
      const double count = static_cast<double>(train.size()) * static_cast<double>(pixels);
      mean[c] = static_cast<float>(sum / count);
      deviation[c] = static_cast<float>(std::sqrt(std::max(0.0, squares / count - (sum / count) * (sum / count))));
    }
  }
  for (auto& value : deviation)
    if (!(value > 0.0f)) value = 1.0f;  // a blank stimulus channel: nothing to scale
  normalization.imageMean = mean;
  normalization.imageStd = deviation;
  float brightest = 0.0f;
  for (const std::int64_t t : train)
    brightest = std::max(brightest, *std::max_element(dataset.image(t), dataset.image(t) + dataset.imageSize()));
  normalization.pixelRange = {0.0f, brightest > 1.0f ? 255.0f : 1.0f};

  const auto neurons = static_cast<std::size_t>(dataset.neuronCount);
  std::vector<double> deviations(neurons);
  for (std::size_t n = 0; n < neurons; ++n) {
    double sum = 0.0;
    double squares = 0.0;
    for (const std::int64_t t : train) {
      const double value = dataset.response(t)[n];
      sum += value;
      squares += value * value;
    }
    const double count = static_cast<double>(train.size());
    deviations[n] = std::sqrt(std::max(0.0, squares / count - (sum / count) * (sum / count)));
  }
  const double floor = 0.01 * std::accumulate(deviations.begin(), deviations.end(), 0.0) / static_cast<double>(neurons);
  normalization.responseScale.resize(neurons);
  for (std::size_t n = 0; n < neurons; ++n)
    normalization.responseScale[n] =
        static_cast<float>(deviations[n] > floor ? deviations[n] : (floor > 0.0 ? floor : 1.0));
  return normalization;
}

torch::Tensor poissonLoss(const torch::Tensor& prediction, const torch::Tensor& target) {
  return (prediction - target * (prediction + 1e-8).log()).sum(1).mean();
}

NeuralFitResult fitNeuralModel(const NeuralDataset& dataset, const NeuralModelConfig& modelConfig,
                               const NeuralTrainerConfig& trainerConfig, const Job& job,
                               const NeuralEpochCallback& onEpoch, const NeuralFitControl& control) {
  dataset.validate();
  if (trainerConfig.batchSize < 1 || trainerConfig.maxEpochs < 1 || trainerConfig.patience < 1 ||
      !(trainerConfig.learningRate > 0.0) || trainerConfig.learningRateDecays < 0 ||
      !(trainerConfig.learningRateFactor > 0.0 && trainerConfig.learningRateFactor < 1.0))
    throw Error(
        "neural trainer config: batch size, epochs, patience and learning rate must be positive and "
        "the learning-rate factor in (0, 1)");
  const std::vector<std::int64_t> train = dataset.trialsOf(Tier::Train);
  const std::vector<std::int64_t> validation = dataset.trialsOf(Tier::Validation);
  if (train.empty() || validation.empty())
    throw Error("dataset '" + dataset.name + "' needs train and validation trials to fit a model");
  // One missing value would turn every loss into NaN epochs later; name it now.
  for (std::int64_t t = 0; t < dataset.trialCount(); ++t)
    for (std::int64_t n = 0; n < dataset.neuronCount; ++n)
      if (!std::isfinite(dataset.response(t)[n]))
        throw Error("dataset '" + dataset.name + "': the response of neuron " + std::to_string(n) + " in trial " +
                    std::to_string(dataset.trialIds[static_cast<std::size_t>(t)]) +
                    " is not a finite number; a model cannot be fitted to it");

  DataParallelGroup* group = control.group;
  const int ranks = group ? group->size() : 1;
  if (group != nullptr) {
    const auto trainCount = static_cast<std::int64_t>(train.size());
    const std::int64_t last = trainCount % trainerConfig.batchSize;
    if (trainerConfig.batchSize < ranks || (last >= 2 && last < ranks))
      throw Error("data-parallel fit: every one of the " + std::to_string(ranks) +
                  " workers needs a share of every batch: choose a batch_size of at least " + std::to_string(ranks) +
                  " whose last batch of the " + std::to_string(trainCount) + " train trials holds 0, 1 or at least " +
                  std::to_string(ranks));
  }
  // Batch norm sums over the group's ranks on this thread.
  const DataParallelScope dataParallel(group, /*synchronizeBatchNorm=*/true);
  // Grad mode is per thread; a caller's inference guard must not leak into training.
  torch::AutoGradMode gradMode(true);
  torch::manual_seed(trainerConfig.seed);
  const torch::Device device(runtimeInfo().device == "cuda" ? torch::kCUDA : torch::kCPU);

  NeuralModelConfig config = modelConfig;
  config.inputChannels = dataset.channels;
  config.inputHeight = dataset.height;
  config.inputWidth = dataset.width;
  config.neuronCount = dataset.neuronCount;

  NeuralFitResult result;
  result.device = device.is_cuda() ? "cuda" : "cpu";
  FittedNeuralModel& fitted = result.fitted;
  fitted.normalization = computeNeuralNormalization(dataset);
  fitted.model = NeuralModel(config);
  NeuralModel& model = fitted.model;

  const std::vector<std::int64_t> imageShape = {dataset.channels, dataset.height, dataset.width};
  torch::Tensor trainImages = gatherRows(dataset.images, dataset.imageSize(), train, imageShape);
  torch::Tensor validationImages = gatherRows(dataset.images, dataset.imageSize(), validation, imageShape);
  normalizeImages(trainImages, fitted.normalization);
  normalizeImages(validationImages, fitted.normalization);
  const torch::Tensor responseScale = torch::tensor(fitted.normalization.responseScale).unsqueeze(0);
  const torch::Tensor trainResponses =
      gatherRows(dataset.responses, dataset.neuronCount, train, {dataset.neuronCount}) / responseScale;
  const torch::Tensor validationResponses =
      gatherRows(dataset.responses, dataset.neuronCount, validation, {dataset.neuronCount});
  model->initializeReadoutBias(trainResponses.mean(0));
  model->to(device);
  trainImages = trainImages.to(device);
  validationImages = validationImages.to(device);
  const torch::Tensor trainTargets = trainResponses.to(device);

  torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(trainerConfig.learningRate));
  NeuralFitState state;
  state.learningRate = trainerConfig.learningRate;
  std::vector<torch::Tensor> best = snapshotModule(*model);
  // What must match for a resumed fit to continue this one. The epoch and time budgets may grow.
  nlohmann::json trainerIdentity = toJson(trainerConfig);
  trainerIdentity.erase("max_epochs");
  trainerIdentity.erase("max_seconds");
  const nlohmann::json identity = {{"model", toJson(config)},
                                   {"trainer", trainerIdentity},
                                   {"train_trials", train.size()},
                                   {"validation_trials", validation.size()}};
  if (control.resume && !control.checkpoint.empty() && std::filesystem::exists(control.checkpoint)) {
    readCheckpoint(control.checkpoint, identity, model, best, optimizer, state, result);
    result.resumedAfterEpoch = state.epoch;
    for (auto& group : optimizer.param_groups())
      static_cast<torch::optim::AdamOptions&>(group.options()).lr(state.learningRate);
    job.progress(static_cast<double>(state.epoch) / trainerConfig.maxEpochs,
                 "resumed after epoch " + std::to_string(state.epoch));
  }
  if (group != nullptr) {
    group->requireSameOnEveryRank("fit (model, trainer and data)", identity.dump());
    group->requireSameOnEveryRank("resumed epoch (every rank must see the checkpoint)", std::to_string(state.epoch));
    std::vector<torch::Tensor> weights = model->parameters();
    for (const auto& buffer : model->buffers()) weights.push_back(buffer);
    group->broadcastFromLeader(weights);
  }

  const auto start = std::chrono::steady_clock::now();
  const double secondsBefore = state.seconds;
  auto elapsed = [&] {
    return secondsBefore + std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  std::vector<std::int64_t> order(train.size());
  const auto trainCount = static_cast<std::int64_t>(train.size());

  while (!state.finished && state.epoch < trainerConfig.maxEpochs) {
    const int epoch = state.epoch + 1;
    // Per-epoch streams, so that a resumed fit draws what the uninterrupted one would have.
    RandomStream shuffler(trainerConfig.seed, static_cast<std::uint64_t>(epoch));
    torch::manual_seed(trainerConfig.seed * 1000003u + static_cast<std::uint64_t>(epoch));
    std::iota(order.begin(), order.end(), std::int64_t{0});
    shuffler.shuffle(order);
    const torch::Tensor permutation = torch::tensor(order).to(device);
    model->train();
    double lossSum = 0.0;
    std::int64_t batches = 0;
    for (std::int64_t begin = 0; begin < trainCount; begin += trainerConfig.batchSize) {
      job.throwIfCancelled();
      torch::Tensor indices = permutation.slice(0, begin, std::min(trainCount, begin + trainerConfig.batchSize));
      // Batch norm cannot normalise a single image.
      if (indices.size(0) < 2) continue;
      // In a group each rank takes its share of the batch: its loss is its part of the batch's
      // (the mean over its share times the share), and rank 0 adds the weights' regularization.
      const std::int64_t batchCount = indices.size(0);
      const RowShare share = group ? rowShare(batchCount, group->rank(), ranks) : RowShare{0, batchCount};
      indices = indices.narrow(0, share.begin, share.end - share.begin);
      const StepRowsScope rows({batchCount, share.begin});
      optimizer.zero_grad();
      torch::Tensor loss =
          poissonLoss(model->forward(trainImages.index_select(0, indices)), trainTargets.index_select(0, indices)) *
          (static_cast<double>(share.end - share.begin) / static_cast<double>(batchCount));
      if (group == nullptr || group->leads()) loss = loss + model->regularization();
      loss.backward();
      const torch::Tensor figures = loss.detach().reshape({1});
      if (group != nullptr) sumGradients(*group, model->parameters(), figures);
      const double lossValue = figures.item<double>();
      if (!std::isfinite(lossValue))
        throw Error(std::string("the training loss is not finite (") + (std::isnan(lossValue) ? "NaN" : "infinite") +
                    ") in epoch " + std::to_string(epoch) +
                    (control.checkpoint.empty()
                         ? std::string("; try a smaller learning rate")
                         : "; the checkpoint " + control.checkpoint.string() + " keeps epoch " +
                               std::to_string(state.epoch) + "; try a smaller learning rate"));
      optimizer.step();
      lossSum += lossValue;
      ++batches;
    }

    const torch::Tensor validationPredictions = predictNormalized(model, validationImages, job).cpu();
    NeuralEpochReport report;
    report.epoch = epoch;
    report.trainLoss = batches > 0 ? lossSum / static_cast<double>(batches) : 0.0;
    report.validationCorrelation = meanCorrelation(validationPredictions, validationResponses);
    report.learningRate = state.learningRate;
    report.improved = report.validationCorrelation > result.bestValidationCorrelation + trainerConfig.tolerance;
    report.seconds = elapsed();
    if (report.improved) {
      result.bestValidationCorrelation = report.validationCorrelation;
      result.bestEpoch = epoch;
      best = snapshotModule(*model);
      state.epochsWithoutImprovement = 0;
    } else {
      ++state.epochsWithoutImprovement;
    }
    result.history.push_back(report);
    state.epoch = epoch;

    if (state.epochsWithoutImprovement >= trainerConfig.patience) {
      if (state.decays >= trainerConfig.learningRateDecays) {
        state.finished = true;
        state.stopReason = "early stopping";
      } else {
        // A plateau: go back to the best weights and take smaller steps from there.
        restoreModule(*model, best);
        state.learningRate *= trainerConfig.learningRateFactor;
        for (auto& group : optimizer.param_groups())
          static_cast<torch::optim::AdamOptions&>(group.options()).lr(state.learningRate);
        ++state.decays;
        state.epochsWithoutImprovement = 0;
      }
    }
    // Stop when another epoch as long as this one would overrun the budget, so that a fit given
    // 20 minutes ends within 20 minutes rather than one epoch after.
    const double epochSeconds = report.seconds - (result.history.size() > 1 ? result.history[result.history.size() - 2].seconds : secondsBefore);
    if (!state.finished) {
      // Every rank of a group stops where any one would: their clocks and requests differ.
      torch::Tensor stops = torch::tensor(
          {trainerConfig.maxSeconds > 0.0 && elapsed() + epochSeconds > trainerConfig.maxSeconds ? 1.0 : 0.0,
           control.stopRequested && control.stopRequested() ? 1.0 : 0.0},
          torch::kDouble);
      if (group != nullptr) group->allReduceSum({stops});
      if (stops[0].item<double>() > 0.0) {
        state.finished = true;
        state.stopReason = "time limit";
      } else if (stops[1].item<double>() > 0.0) {
        state.finished = true;
        state.stopReason = "stopped";
      }
    }
    state.seconds = elapsed();
    if (!control.checkpoint.empty() && (group == nullptr || group->leads()))
      writeCheckpoint(control.checkpoint, identity, model, best, optimizer, state, result);
    if (onEpoch) onEpoch(report);
    job.progress(static_cast<double>(epoch) / trainerConfig.maxEpochs,
                 "epoch " + std::to_string(epoch) + ": loss " + std::to_string(report.trainLoss) +
                     ", validation correlation " + std::to_string(report.validationCorrelation));
  }
  result.stopReason = state.finished ? state.stopReason : "max epochs";
  restoreModule(*model, best);
  model->to(torch::kCPU);
  model->eval();
  result.seconds = elapsed();
  job.progress(1.0, "fitted: best validation correlation " + std::to_string(result.bestValidationCorrelation) +
                        " at epoch " + std::to_string(result.bestEpoch));
  return result;
}

std::vector<float> predictResponses(const FittedNeuralModel& fitted, const float* images, std::int64_t count,
                                    const Job& job) {
  NeuralModel model = fitted.model;
  const NeuralModelConfig& config = model->config();
  std::vector<float> pixels(images, images + count * config.inputChannels * config.inputHeight * config.inputWidth);
  torch::Tensor input =
      torch::from_blob(pixels.data(), {count, config.inputChannels, config.inputHeight, config.inputWidth});
  normalizeImages(input, fitted.normalization);
  const torch::Tensor rates =
      (predictNormalized(model, input, job) * torch::tensor(fitted.normalization.responseScale).unsqueeze(0))
          .contiguous();
  return std::vector<float>(rates.data_ptr<float>(), rates.data_ptr<float>() + rates.numel());
}

std::vector<float> predictResponses(const FittedNeuralModel& fitted, const NeuralDataset& dataset, const Job& job) {
  const NeuralModelConfig& config = fitted.model->config();
  if (dataset.channels != config.inputChannels || dataset.height != config.inputHeight ||
      dataset.width != config.inputWidth || dataset.neuronCount != config.neuronCount)
    throw Error("dataset '" + dataset.name + "' has " + std::to_string(dataset.channels) + "x" +
                std::to_string(dataset.height) + "x" + std::to_string(dataset.width) + " images and " +
                std::to_string(dataset.neuronCount) + " neurons; the model expects " +
                std::to_string(config.inputChannels) + "x" + std::to_string(config.inputHeight) + "x" +
                std::to_string(config.inputWidth) + " and " + std::to_string(config.neuronCount));
  return predictResponses(fitted, dataset.images.data(), dataset.trialCount(), job);
}

void saveNeuralModel(const FittedNeuralModel& fitted, const std::filesystem::path& path) {
  const nlohmann::json description = {{"format", kNeuralModelFormat},
                                      {"version", kNeuralModelVersion},
                                      {"model", toJson(fitted.model->config())},
                                      {"normalization", toJson(fitted.normalization)}};
  torch::serialize::OutputArchive archive;
  fitted.model->save(archive);
  // The config travels inside the archive, so weights and the shapes they need cannot diverge.
  archive.write(kConfigKey, c10::IValue(description.dump()));
  writeArchiveFile(path, archive);
  writeFileAtomically(path.string() + ".json", description.dump(2) + "\n");
}

FittedNeuralModel loadNeuralModel(const std::filesystem::path& path) {
  torch::serialize::InputArchive archive;
  readArchiveFile(path, archive);
  FittedNeuralModel fitted;
  try {
    c10::IValue stored;
    archive.read(kConfigKey, stored);
    const nlohmann::json description = nlohmann::json::parse(stored.toStringRef());
    if (!description.is_object() || description.value("format", std::string()) != kNeuralModelFormat)
      throw FileError(path.string(), "not a BrainPrior neural model (its \"format\" is not \"" +
                                         std::string(kNeuralModelFormat) + "\")");
    if (description.value("version", 0) != kNeuralModelVersion)
      throw FileError(path.string(), "a neural model of version " + description.value("version", nlohmann::json()).dump() +
                                         ", which this BrainPrior does not read (it reads version " +
                                         std::to_string(kNeuralModelVersion) + ")");
    fitted.model = NeuralModel(neuralModelConfigFromJson(description.at("model")));
    fitted.normalization = neuralNormalizationFromJson(description.at("normalization"));
    checkNormalization(fitted.normalization, fitted.model->config());
  } catch (const c10::Error& error) {
    throw FileError(path.string(), std::string("not a BrainPrior neural model: ") + error.what_without_backtrace());
  } catch (const nlohmann::json::exception& error) {
    throw FileError(path.string(), std::string("corrupt model description: ") + error.what());
  } catch (const FileError&) {
    throw;
  } catch (const Error& error) {
    throw FileError(path.string(), error.what());
  } catch (const std::exception& error) {
    // A description with an index or size out of range (std::out_of_range and the like).
    throw FileError(path.string(), std::string("corrupt model description: ") + error.what());
  }
  loadModuleChecked(*fitted.model, archive, path);
  fitted.model->eval();
  return fitted;
}

NeuralModelEvaluation evaluateNeuralModel(const FittedNeuralModel& fitted, const NeuralDataset& dataset, Tier tier,
                                          const Job& job) {
  return evaluatePredictions(dataset, predictResponses(fitted, dataset, job), tier);
}

NeuralFitSettings defaultNeuralFitSettings(const NeuralDataset& dataset, CoreKind core) {
  constexpr std::int64_t kLargeRecordingNeurons = 1000;
  NeuralFitSettings settings{defaultNeuralModelConfig(core), {}};
  if (dataset.neuronCount >= kLargeRecordingNeurons) {
    settings.trainer.maxSeconds = 20 * 60;
  } else {
    settings.model.kernelSizes.resize(3);
    settings.model.channels.assign(3, core == CoreKind::RotationEquivariant ? 4 : 16);
    settings.trainer.maxSeconds = 3 * 60;
  }
  const int smallestSide = std::min(dataset.height, dataset.width);
  if (settings.model.kernelSizes.front() > smallestSide / 2)
    settings.model.kernelSizes.front() = std::max(3, (smallestSide / 2) | 1);
  return settings;
}

}  // namespace bp
