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
#include "runtime/log.h"
#include "runtime/random.h"
#include "runtime/runtime.h"
#include "runtime/torch_archive.h"
#include "training/training_checkpoint.h"

namespace bp {

namespace {

constexpr std::int64_t kPredictionBatch = 256;
constexpr const char* kConfigKey = "brainprior_neural_model";
constexpr const char* kNeuralModelFormat = "brainprior neural model";
constexpr int kNeuralModelVersion = 1;   // one recording
constexpr int kNeuralCorpusVersion = 2;  // several recordings sharing a core

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
  if (config.shifter && (normalization.pupilMean.size() != 2 || normalization.pupilStd.size() != 2 ||
                         !positiveAndFinite(normalization.pupilStd)))
    throw Error("a model with a shifter needs the normalisation's 'pupil_mean' and a positive 'pupil_std' (2 each)");
  if (config.modulator && (normalization.behaviorMean.size() != 3 || normalization.behaviorStd.size() != 3 ||
                           !positiveAndFinite(normalization.behaviorStd)))
    throw Error("a model with a modulator needs the normalisation's 'behavior_mean' and a positive 'behavior_std' (3 each)");
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

// The rows `rows` of a trial state (its tensors sliced alike; undefined ones stay undefined).
TrialState stateRows(const TrialState& state, const torch::Tensor& rows) {
  return {state.pupilCenter.defined() ? state.pupilCenter.index_select(0, rows) : torch::Tensor(),
          state.behavior.defined() ? state.behavior.index_select(0, rows) : torch::Tensor()};
}

// z-scored rows `trials` of a per-trial matrix with `width` columns, or undefined without data.
torch::Tensor zScoredRows(const std::vector<float>& values, std::int64_t width, const std::vector<std::int64_t>& trials,
                          const std::vector<float>& mean, const std::vector<float>& deviation) {
  if (values.empty() || mean.empty()) return {};
  torch::Tensor rows = gatherRows(values, width, trials, {width});
  return (rows - torch::tensor(mean).unsqueeze(0)) / torch::tensor(deviation).unsqueeze(0);
}

// What the model's shifter and modulator see of `trials`: undefined for what it does not use.
// bp::Error when the model uses what the dataset lacks and `required`.
TrialState trialStateOf(const NeuralDataset& dataset, const std::vector<std::int64_t>& trials,
                        const NeuralNormalization& normalization, const NeuralModelConfig& config, bool required) {
  if (required && config.shifter && !dataset.hasPupilCenter())
    throw Error("dataset '" + dataset.name + "' has no pupil_center for the shifter");
  if (required && config.modulator && !dataset.hasBehavior())
    throw Error("dataset '" + dataset.name + "' has no behavior for the modulator");
  TrialState state;
  if (config.shifter)
    state.pupilCenter = zScoredRows(dataset.pupilCenter, 2, trials, normalization.pupilMean, normalization.pupilStd);
  if (config.modulator)
    state.behavior = zScoredRows(dataset.behavior, 3, trials, normalization.behaviorMean, normalization.behaviorStd);
  return state;
}

TrialState onDevice(const TrialState& state, const torch::Device& device) {
  return {state.pupilCenter.defined() ? state.pupilCenter.to(device) : torch::Tensor(),
          state.behavior.defined() ? state.behavior.to(device) : torch::Tensor()};
}

// Model rates for normalised images, batch by batch, in evaluation mode and without gradients;
// `state` (null: the mean eye and behaviour) has a row per image.
torch::Tensor predictNormalized(NeuralModel& model, const torch::Tensor& images, const TrialState* state,
                                const Job& job) {
  torch::NoGradGuard noGrad;
  const bool wasTraining = model->is_training();
  model->eval();
  std::vector<torch::Tensor> batches;
  const auto count = images.size(0);
  for (std::int64_t begin = 0; begin < count; begin += kPredictionBatch) {
    job.throwIfCancelled();
    const std::int64_t end = std::min(count, begin + kPredictionBatch);
    const TrialState rows =
        state ? stateRows(*state, torch::arange(begin, end, torch::TensorOptions(torch::kLong).device(images.device())))
              : TrialState();
    batches.push_back(model->forward(images.slice(0, begin, end), state ? &rows : nullptr));
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

void writeCheckpoint(const std::filesystem::path& path, const nlohmann::json& identity,
                     const std::vector<CheckpointModule>& modules, const std::vector<torch::Tensor>& best, const torch::optim::Adam& optimizer,
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
  writeTrainingCheckpoint(path, kNeuralFitCheckpoint, identity, description, modules, optimizer, best);
}

void readCheckpoint(const std::filesystem::path& path, const nlohmann::json& identity,
                    const std::vector<CheckpointModule>& modules, std::vector<torch::Tensor>& best, torch::optim::Adam& optimizer, NeuralFitState& state,
                    NeuralFitResult& result) {
  const nlohmann::json description =
      readTrainingCheckpoint(path, kNeuralFitCheckpoint, identity, modules, optimizer, best);
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
  nlohmann::json json = {{"epoch", report.epoch},
                         {"train_loss", report.trainLoss},
                         {"validation_correlation", report.validationCorrelation},
                         {"learning_rate", report.learningRate},
                         {"improved", report.improved},
                         {"seconds", report.seconds}};
  if (!report.recordingCorrelations.empty()) json["recording_validation_correlations"] = report.recordingCorrelations;
  return json;
}

NeuralEpochReport neuralEpochReportFromJson(const nlohmann::json& json) {
  NeuralEpochReport report;
  report.epoch = json.at("epoch").get<int>();
  report.trainLoss = json.at("train_loss").get<double>();
  report.validationCorrelation = json.at("validation_correlation").get<double>();
  report.learningRate = json.at("learning_rate").get<double>();
  report.improved = json.at("improved").get<bool>();
  report.seconds = json.at("seconds").get<double>();
  if (json.contains("recording_validation_correlations"))
    report.recordingCorrelations = json.at("recording_validation_correlations").get<std::vector<double>>();
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
  nlohmann::json json = {{"image_mean", normalization.imageMean},
                         {"image_std", normalization.imageStd},
                         {"response_scale", normalization.responseScale},
                         {"pixel_range", normalization.pixelRange}};
  if (!normalization.pupilMean.empty()) {
    json["pupil_mean"] = normalization.pupilMean;
    json["pupil_std"] = normalization.pupilStd;
  }
  if (!normalization.behaviorMean.empty()) {
    json["behavior_mean"] = normalization.behaviorMean;
    json["behavior_std"] = normalization.behaviorStd;
  }
  return json;
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
  if (json.contains("pupil_mean")) {
    normalization.pupilMean = floatVector(json, "pupil_mean");
    normalization.pupilStd = floatVector(json, "pupil_std");
  }
  if (json.contains("behavior_mean")) {
    normalization.behaviorMean = floatVector(json, "behavior_mean");
    normalization.behaviorStd = floatVector(json, "behavior_std");
  }
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
  // The eye's and the animal's state on the train tier, for a shifter or modulator.
  const auto describeColumns = [&](const std::vector<float>& values, std::int64_t width, std::vector<float>& mean,
                                   std::vector<float>& deviation) {
    if (values.empty()) return;
    mean.assign(static_cast<std::size_t>(width), 0.0f);
    deviation.assign(static_cast<std::size_t>(width), 1.0f);
    for (std::int64_t column = 0; column < width; ++column) {
      double sum = 0.0;
      double squares = 0.0;
      for (const std::int64_t t : train) {
        const double value = values[static_cast<std::size_t>(t * width + column)];
        sum += value;
        squares += value * value;
      }
      const double count = static_cast<double>(train.size());
      const double spread = std::sqrt(std::max(0.0, squares / count - (sum / count) * (sum / count)));
      mean[static_cast<std::size_t>(column)] = static_cast<float>(sum / count);
      if (spread > 0.0) deviation[static_cast<std::size_t>(column)] = static_cast<float>(spread);
    }
  };
  describeColumns(dataset.pupilCenter, 2, normalization.pupilMean, normalization.pupilStd);
  describeColumns(dataset.behavior, 3, normalization.behaviorMean, normalization.behaviorStd);
  return normalization;
}

torch::Tensor poissonLoss(const torch::Tensor& prediction, const torch::Tensor& target) {
  return (prediction - target * (prediction + 1e-8).log()).sum(1).mean();
}

namespace {

// One recording's part of a fit: its trials as tensors, in model units.
struct FitRecording {
  std::vector<std::int64_t> train;
  std::vector<std::int64_t> validation;
  torch::Tensor trainImages;
  torch::Tensor trainTargets;
  torch::Tensor validationImages;
  torch::Tensor validationResponses;  // original units, on the CPU
  TrialState trainState;               // z-scored eye and behaviour, for a shifter or modulator
  TrialState validationState;
};

void checkFitInputs(const NeuralDataset& dataset) {
  dataset.validate();
  if (dataset.trialsOf(Tier::Train).empty() || dataset.trialsOf(Tier::Validation).empty())
    throw Error("dataset '" + dataset.name + "' needs train and validation trials to fit a model");
  // One missing value would turn every loss into NaN epochs later; name it now.
  for (std::int64_t t = 0; t < dataset.trialCount(); ++t)
    for (std::int64_t n = 0; n < dataset.neuronCount; ++n)
      if (!std::isfinite(dataset.response(t)[n]))
        throw Error("dataset '" + dataset.name + "': the response of neuron " + std::to_string(n) + " in trial " +
                    std::to_string(dataset.trialIds[static_cast<std::size_t>(t)]) +
                    " is not a finite number; a model cannot be fitted to it");
}

// Every model's parameters and buffers, model after model (a shared core appears once per model).
std::vector<torch::Tensor> snapshotModels(const std::vector<NeuralModel>& models) {
  std::vector<torch::Tensor> state;
  for (const auto& model : models) {
    auto part = snapshotModule(*model);
    state.insert(state.end(), part.begin(), part.end());
  }
  return state;
}

void restoreModels(std::vector<NeuralModel>& models, const std::vector<torch::Tensor>& state) {
  std::size_t offset = 0;
  for (auto& model : models) {
    const std::size_t count = model->parameters().size() + model->buffers().size();
    restoreModule(*model, std::vector<torch::Tensor>(state.begin() + static_cast<std::ptrdiff_t>(offset),
                                                     state.begin() + static_cast<std::ptrdiff_t>(offset + count)));
    offset += count;
  }
}

// The epoch's steps as (recording, first trial of the batch in its shuffled order): each
// recording's batches spread evenly over the epoch, so every recording is seen all the way through
// (neuralpredictors' LongCycler cycles the sessions the same way). One recording: its batches in order.
std::vector<std::pair<std::size_t, std::int64_t>> interleavedSteps(const std::vector<std::int64_t>& trainCounts,
                                                                   std::int64_t batchSize) {
  std::vector<std::tuple<double, std::size_t, std::int64_t>> keyed;
  for (std::size_t r = 0; r < trainCounts.size(); ++r) {
    const std::int64_t batches = (trainCounts[r] + batchSize - 1) / batchSize;
    for (std::int64_t b = 0; b < batches; ++b)
      keyed.emplace_back((static_cast<double>(b) + 0.5) / static_cast<double>(batches), r, b * batchSize);
  }
  std::stable_sort(keyed.begin(), keyed.end());
  std::vector<std::pair<std::size_t, std::int64_t>> steps;
  for (const auto& [key, recording, begin] : keyed) steps.emplace_back(recording, begin);
  return steps;
}

}  // namespace

NeuralFitResult fitNeuralModel(const NeuralDataset& dataset, const NeuralModelConfig& modelConfig,
                               const NeuralTrainerConfig& trainerConfig, const Job& job,
                               const NeuralEpochCallback& onEpoch, const NeuralFitControl& control) {
  return fitNeuralModel(std::vector<const NeuralDataset*>{&dataset}, modelConfig, trainerConfig, job, onEpoch, control);
}

NeuralFitResult fitNeuralModel(const std::vector<const NeuralDataset*>& datasets, const NeuralModelConfig& modelConfig,
                               const NeuralTrainerConfig& trainerConfig, const Job& job,
                               const NeuralEpochCallback& onEpoch, const NeuralFitControl& control) {
  if (datasets.empty()) throw Error("a fit needs at least one recording");
  if (trainerConfig.batchSize < 1 || trainerConfig.maxEpochs < 1 || trainerConfig.patience < 1 ||
      !(trainerConfig.learningRate > 0.0) || trainerConfig.learningRateDecays < 0 ||
      !(trainerConfig.learningRateFactor > 0.0 && trainerConfig.learningRateFactor < 1.0))
    throw Error(
        "neural trainer config: batch size, epochs, patience and learning rate must be positive and "
        "the learning-rate factor in (0, 1)");
  const NeuralDataset& first = *datasets.front();
  for (const NeuralDataset* dataset : datasets) {
    checkFitInputs(*dataset);
    if (dataset->channels != first.channels || dataset->height != first.height || dataset->width != first.width)
      throw Error("recording '" + dataset->name + "' has " + std::to_string(dataset->channels) + "x" +
                  std::to_string(dataset->height) + "x" + std::to_string(dataset->width) + " images, '" + first.name +
                  "' " + std::to_string(first.channels) + "x" + std::to_string(first.height) + "x" +
                  std::to_string(first.width) + ": one core needs one input size (bringToOneImageSize)");
  }

  DataParallelGroup* group = control.group;
  const int ranks = group ? group->size() : 1;
  if (group != nullptr) {
    for (const NeuralDataset* dataset : datasets) {
      const auto trainCount = static_cast<std::int64_t>(dataset->trialsOf(Tier::Train).size());
      const std::int64_t last = trainCount % trainerConfig.batchSize;
      if (trainerConfig.batchSize < ranks || (last >= 2 && last < ranks))
        throw Error("data-parallel fit: every one of the " + std::to_string(ranks) +
                    " workers needs a share of every batch: choose a batch_size of at least " + std::to_string(ranks) +
                    " whose last batch of the " + std::to_string(trainCount) + " train trials of '" + dataset->name +
                    "' holds 0, 1 or at least " + std::to_string(ranks));
    }
  }
  // Batch norm sums over the group's ranks on this thread.
  const DataParallelScope dataParallel(group, /*synchronizeBatchNorm=*/true);
  // Grad mode is per thread; a caller's inference guard must not leak into training.
  torch::AutoGradMode gradMode(true);
  torch::manual_seed(trainerConfig.seed);
  const torch::Device device(runtimeInfo().device == "cuda" ? torch::kCUDA : torch::kCPU);

  NeuralFitResult result;
  result.device = device.is_cuda() ? "cuda" : "cpu";
  std::vector<NeuralModel> models;
  std::vector<FitRecording> recordings;
  std::vector<torch::Tensor> parameters;
  nlohmann::json corpus = nlohmann::json::array();
  const std::vector<std::int64_t> imageShape = {first.channels, first.height, first.width};
  for (const NeuralDataset* dataset : datasets) {
    NeuralModelConfig config = modelConfig;
    config.inputChannels = dataset->channels;
    config.inputHeight = dataset->height;
    config.inputWidth = dataset->width;
    config.neuronCount = dataset->neuronCount;
    FittedNeuralModel fitted{NeuralModel(config), computeNeuralNormalization(*dataset), dataset->name};
    if (!models.empty()) fitted.model->shareCore(*models.front());
    FitRecording recording;
    recording.train = dataset->trialsOf(Tier::Train);
    recording.validation = dataset->trialsOf(Tier::Validation);
    recording.trainImages = gatherRows(dataset->images, dataset->imageSize(), recording.train, imageShape);
    recording.validationImages = gatherRows(dataset->images, dataset->imageSize(), recording.validation, imageShape);
    normalizeImages(recording.trainImages, fitted.normalization);
    normalizeImages(recording.validationImages, fitted.normalization);
    const torch::Tensor responseScale = torch::tensor(fitted.normalization.responseScale).unsqueeze(0);
    const torch::Tensor trainResponses =
        gatherRows(dataset->responses, dataset->neuronCount, recording.train, {dataset->neuronCount}) / responseScale;
    recording.validationResponses =
        gatherRows(dataset->responses, dataset->neuronCount, recording.validation, {dataset->neuronCount});
    recording.trainState = onDevice(
        trialStateOf(*dataset, recording.train, fitted.normalization, fitted.model->config(), true), device);
    recording.validationState = onDevice(
        trialStateOf(*dataset, recording.validation, fitted.normalization, fitted.model->config(), true), device);
    fitted.model->initializeReadoutBias(trainResponses.mean(0));
    fitted.model->to(device);
    recording.trainImages = recording.trainImages.to(device);
    recording.validationImages = recording.validationImages.to(device);
    recording.trainTargets = trainResponses.to(device);
    // The first model brings the core; the others add their readouts.
    const auto own = models.empty() ? fitted.model->parameters() : fitted.model->recordingParameters();
    parameters.insert(parameters.end(), own.begin(), own.end());
    corpus.push_back({{"recording", dataset->name},
                      {"neurons", dataset->neuronCount},
                      {"train_trials", recording.train.size()},
                      {"validation_trials", recording.validation.size()}});
    models.push_back(fitted.model);
    result.fitted.push_back(std::move(fitted));
    recordings.push_back(std::move(recording));
  }

  torch::optim::Adam optimizer(parameters, torch::optim::AdamOptions(trainerConfig.learningRate));
  NeuralFitState state;
  state.learningRate = trainerConfig.learningRate;
  std::vector<torch::Tensor> best = snapshotModels(models);
  // What must match for a resumed fit to continue this one. The epoch and time budgets may grow.
  nlohmann::json trainerIdentity = toJson(trainerConfig);
  trainerIdentity.erase("max_epochs");
  trainerIdentity.erase("max_seconds");
  nlohmann::json identity = {{"model", toJson(models.front()->config())},
                             {"trainer", trainerIdentity},
                             {"train_trials", recordings.front().train.size()},
                             {"validation_trials", recordings.front().validation.size()}};
  if (datasets.size() > 1) identity["recordings"] = corpus;
  // A recording's model under "model", as a one-recording fit has always written; the others after it.
  std::vector<CheckpointModule> checkpointModules;
  for (std::size_t r = 0; r < models.size(); ++r)
    checkpointModules.push_back({r == 0 ? std::string("model") : "model" + std::to_string(r), models[r].get()});
  if (control.resume && !control.checkpoint.empty() && std::filesystem::exists(control.checkpoint)) {
    readCheckpoint(control.checkpoint, identity, checkpointModules, best, optimizer, state, result);
    result.resumedAfterEpoch = state.epoch;
    for (auto& group : optimizer.param_groups())
      static_cast<torch::optim::AdamOptions&>(group.options()).lr(state.learningRate);
    job.progress(static_cast<double>(state.epoch) / trainerConfig.maxEpochs,
                 "resumed after epoch " + std::to_string(state.epoch));
  }
  if (group != nullptr) {
    group->requireSameOnEveryRank("fit (model, trainer and data)", identity.dump());
    group->requireSameOnEveryRank("resumed epoch (every rank must see the checkpoint)", std::to_string(state.epoch));
    for (auto& model : models) {
      std::vector<torch::Tensor> weights = model->parameters();
      for (const auto& buffer : model->buffers()) weights.push_back(buffer);
      group->broadcastFromLeader(weights);
    }
  }

  const auto start = std::chrono::steady_clock::now();
  const double secondsBefore = state.seconds;
  auto elapsed = [&] {
    return secondsBefore + std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  std::vector<std::int64_t> trainCounts;
  for (const auto& recording : recordings) trainCounts.push_back(static_cast<std::int64_t>(recording.train.size()));
  const auto steps = interleavedSteps(trainCounts, trainerConfig.batchSize);

  while (!state.finished && state.epoch < trainerConfig.maxEpochs) {
    const int epoch = state.epoch + 1;
    // Per-epoch streams, so that a resumed fit draws what the uninterrupted one would have; one
    // shuffle per recording (the first recording's is a one-recording fit's).
    std::vector<torch::Tensor> permutations;
    for (std::size_t r = 0; r < recordings.size(); ++r) {
      RandomStream shuffler(trainerConfig.seed + 7919u * static_cast<std::uint64_t>(r), static_cast<std::uint64_t>(epoch));
      std::vector<std::int64_t> order(static_cast<std::size_t>(trainCounts[r]));
      std::iota(order.begin(), order.end(), std::int64_t{0});
      shuffler.shuffle(order);
      permutations.push_back(torch::tensor(order).to(device));
    }
    torch::manual_seed(trainerConfig.seed * 1000003u + static_cast<std::uint64_t>(epoch));
    for (auto& model : models) model->train();
    double lossSum = 0.0;
    std::int64_t batches = 0;
    for (const auto& [r, begin] : steps) {
      job.throwIfCancelled();
      NeuralModel& model = models[r];
      const FitRecording& recording = recordings[r];
      torch::Tensor indices = permutations[r].slice(0, begin, std::min(trainCounts[r], begin + trainerConfig.batchSize));
      // Batch norm cannot normalise a single image.
      if (indices.size(0) < 2) continue;
      // In a group each rank takes its share of the batch: its loss is its part of the batch's
      // (the mean over its share times the share), and rank 0 adds the weights' regularization.
      const std::int64_t batchCount = indices.size(0);
      const RowShare share = group ? rowShare(batchCount, group->rank(), ranks) : RowShare{0, batchCount};
      indices = indices.narrow(0, share.begin, share.end - share.begin);
      const StepRowsScope rows({batchCount, share.begin});
      // Gradients are cleared to none, not zero: Adam then leaves the readouts of the recordings this
      // step does not see where they are (a zero gradient would still move them by their momentum),
      // as PyTorch's zero_grad does since 2.0, and a resumed fit steps as the uninterrupted one.
      for (auto& parameter : parameters) parameter.mutable_grad() = torch::Tensor();
      const TrialState batchState = stateRows(recording.trainState, indices);
      torch::Tensor loss = poissonLoss(model->forward(recording.trainImages.index_select(0, indices), &batchState),
                                       recording.trainTargets.index_select(0, indices)) *
                           (static_cast<double>(share.end - share.begin) / static_cast<double>(batchCount));
      if (group == nullptr || group->leads()) loss = loss + model->regularization();
      loss.backward();
      const torch::Tensor figures = loss.detach().reshape({1});
      if (group != nullptr) sumGradients(*group, parameters, figures);
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

    // Early stopping follows the recordings' mean validation correlation.
    NeuralEpochReport report;
    for (std::size_t r = 0; r < recordings.size(); ++r) {
      const torch::Tensor predictions =
          predictNormalized(models[r], recordings[r].validationImages, &recordings[r].validationState, job).cpu();
      report.recordingCorrelations.push_back(meanCorrelation(predictions, recordings[r].validationResponses));
    }
    report.epoch = epoch;
    report.trainLoss = batches > 0 ? lossSum / static_cast<double>(batches) : 0.0;
    report.validationCorrelation = meanOfDefined(report.recordingCorrelations);
    if (recordings.size() == 1) report.recordingCorrelations.clear();
    report.learningRate = state.learningRate;
    report.improved = report.validationCorrelation > result.bestValidationCorrelation + trainerConfig.tolerance;
    report.seconds = elapsed();
    if (report.improved) {
      result.bestValidationCorrelation = report.validationCorrelation;
      result.bestEpoch = epoch;
      best = snapshotModels(models);
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
        restoreModels(models, best);
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
      writeCheckpoint(control.checkpoint, identity, checkpointModules, best, optimizer, state, result);
    if (onEpoch) onEpoch(report);
    job.progress(static_cast<double>(epoch) / trainerConfig.maxEpochs,
                 "epoch " + std::to_string(epoch) + ": loss " + std::to_string(report.trainLoss) +
                     ", validation correlation " + std::to_string(report.validationCorrelation));
  }
  result.stopReason = state.finished ? state.stopReason : "max epochs";
  restoreModels(models, best);
  for (auto& model : models) {
    model->to(torch::kCPU);
    model->eval();
  }
  result.seconds = elapsed();
  job.progress(1.0, "fitted: best validation correlation " + std::to_string(result.bestValidationCorrelation) +
                        " at epoch " + std::to_string(result.bestEpoch));
  return result;
}

namespace {

std::vector<float> predictRates(const FittedNeuralModel& fitted, const float* images, std::int64_t count,
                                const TrialState* state, const Job& job) {
  NeuralModel model = fitted.model;
  const NeuralModelConfig& config = model->config();
  std::vector<float> pixels(images, images + count * config.inputChannels * config.inputHeight * config.inputWidth);
  torch::Tensor input =
      torch::from_blob(pixels.data(), {count, config.inputChannels, config.inputHeight, config.inputWidth});
  normalizeImages(input, fitted.normalization);
  const torch::Tensor rates =
      (predictNormalized(model, input, state, job) * torch::tensor(fitted.normalization.responseScale).unsqueeze(0))
          .contiguous();
  return std::vector<float>(rates.data_ptr<float>(), rates.data_ptr<float>() + rates.numel());
}

}  // namespace

std::vector<float> predictResponses(const FittedNeuralModel& fitted, const float* images, std::int64_t count,
                                    const Job& job) {
  return predictRates(fitted, images, count, nullptr, job);
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
  if (!config.shifter && !config.modulator)
    return predictRates(fitted, dataset.images.data(), dataset.trialCount(), nullptr, job);
  if ((config.shifter && !dataset.hasPupilCenter()) || (config.modulator && !dataset.hasBehavior()))
    logWarning("dataset '" + dataset.name + "' lacks the eye or behaviour the model's shifter or modulator reads: "
               "predicted for the mean eye and behaviour");
  std::vector<std::int64_t> trials(static_cast<std::size_t>(dataset.trialCount()));
  std::iota(trials.begin(), trials.end(), std::int64_t{0});
  const TrialState state = trialStateOf(dataset, trials, fitted.normalization, config, false);
  return predictRates(fitted, dataset.images.data(), dataset.trialCount(), &state, job);
}

namespace {

// The model file's description of one recording's model.
nlohmann::json describeRecording(const FittedNeuralModel& fitted) {
  return {{"model", toJson(fitted.model->config())}, {"normalization", toJson(fitted.normalization)}};
}

// A recording's model from its description, its weights not yet loaded.
FittedNeuralModel recordingFromDescription(const nlohmann::json& description) {
  FittedNeuralModel fitted;
  fitted.model = NeuralModel(neuralModelConfigFromJson(description.at("model")));
  fitted.normalization = neuralNormalizationFromJson(description.at("normalization"));
  fitted.recording = description.value("recording", std::string());
  checkNormalization(fitted.normalization, fitted.model->config());
  return fitted;
}

// Reads the description and builds the models; `load` fills in their weights. Every problem is a
// FileError naming the file.
std::vector<FittedNeuralModel> readNeuralModels(const std::filesystem::path& path) {
  torch::serialize::InputArchive archive;
  readArchiveFile(path, archive);
  std::vector<FittedNeuralModel> recordings;
  try {
    c10::IValue stored;
    archive.read(kConfigKey, stored);
    const nlohmann::json description = nlohmann::json::parse(stored.toStringRef());
    if (!description.is_object() || description.value("format", std::string()) != kNeuralModelFormat)
      throw FileError(path.string(), "not a BrainPrior neural model (its \"format\" is not \"" +
                                         std::string(kNeuralModelFormat) + "\")");
    const int version = description.value("version", 0);
    if (version == kNeuralModelVersion) {
      recordings.push_back(recordingFromDescription(description));
      loadModuleChecked(*recordings.back().model, archive, path);
    } else if (version == kNeuralCorpusVersion) {
      const auto& described = description.at("recordings");
      if (!described.is_array() || described.empty())
        throw FileError(path.string(), "a model of several recordings that lists none");
      for (std::size_t r = 0; r < described.size(); ++r) {
        recordings.push_back(recordingFromDescription(described.at(r)));
        if (r > 0) recordings.back().model->shareCore(*recordings.front().model);
        torch::serialize::InputArchive part;
        archive.read("recording" + std::to_string(r), part);
        loadModuleChecked(*recordings.back().model, part, path);
      }
    } else {
      throw FileError(path.string(), "a neural model of version " + description.value("version", nlohmann::json()).dump() +
                                         ", which this BrainPrior does not read (it reads versions " +
                                         std::to_string(kNeuralModelVersion) + " and " +
                                         std::to_string(kNeuralCorpusVersion) + ")");
    }
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
  for (auto& fitted : recordings) fitted.model->eval();
  return recordings;
}

}  // namespace

void saveNeuralModel(const FittedNeuralModel& fitted, const std::filesystem::path& path) {
  nlohmann::json description = describeRecording(fitted);
  description["format"] = kNeuralModelFormat;
  description["version"] = kNeuralModelVersion;
  torch::serialize::OutputArchive archive;
  fitted.model->save(archive);
  // The config travels inside the archive, so weights and the shapes they need cannot diverge.
  archive.write(kConfigKey, c10::IValue(description.dump()));
  writeArchiveFile(path, archive);
  writeFileAtomically(path.string() + ".json", description.dump(2) + "\n");
}

void saveNeuralModels(const std::vector<FittedNeuralModel>& recordings, const std::filesystem::path& path) {
  if (recordings.size() == 1) return saveNeuralModel(recordings.front(), path);
  if (recordings.empty()) throw Error("no model to save");
  nlohmann::json described = nlohmann::json::array();
  torch::serialize::OutputArchive archive;
  for (std::size_t r = 0; r < recordings.size(); ++r) {
    nlohmann::json description = describeRecording(recordings[r]);
    description["recording"] = recordings[r].recording;
    described.push_back(description);
    // Each recording's whole model (its copy of the shared core too): every part loads on its own.
    torch::serialize::OutputArchive part;
    recordings[r].model->save(part);
    archive.write("recording" + std::to_string(r), part);
  }
  const nlohmann::json description = {
      {"format", kNeuralModelFormat}, {"version", kNeuralCorpusVersion}, {"recordings", described}};
  archive.write(kConfigKey, c10::IValue(description.dump()));
  writeArchiveFile(path, archive);
  writeFileAtomically(path.string() + ".json", description.dump(2) + "\n");
}

FittedNeuralModel loadNeuralModel(const std::filesystem::path& path) {
  std::vector<FittedNeuralModel> recordings = readNeuralModels(path);
  if (recordings.size() != 1) {
    std::string names;
    for (const auto& fitted : recordings) names += (names.empty() ? "" : ", ") + fitted.recording;
    throw FileError(path.string(), "holds a model of " + std::to_string(recordings.size()) + " recordings (" + names +
                                       "), where one recording's model is needed; evaluate and target read such a model with one dataset per "
                                       "recording, in that order");
  }
  return std::move(recordings.front());
}

std::vector<FittedNeuralModel> loadNeuralModels(const std::filesystem::path& path) { return readNeuralModels(path); }

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
