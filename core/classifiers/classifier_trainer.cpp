#include "classifiers/classifier_trainer.h"

#include <ATen/ATen.h>
#include <torch/nn/functional/loss.h>
#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>
#include <torch/optim/sgd.h>
#include <torch/serialize.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>
#include <torch/utils.h>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <numeric>
#include <sstream>

#include "classifiers/harmonization.h"
#include "data/dataset_io.h"
#include "runtime/atomic_file.h"
#include "runtime/config_reader.h"
#include "runtime/error.h"
#include "runtime/random.h"
#include "runtime/runtime.h"
#include "training/training_checkpoint.h"

namespace bp {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr const char* kCheckpointFormat = "brainprior classifier checkpoint";
constexpr const char* kModelFormat = "brainprior classifier";
constexpr const char* kModelKey = "brainprior_classifier";

// Random streams of one run: each epoch draws its own, so a resumed run repeats an uninterrupted one.
constexpr std::uint64_t kShuffleStream = 0;
constexpr std::uint64_t kAugmentationStream = 1ULL << 32;
constexpr std::uint64_t kPairStream = 2ULL << 32;
// Streams of the data split (seeded by data.split_seed).
constexpr std::uint64_t kTrainSubsetStream = 0x5355425452ULL;
constexpr std::uint64_t kTestSubsetStream = 0x5355425445ULL;
constexpr std::uint64_t kValidationStream = 0x56414C4944ULL;


const char* optimizerKindName(OptimizerKind kind) {
  switch (kind) {
    case OptimizerKind::Sgd:
      return "sgd";
    case OptimizerKind::Adam:
      return "adam";
    case OptimizerKind::AdamW:
      return "adamw";
  }
  return "sgd";
}

const char* scheduleKindName(ScheduleKind kind) {
  switch (kind) {
    case ScheduleKind::Constant:
      return "constant";
    case ScheduleKind::Step:
      return "step";
    case ScheduleKind::Cosine:
      return "cosine";
    case ScheduleKind::Cyclic:
      return "cyclic";
  }
  return "cyclic";
}

const char* normalizationName(NormalizationSource source) {
  return source == NormalizationSource::TrainImages ? "train_images" : "model";
}

const char* modelSelectionName(ModelSelection keep) {
  return keep == ModelSelection::BestValidation ? "best_validation" : "final";
}

// ---- data -------------------------------------------------------------------------------------

// Indices 0 .. available - 1, or a sorted random subset of `wanted` of them.
std::vector<std::int64_t> subsetIndices(std::int64_t available, std::int64_t wanted, bool random, std::uint64_t seed,
                                        std::uint64_t stream) {
  std::vector<std::int64_t> indices(static_cast<std::size_t>(available));
  std::iota(indices.begin(), indices.end(), std::int64_t{0});
  if (wanted <= 0 || wanted >= available) return indices;
  if (random) {
    RandomStream draw(seed, stream);
    draw.shuffle(indices);
  }
  indices.resize(static_cast<std::size_t>(wanted));
  std::sort(indices.begin(), indices.end());
  return indices;
}

torch::Tensor imagesTensor(const ImageDataset& dataset, const std::vector<std::int64_t>& indices) {
  torch::Tensor images =
      torch::empty({static_cast<std::int64_t>(indices.size()), dataset.channels, dataset.height, dataset.width});
  float* out = images.data_ptr<float>();
  const std::int64_t size = dataset.imageSize();
  for (std::size_t i = 0; i < indices.size(); ++i)
    std::copy_n(dataset.image(indices[i]), size, out + static_cast<std::int64_t>(i) * size);
  return images;
}

torch::Tensor labelsTensor(const ImageDataset& dataset, const std::vector<std::int64_t>& indices) {
  torch::Tensor labels = torch::empty({static_cast<std::int64_t>(indices.size())}, torch::kLong);
  auto* out = labels.data_ptr<std::int64_t>();
  for (std::size_t i = 0; i < indices.size(); ++i) out[i] = dataset.labels[static_cast<std::size_t>(indices[i])];
  return labels;
}

ImageDataset loadSplit(const ClassifierDataConfig& data, const std::string& path, const std::string& split,
                       std::int64_t maxImages, const Job& job) {
  ImageLoadOptions options;
  options.grayscale = data.grayscale;
  if (data.subset == "first") options.maxImages = maxImages;
  return loadImageDataset(path, options, split, job);
}

// ---- augmentation -----------------------------------------------------------------------------

// Random crop (zero padding) and horizontal flip, per image; `maps` (batch x H x W), when defined,
// get the same crop and flip as their images.
void augment(torch::Tensor& images, torch::Tensor& maps, const AugmentationConfig& config, RandomStream& random) {
  if (!config.enabled || (!config.randomCrop && !config.horizontalFlip)) return;
  const std::int64_t batch = images.size(0);
  const std::int64_t height = images.size(2);
  const std::int64_t width = images.size(3);
  const std::int64_t pad = config.randomCrop ? config.cropPadding : 0;
  const torch::Tensor padded = pad > 0 ? torch::constant_pad_nd(images, {pad, pad, pad, pad}) : images;
  const torch::Tensor paddedMaps =
      maps.defined() && pad > 0 ? torch::constant_pad_nd(maps, {pad, pad, pad, pad}) : maps;
  std::vector<torch::Tensor> out;
  std::vector<torch::Tensor> outMaps;
  for (std::int64_t i = 0; i < batch; ++i) {
    std::int64_t top = pad;
    std::int64_t left = pad;
    if (pad > 0) {
      top = static_cast<std::int64_t>(random.below(static_cast<std::uint64_t>(2 * pad + 1)));
      left = static_cast<std::int64_t>(random.below(static_cast<std::uint64_t>(2 * pad + 1)));
    }
    const bool flip = config.horizontalFlip && random.below(2) == 1;
    torch::Tensor image = padded[i].narrow(1, top, height).narrow(2, left, width);
    if (flip) image = image.flip({2});
    out.push_back(image);
    if (maps.defined()) {
      torch::Tensor map = paddedMaps[i].narrow(0, top, height).narrow(1, left, width);
      if (flip) map = map.flip({1});
      outMaps.push_back(map);
    }
  }
  images = torch::stack(out);
  if (maps.defined()) maps = torch::stack(outMaps);
}

// ---- optimizer --------------------------------------------------------------------------------

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

// ---- checkpoints ------------------------------------------------------------------------------

struct TrainingState {
  int epoch = 0;  // epochs completed
  double seconds = 0.0;
  int bestEpoch = 0;
  double bestValidationAccuracy = -1.0;
  std::vector<ClassifierEpochReport> history;
};

nlohmann::json describeState(const nlohmann::json& identity, const TrainingState& state) {
  nlohmann::json history = nlohmann::json::array();
  for (const auto& report : state.history) history.push_back(toJson(report));
  return {{"format", kCheckpointFormat},
          {"version", 1},
          {"identity", identity},
          {"epoch", state.epoch},
          {"seconds", state.seconds},
          {"best_epoch", state.bestEpoch},
          {"best_validation_accuracy", state.bestValidationAccuracy},
          {"history", history}};
}

void writeCheckpoint(const std::filesystem::path& path, const nlohmann::json& identity, const Classifier& model,
                     const SimilarityRegularizer& regularizer, const torch::optim::Optimizer& optimizer,
                     const std::vector<torch::Tensor>& best, const TrainingState& state) {
  const std::string description = describeState(identity, state).dump();
  writeAtomically(path, [&](const std::filesystem::path& temporary) {
    torch::serialize::OutputArchive archive;
    torch::serialize::OutputArchive modelArchive;
    model->save(modelArchive);
    archive.write("model", modelArchive);
    if (regularizer) {
      torch::serialize::OutputArchive regularizerArchive;
      regularizer->save(regularizerArchive);
      archive.write("regularizer", regularizerArchive);
    }
    torch::serialize::OutputArchive optimizerArchive;
    optimizer.save(optimizerArchive);
    archive.write("optimizer", optimizerArchive);
    writeTensorList(archive, "best", best);
    archive.write("state", c10::IValue(description));
    archive.save_to(temporary.string());
  });
}

nlohmann::json readDescription(torch::serialize::InputArchive& archive, const std::filesystem::path& path) {
  c10::IValue stored;
  archive.read("state", stored);
  nlohmann::json description = nlohmann::json::parse(stored.toStringRef());
  if (description.at("format") != kCheckpointFormat)
    throw FileError(path.string(), "not a BrainPrior classifier checkpoint");
  return description;
}

void readState(const nlohmann::json& description, TrainingState& state) {
  state.epoch = description.at("epoch").get<int>();
  state.seconds = description.at("seconds").get<double>();
  state.bestEpoch = description.at("best_epoch").get<int>();
  state.bestValidationAccuracy = description.at("best_validation_accuracy").get<double>();
  state.history.clear();
  for (const auto& report : description.at("history")) state.history.push_back(classifierEpochReportFromJson(report));
}

// What must match for a resumed run to continue this one. The epoch count may grow (except for a
// cosine schedule, whose rates depend on it); seeds and name only name runs.
nlohmann::json configIdentity(const ClassifierTrainingConfig& config) {
  nlohmann::json identity = toJson(config);
  if (config.schedule.kind != ScheduleKind::Cosine) identity.erase("epochs");
  identity.erase("seeds");
  identity.erase("name");
  return identity;
}

// "the checkpoint belongs to a different run (/config/regularizer/alpha differs) ...", naming at
// most three differing settings as JSON pointers.
std::string mismatch(const nlohmann::json& stored, const nlohmann::json& wanted) {
  const std::string paths = differingSettings(stored, wanted);
  return "the checkpoint belongs to a different run (" + paths +
         (paths.find(',') == std::string::npos ? " differs" : " differ") +
         "; only epochs, seeds and name may change, and epochs not with a cosine schedule); delete it "
         "or train without resuming";
}

void readCheckpoint(const std::filesystem::path& path, const nlohmann::json& identity, Classifier& model,
                    SimilarityRegularizer& regularizer, torch::optim::Optimizer& optimizer,
                    std::vector<torch::Tensor>& best, TrainingState& state) {
  const torch::Device device = model->parameters().front().device();
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path.string(), device);
    const nlohmann::json description = readDescription(archive, path);
    if (description.at("identity") != identity)
      throw FileError(path.string(), mismatch(description.at("identity"), identity));
    torch::serialize::InputArchive modelArchive;
    archive.read("model", modelArchive);
    model->load(modelArchive);
    if (regularizer) {
      torch::serialize::InputArchive regularizerArchive;
      archive.read("regularizer", regularizerArchive);
      regularizer->load(regularizerArchive);
    }
    torch::serialize::InputArchive optimizerArchive;
    archive.read("optimizer", optimizerArchive);
    optimizer.load(optimizerArchive);
    readTensorList(archive, "best", best);
    readState(description, state);
  } catch (const c10::Error& error) {
    throw FileError(path.string(), std::string("unreadable checkpoint: ") + error.what_without_backtrace());
  } catch (const nlohmann::json::exception& error) {
    throw FileError(path.string(), std::string("corrupt checkpoint description: ") + error.what());
  }
}

std::string formatValue(double value, int precision = 4) {
  if (!std::isfinite(value)) return std::isnan(value) ? "nan" : (value > 0 ? "inf" : "-inf");
  std::ostringstream text;
  text.precision(precision);
  text << value;
  return text.str();
}

}  // namespace

// ---- configuration ------------------------------------------------------------------------------

double learningRateAt(double baseLearningRate, const LearningRateSchedule& schedule, int epoch, int epochs) {
  const int index = std::max(epoch, 1) - 1;
  switch (schedule.kind) {
    case ScheduleKind::Constant:
      return baseLearningRate;
    case ScheduleKind::Step:
      return baseLearningRate * std::pow(schedule.factor, index / std::max(schedule.stepEpochs, 1));
    case ScheduleKind::Cosine: {
      const double progress = static_cast<double>(index) / static_cast<double>(std::max(epochs, 1));
      return schedule.minimumLearningRate +
             (baseLearningRate - schedule.minimumLearningRate) * 0.5 * (1.0 + std::cos(std::acos(-1.0) * progress));
    }
    case ScheduleKind::Cyclic:
      return baseLearningRate *
             std::pow(schedule.factor, (index % std::max(schedule.cycleEpochs, 1)) / std::max(schedule.stepEpochs, 1));
  }
  return baseLearningRate;
}

const char* regularizerKindName(RegularizerKind kind) {
  switch (kind) {
    case RegularizerKind::None:
      return "none";
    case RegularizerKind::NeuralSimilarity:
      return "neural_similarity";
    case RegularizerKind::Harmonization:
      return "harmonization";
    case RegularizerKind::GaussianNoiseAugmentation:
      return "gaussian_noise_augmentation";
  }
  return "none";
}

std::optional<RegularizerKind> parseRegularizerKind(const std::string& name) {
  for (const auto kind : {RegularizerKind::None, RegularizerKind::NeuralSimilarity, RegularizerKind::Harmonization,
                          RegularizerKind::GaussianNoiseAugmentation})
    if (name == regularizerKindName(kind)) return kind;
  return std::nullopt;
}

nlohmann::json toJson(const ClassifierTrainingConfig& config) {
  const ClassifierDataConfig& data = config.data;
  const RegularizerConfig& regularizer = config.regularizer;
  return {
      {"name", config.name},
      {"data",
       {{"path", data.path},
        {"test_path", data.testPath},
        {"train_split", data.trainSplit},
        {"test_split", data.testSplit},
        {"grayscale", data.grayscale},
        {"max_train_images", data.maxTrainImages},
        {"max_test_images", data.maxTestImages},
        {"subset", data.subset},
        {"validation_fraction", data.validationFraction},
        {"split_seed", data.splitSeed},
        {"normalization", normalizationName(data.normalization)},
        {"augmentation",
         {{"enabled", data.augmentation.enabled},
          {"random_crop", data.augmentation.randomCrop},
          {"crop_padding", data.augmentation.cropPadding},
          {"horizontal_flip", data.augmentation.horizontalFlip}}}}},
      {"model", toJson(config.model)},
      {"optimizer",
       {{"kind", optimizerKindName(config.optimizer.kind)},
        {"learning_rate", config.optimizer.learningRate},
        {"momentum", config.optimizer.momentum},
        {"nesterov", config.optimizer.nesterov},
        {"weight_decay", config.optimizer.weightDecay}}},
      {"schedule",
       {{"kind", scheduleKindName(config.schedule.kind)},
        {"step_epochs", config.schedule.stepEpochs},
        {"factor", config.schedule.factor},
        {"cycle_epochs", config.schedule.cycleEpochs},
        {"minimum_learning_rate", config.schedule.minimumLearningRate}}},
      {"epochs", config.epochs},
      {"batch_size", config.batchSize},
      {"seed", config.seed},
      {"seeds", config.seeds},
      {"regularizer",
       {{"kind", regularizerKindName(regularizer.kind)},
        {"alpha", regularizer.alpha},
        {"pair_batch_size", regularizer.pairBatchSize},
        {"target", toJson(regularizer.target)},
        {"similarity", toJson(regularizer.similarity)},
        {"harmonization",
         {{"importance_maps", regularizer.harmonization.importanceMaps},
          {"hdf5_dataset", regularizer.harmonization.hdf5Dataset},
          {"weight", regularizer.harmonization.weight},
          {"label_smoothing", regularizer.harmonization.labelSmoothing},
          {"pyramid_levels", regularizer.harmonization.pyramidLevels}}},
        {"noise_sigma", regularizer.noiseSigma}}},
      {"keep", modelSelectionName(config.keep)},
  };
}

ClassifierTrainingConfig classifierTrainingConfigFromJson(const nlohmann::json& json) {
  ClassifierTrainingConfig config;
  ConfigReader reader(json, "classifier training config");
  reader.read("name", config.name);
  if (const nlohmann::json* dataJson = reader.find("data")) {
    ClassifierDataConfig& data = config.data;
    ConfigReader dataReader(*dataJson, "classifier training config: data");
    dataReader.read("path", data.path);
    dataReader.read("test_path", data.testPath);
    dataReader.read("train_split", data.trainSplit);
    dataReader.read("test_split", data.testSplit);
    dataReader.read("grayscale", data.grayscale);
    dataReader.read("max_train_images", data.maxTrainImages);
    dataReader.read("max_test_images", data.maxTestImages);
    dataReader.read("subset", data.subset);
    if (data.subset != "random" && data.subset != "first") dataReader.fail("subset", "must be \"random\" or \"first\"");
    dataReader.read("validation_fraction", data.validationFraction);
    dataReader.read("split_seed", data.splitSeed);
    std::string normalization = normalizationName(data.normalization);
    dataReader.read("normalization", normalization);
    if (normalization == "model") {
      data.normalization = NormalizationSource::Model;
    } else if (normalization == "train_images") {
      data.normalization = NormalizationSource::TrainImages;
    } else {
      dataReader.fail("normalization", "must be \"model\" or \"train_images\"");
    }
    if (const nlohmann::json* augmentation = dataReader.find("augmentation")) {
      ConfigReader augmentationReader(*augmentation, "classifier training config: data: augmentation");
      augmentationReader.read("enabled", data.augmentation.enabled);
      augmentationReader.read("random_crop", data.augmentation.randomCrop);
      augmentationReader.read("crop_padding", data.augmentation.cropPadding);
      augmentationReader.read("horizontal_flip", data.augmentation.horizontalFlip);
      augmentationReader.finish();
    }
    dataReader.finish();
  }
  if (const nlohmann::json* model = reader.find("model")) config.model = classifierConfigFromJson(*model);
  if (const nlohmann::json* optimizerJson = reader.find("optimizer")) {
    ClassifierOptimizerConfig& optimizer = config.optimizer;
    ConfigReader optimizerReader(*optimizerJson, "classifier training config: optimizer");
    std::string kind = optimizerKindName(optimizer.kind);
    optimizerReader.read("kind", kind);
    if (kind == "sgd") {
      optimizer.kind = OptimizerKind::Sgd;
    } else if (kind == "adam") {
      optimizer.kind = OptimizerKind::Adam;
    } else if (kind == "adamw") {
      optimizer.kind = OptimizerKind::AdamW;
    } else {
      optimizerReader.fail("kind", "must be \"sgd\", \"adam\" or \"adamw\"");
    }
    optimizerReader.read("learning_rate", optimizer.learningRate);
    optimizerReader.read("momentum", optimizer.momentum);
    optimizerReader.read("nesterov", optimizer.nesterov);
    optimizerReader.read("weight_decay", optimizer.weightDecay);
    optimizerReader.finish();
  }
  if (const nlohmann::json* scheduleJson = reader.find("schedule")) {
    LearningRateSchedule& schedule = config.schedule;
    ConfigReader scheduleReader(*scheduleJson, "classifier training config: schedule");
    std::string kind = scheduleKindName(schedule.kind);
    scheduleReader.read("kind", kind);
    if (kind == "constant") {
      schedule.kind = ScheduleKind::Constant;
    } else if (kind == "step") {
      schedule.kind = ScheduleKind::Step;
    } else if (kind == "cosine") {
      schedule.kind = ScheduleKind::Cosine;
    } else if (kind == "cyclic") {
      schedule.kind = ScheduleKind::Cyclic;
    } else {
      scheduleReader.fail("kind", "must be \"constant\", \"step\", \"cosine\" or \"cyclic\"");
    }
    scheduleReader.read("step_epochs", schedule.stepEpochs);
    scheduleReader.read("factor", schedule.factor);
    scheduleReader.read("cycle_epochs", schedule.cycleEpochs);
    scheduleReader.read("minimum_learning_rate", schedule.minimumLearningRate);
    scheduleReader.finish();
  }
  reader.read("epochs", config.epochs);
  reader.read("batch_size", config.batchSize);
  reader.read("seed", config.seed);
  reader.read("seeds", config.seeds);
  if (const nlohmann::json* regularizerJson = reader.find("regularizer")) {
    RegularizerConfig& regularizer = config.regularizer;
    ConfigReader regularizerReader(*regularizerJson, "classifier training config: regularizer");
    std::string kind = regularizerKindName(regularizer.kind);
    regularizerReader.read("kind", kind);
    const auto parsed = parseRegularizerKind(kind);
    if (!parsed)
      regularizerReader.fail(
          "kind", "must be \"none\", \"neural_similarity\", \"harmonization\" or \"gaussian_noise_augmentation\"");
    regularizer.kind = *parsed;
    regularizerReader.read("alpha", regularizer.alpha);
    regularizerReader.read("pair_batch_size", regularizer.pairBatchSize);
    if (const nlohmann::json* target = regularizerReader.find("target"))
      regularizer.target = regularizationTargetConfigFromJson(*target);
    if (const nlohmann::json* similarity = regularizerReader.find("similarity"))
      regularizer.similarity = similarityRegularizerConfigFromJson(*similarity);
    if (const nlohmann::json* harmonizationJson = regularizerReader.find("harmonization")) {
      HarmonizationConfig& harmonization = regularizer.harmonization;
      ConfigReader harmonizationReader(*harmonizationJson, "classifier training config: regularizer: harmonization");
      harmonizationReader.read("importance_maps", harmonization.importanceMaps);
      harmonizationReader.read("hdf5_dataset", harmonization.hdf5Dataset);
      harmonizationReader.read("weight", harmonization.weight);
      harmonizationReader.read("label_smoothing", harmonization.labelSmoothing);
      harmonizationReader.read("pyramid_levels", harmonization.pyramidLevels);
      harmonizationReader.finish();
    }
    regularizerReader.read("noise_sigma", regularizer.noiseSigma);
    regularizerReader.finish();
  }
  std::string keep = modelSelectionName(config.keep);
  reader.read("keep", keep);
  if (keep == "final") {
    config.keep = ModelSelection::Final;
  } else if (keep == "best_validation") {
    config.keep = ModelSelection::BestValidation;
  } else {
    reader.fail("keep", "must be \"final\" or \"best_validation\"");
  }
  reader.finish();
  return config;
}

void validate(const ClassifierTrainingConfig& config) {
  auto fail = [](const std::string& problem) { throw Error("classifier training config: " + problem); };
  const ClassifierDataConfig& data = config.data;
  if (data.path.empty()) fail("'data': 'path' must name an image dataset");
  if (data.maxTrainImages < 0 || data.maxTestImages < 0) fail("'data': image counts must not be negative");
  if (!(data.validationFraction >= 0.0 && data.validationFraction < 1.0))
    fail("'data': 'validation_fraction' must be in [0, 1)");
  if (data.augmentation.cropPadding < 0) fail("'data': 'augmentation': 'crop_padding' must not be negative");
  bp::validate(config.model);
  const ClassifierOptimizerConfig& optimizer = config.optimizer;
  if (!(optimizer.learningRate > 0.0)) fail("'optimizer': 'learning_rate' must be positive");
  if (!(optimizer.momentum >= 0.0 && optimizer.momentum < 1.0)) fail("'optimizer': 'momentum' must be in [0, 1)");
  if (optimizer.nesterov && (optimizer.kind != OptimizerKind::Sgd || !(optimizer.momentum > 0.0)))
    fail("'optimizer': 'nesterov' needs sgd with a positive momentum");
  if (!(optimizer.weightDecay >= 0.0)) fail("'optimizer': 'weight_decay' must not be negative");
  const LearningRateSchedule& schedule = config.schedule;
  if (schedule.stepEpochs < 1 || schedule.cycleEpochs < 1) fail("'schedule': epoch counts must be positive");
  if (!(schedule.factor > 0.0)) fail("'schedule': 'factor' must be positive");
  if (!(schedule.minimumLearningRate >= 0.0)) fail("'schedule': 'minimum_learning_rate' must not be negative");
  if (config.epochs < 1) fail("'epochs' must be positive");
  if (config.batchSize < 1) fail("'batch_size' must be positive");
  const RegularizerConfig& regularizer = config.regularizer;
  switch (regularizer.kind) {
    case RegularizerKind::None:
      break;
    case RegularizerKind::NeuralSimilarity:
      if (!(regularizer.alpha >= 0.0)) fail("'regularizer': 'alpha' must not be negative");
      if (regularizer.pairBatchSize < 1) fail("'regularizer': 'pair_batch_size' must be positive");
      if (regularizer.target.source == TargetSource::MatrixFile && regularizer.target.matrixFile.empty())
        fail("'regularizer': 'target': a matrix_file target needs 'matrix_file'");
      if (regularizer.target.threshold && !(*regularizer.target.threshold >= 0.0))
        fail("'regularizer': 'target': 'threshold' must not be negative");
      bp::validate(regularizer.similarity);
      break;
    case RegularizerKind::Harmonization:
      if (regularizer.harmonization.importanceMaps.empty())
        fail("'regularizer': 'harmonization': 'importance_maps' must name an HDF5 file or a folder of PNGs");
      if (!(regularizer.harmonization.weight >= 0.0))
        fail("'regularizer': 'harmonization': 'weight' must not be negative");
      if (!(regularizer.harmonization.labelSmoothing >= 0.0 && regularizer.harmonization.labelSmoothing < 1.0))
        fail("'regularizer': 'harmonization': 'label_smoothing' must be in [0, 1)");
      if (regularizer.harmonization.pyramidLevels < 1)
        fail("'regularizer': 'harmonization': 'pyramid_levels' must be positive");
      break;
    case RegularizerKind::GaussianNoiseAugmentation:
      if (!(regularizer.noiseSigma >= 0.0)) fail("'regularizer': 'noise_sigma' must not be negative");
      break;
  }
  if (config.keep == ModelSelection::BestValidation && !(data.validationFraction > 0.0))
    fail("'keep': \"best_validation\" needs a positive 'data': 'validation_fraction'");
}

// ---- data ---------------------------------------------------------------------------------------

ClassifierTrainingData loadClassifierTrainingData(const ClassifierTrainingConfig& config, std::uint64_t runSeed,
                                                  const Job& job) {
  validate(config);
  const ClassifierDataConfig& data = config.data;
  const bool random = data.subset == "random";
  ClassifierTrainingData result;

  const ImageDataset train = loadSplit(data, data.path, data.trainSplit, data.maxTrainImages, job.subJob(0.0, 0.4));
  std::vector<std::int64_t> trainIndices =
      subsetIndices(train.imageCount(), data.maxTrainImages, random, data.splitSeed, kTrainSubsetStream);
  std::vector<std::int64_t> validationIndices;
  if (data.validationFraction > 0.0) {
    const auto count = static_cast<std::int64_t>(trainIndices.size());
    const std::int64_t held = std::max<std::int64_t>(
        1, static_cast<std::int64_t>(std::llround(data.validationFraction * static_cast<double>(count))));
    if (held >= count)
      throw Error("classifier training: " + std::to_string(count) + " train images are too few to hold out " +
                  std::to_string(held) + " for validation");
    RandomStream draw(data.splitSeed, kValidationStream);
    draw.shuffle(trainIndices);
    validationIndices.assign(trainIndices.begin(), trainIndices.begin() + held);
    trainIndices.erase(trainIndices.begin(), trainIndices.begin() + held);
    std::sort(validationIndices.begin(), validationIndices.end());
    std::sort(trainIndices.begin(), trainIndices.end());
  }
  result.trainImages = imagesTensor(train, trainIndices);
  result.trainLabels = labelsTensor(train, trainIndices);
  result.trainSourceIndices = trainIndices;
  result.validationImages = imagesTensor(train, validationIndices);
  result.validationLabels = labelsTensor(train, validationIndices);
  result.classNames = train.classNames;
  result.trainSource = data.path + " (" + data.trainSplit + ")";
  job.throwIfCancelled();

  {
    const ImageDataset test = loadSplit(data, data.testPath.empty() ? data.path : data.testPath, data.testSplit,
                                        data.maxTestImages, job.subJob(0.4, 0.7));
    if (test.channels != train.channels || test.height != train.height || test.width != train.width)
      throw Error("classifier training: the " + data.testSplit + " images are " + std::to_string(test.channels) + "x" +
                  std::to_string(test.height) + "x" + std::to_string(test.width) + ", the " + data.trainSplit +
                  " images " + std::to_string(train.channels) + "x" + std::to_string(train.height) + "x" +
                  std::to_string(train.width));
    const std::vector<std::int64_t> testIndices =
        subsetIndices(test.imageCount(), data.maxTestImages, random, data.splitSeed, kTestSubsetStream);
    result.testImages = imagesTensor(test, testIndices);
    result.testLabels = labelsTensor(test, testIndices);
  }
  job.throwIfCancelled();

  const RegularizerConfig& regularizer = config.regularizer;
  if (regularizer.kind == RegularizerKind::NeuralSimilarity) {
    result.target =
        loadRegularizationTarget(regularizer.target, data.path, data.grayscale, runSeed, job.subJob(0.7, 1.0));
    if (result.target->images.size(1) != train.channels)
      throw Error("classifier training: the target images have " + std::to_string(result.target->images.size(1)) +
                  " channels, the train images " + std::to_string(train.channels));
  } else if (regularizer.kind == RegularizerKind::Harmonization) {
    const ImportanceMaps all =
        loadImportanceMaps(regularizer.harmonization.importanceMaps, regularizer.harmonization.hdf5Dataset,
                           train.imageCount(), train.height, train.width);
    const torch::Tensor rows = torch::tensor(trainIndices, torch::kLong);
    result.importanceMaps = ImportanceMaps{all.maps.index_select(0, rows), all.present.index_select(0, rows)};
  }
  job.progress(1.0, "loaded " + std::to_string(trainIndices.size()) + " train, " +
                        std::to_string(validationIndices.size()) + " validation and " +
                        std::to_string(result.testImages.size(0)) + " test images");
  return result;
}

// ---- reports ------------------------------------------------------------------------------------

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
          {"model", result.trained.model ? toJson(result.trained.model->config()) : nlohmann::json()}};
}

// ---- evaluation ---------------------------------------------------------------------------------

double classifierAccuracy(Classifier& model, const torch::Tensor& images, const torch::Tensor& labels, const Job& job,
                          std::int64_t batchSize) {
  const std::int64_t count = images.defined() ? images.size(0) : 0;
  if (count == 0) return kNaN;
  torch::NoGradGuard noGrad;
  const bool wasTraining = model->is_training();
  model->eval();
  const torch::Device device = model->parameters().front().device();
  std::int64_t correct = 0;
  for (std::int64_t begin = 0; begin < count; begin += batchSize) {
    job.throwIfCancelled();
    const std::int64_t size = std::min(batchSize, count - begin);
    const torch::Tensor logits = model->forward(images.narrow(0, begin, size).to(device));
    correct += logits.argmax(1).eq(labels.narrow(0, begin, size).to(device)).sum().item<std::int64_t>();
  }
  model->train(wasTraining);
  return static_cast<double>(correct) / static_cast<double>(count);
}

// ---- training -----------------------------------------------------------------------------------

ClassifierTrainingResult trainClassifier(const ClassifierTrainingConfig& config, const ClassifierTrainingData& data,
                                         const Job& job, const ClassifierEpochCallback& onEpoch,
                                         const ClassifierFitControl& control) {
  validate(config);
  const RegularizerConfig& regularizerConfig = config.regularizer;
  const RegularizerKind kind = regularizerConfig.kind;
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
  if (kind == RegularizerKind::NeuralSimilarity && (!data.target || data.target->size() < 2))
    throw Error("classifier training: the neural-similarity regularizer needs a target of at least 2 images");
  if (kind == RegularizerKind::Harmonization &&
      (!data.importanceMaps || data.importanceMaps->maps.size(0) != trainCount))
    throw Error("classifier training: harmonization needs one importance map row per train image");

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
  SimilarityRegularizer regularizer{nullptr};
  torch::Tensor targetSimilarity;
  if (kind == RegularizerKind::NeuralSimilarity) {
    regularizer = SimilarityRegularizer(model->tapChannels(), regularizerConfig.similarity);
    regularizer->to(device);
    targetSimilarity = data.target->similarity.to(device);
    result.targetImages = data.target->size();
    result.targetDescription = data.target->description;
  }
  const std::unique_ptr<torch::optim::Optimizer> optimizer = makeOptimizer(
      config.optimizer, model->parameters(), regularizer ? regularizer->parameters() : std::vector<torch::Tensor>{});

  const nlohmann::json identity = {{"config", configIdentity(config)},
                                   {"train_images", trainCount},
                                   {"validation_images", result.validationImages},
                                   {"test_images", result.testImages},
                                   {"target_images", result.targetImages}};

  TrainingState state;
  std::vector<torch::Tensor> best =
      config.keep == ModelSelection::BestValidation ? snapshotModule(*model) : std::vector<torch::Tensor>{};
  if (control.resume && !control.checkpoint.empty() && std::filesystem::exists(control.checkpoint)) {
    readCheckpoint(control.checkpoint, identity, model, regularizer, *optimizer, best, state);
    result.resumedAfterEpoch = state.epoch;
    job.progress(static_cast<double>(std::min(state.epoch, config.epochs)) / config.epochs,
                 "resumed after epoch " + std::to_string(state.epoch));
  }

  const auto start = std::chrono::steady_clock::now();
  const double secondsBefore = state.seconds;
  auto elapsed = [&] {
    return secondsBefore + std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  const auto batches = (trainCount + config.batchSize - 1) / config.batchSize;
  const auto pairs = static_cast<std::int64_t>(regularizerConfig.pairBatchSize);
  const std::int64_t targetSize = data.target ? data.target->size() : 0;
  namespace F = torch::nn::functional;
  const double labelSmoothing =
      kind == RegularizerKind::Harmonization ? regularizerConfig.harmonization.labelSmoothing : 0.0;
  std::vector<std::int64_t> order(static_cast<std::size_t>(trainCount));

  while (state.epoch < config.epochs) {
    const int epoch = state.epoch + 1;
    const auto epochStart = std::chrono::steady_clock::now();
    const double learningRate = learningRateAt(config.optimizer.learningRate, config.schedule, epoch, config.epochs);
    for (auto& group : optimizer->param_groups()) group.options().set_lr(learningRate);
    const auto epochStream = static_cast<std::uint64_t>(epoch);
    RandomStream shuffler(config.seed, kShuffleStream + epochStream);
    RandomStream augmentation(config.seed, kAugmentationStream + epochStream);
    RandomStream pairDraws(config.seed, kPairStream + epochStream);
    torch::manual_seed(config.seed * 1000003u + epochStream);
    std::iota(order.begin(), order.end(), std::int64_t{0});
    shuffler.shuffle(order);
    const torch::Tensor permutation = torch::tensor(order, torch::kLong);

    model->train();
    if (regularizer) regularizer->train();
    double classificationSum = 0.0;
    double regularizationSum = 0.0;
    double totalSum = 0.0;
    std::int64_t correct = 0;
    for (std::int64_t batch = 0; batch < batches; ++batch) {
      job.throwIfCancelled();
      const std::int64_t begin = batch * config.batchSize;
      const torch::Tensor indices = permutation.slice(0, begin, std::min(trainCount, begin + config.batchSize));
      torch::Tensor images = data.trainImages.index_select(0, indices);
      torch::Tensor maps;
      torch::Tensor present;
      if (kind == RegularizerKind::Harmonization) {
        maps = data.importanceMaps->maps.index_select(0, indices);
        present = data.importanceMaps->present.index_select(0, indices);
      }
      augment(images, maps, config.data.augmentation, augmentation);
      if (kind == RegularizerKind::GaussianNoiseAugmentation && regularizerConfig.noiseSigma > 0.0)
        images = (images + regularizerConfig.noiseSigma * torch::randn_like(images)).clamp(0.0, 1.0);
      images = images.to(device);
      const torch::Tensor labels = data.trainLabels.index_select(0, indices).to(device);

      torch::Tensor logits;
      torch::Tensor regularization;
      torch::Tensor loss;
      if (kind == RegularizerKind::Harmonization) {
        const Saliency saliency = computeSaliency(model, images, labels, /*createGraph=*/true);
        logits = saliency.logits;
        regularization = harmonizationLoss(saliency.maps, maps.to(device), present.to(device),
                                           regularizerConfig.harmonization.pyramidLevels);
      } else {
        logits = model->forward(images);
      }
      const torch::Tensor classification =
          F::cross_entropy(logits, labels, F::CrossEntropyFuncOptions().label_smoothing(labelSmoothing));
      if (kind == RegularizerKind::NeuralSimilarity) {
        // The pair batch: P pairs of two different target images, drawn uniformly.
        std::vector<std::int64_t> first(static_cast<std::size_t>(pairs));
        std::vector<std::int64_t> second(static_cast<std::size_t>(pairs));
        for (std::int64_t p = 0; p < pairs; ++p) {
          const auto a = static_cast<std::int64_t>(pairDraws.below(static_cast<std::uint64_t>(targetSize)));
          auto b = static_cast<std::int64_t>(pairDraws.below(static_cast<std::uint64_t>(targetSize - 1)));
          if (b >= a) ++b;
          first[static_cast<std::size_t>(p)] = a;
          second[static_cast<std::size_t>(p)] = b;
        }
        std::vector<std::int64_t> both = first;
        both.insert(both.end(), second.begin(), second.end());
        const torch::Tensor pairImages =
            data.target->images.index_select(0, torch::tensor(both, torch::kLong)).to(device);
        const torch::Tensor rows = torch::tensor(first, torch::kLong).to(device);
        const torch::Tensor columns = torch::tensor(second, torch::kLong).to(device);
        const torch::Tensor targets = targetSimilarity.index({rows, columns});
        regularization = regularizer->forward(model->forwardWithTaps(pairImages).taps, targets);
        loss = classification + regularizerConfig.alpha * regularization;
      } else if (kind == RegularizerKind::Harmonization) {
        loss = classification + regularizerConfig.harmonization.weight * regularization;
      } else {
        loss = classification;
      }

      const double totalValue = loss.item<double>();
      if (!std::isfinite(totalValue)) {
        std::string terms = "cross-entropy " + formatValue(classification.item<double>());
        if (regularization.defined()) terms += ", regularization " + formatValue(regularization.item<double>());
        throw Error("training stopped: the loss is not finite (" + formatValue(totalValue) + ": " + terms +
                    ") in epoch " + std::to_string(epoch) + ", batch " + std::to_string(batch + 1) + " of " +
                    std::to_string(batches) + " at learning rate " + formatValue(learningRate) +
                    (control.checkpoint.empty() ? std::string()
                                                : "; the checkpoint " + control.checkpoint.string() + " keeps epoch " +
                                                      std::to_string(state.epoch)) +
                    "; try a smaller learning rate or regularization weight");
      }
      optimizer->zero_grad();
      loss.backward();
      optimizer->step();

      classificationSum += classification.item<double>();
      if (regularization.defined()) regularizationSum += regularization.item<double>();
      totalSum += totalValue;
      correct += logits.detach().argmax(1).eq(labels).sum().item<std::int64_t>();
      job.progress((static_cast<double>(epoch - 1) + static_cast<double>(batch + 1) / static_cast<double>(batches)) /
                       config.epochs,
                   "epoch " + std::to_string(epoch) + "/" + std::to_string(config.epochs) + ", batch " +
                       std::to_string(batch + 1) + "/" + std::to_string(batches) + ": loss " +
                       formatValue(totalSum / static_cast<double>(batch + 1)));
    }

    // The last step can leave non-finite weights behind a finite loss: never checkpoint those.
    for (const auto& parameter : optimizer->param_groups().front().params())
      if (!torch::isfinite(parameter).all().item<bool>())
        throw Error("training stopped: the weights are not finite after epoch " + std::to_string(epoch) +
                    " at learning rate " + formatValue(learningRate) +
                    (control.checkpoint.empty() ? std::string()
                                                : "; the checkpoint " + control.checkpoint.string() + " keeps epoch " +
                                                      std::to_string(state.epoch)) +
                    "; try a smaller learning rate or regularization weight");

    ClassifierEpochReport report;
    report.epoch = epoch;
    report.learningRate = learningRate;
    report.classificationLoss = classificationSum / static_cast<double>(batches);
    report.regularizationLoss = regularizationSum / static_cast<double>(batches);
    report.totalLoss = totalSum / static_cast<double>(batches);
    report.trainAccuracy = static_cast<double>(correct) / static_cast<double>(trainCount);
    report.validationAccuracy = classifierAccuracy(model, data.validationImages, data.validationLabels, job);
    report.testAccuracy = classifierAccuracy(model, data.testImages, data.testLabels, job);
    if (regularizer) report.gamma = regularizer->gammaValues();
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
    if (!control.checkpoint.empty())
      writeCheckpoint(control.checkpoint, identity, model, regularizer, *optimizer, best, state);
    if (onEpoch) onEpoch(report);
    job.progress(static_cast<double>(epoch) / config.epochs,
                 "epoch " + std::to_string(epoch) + "/" + std::to_string(config.epochs) + ": loss " +
                     formatValue(report.totalLoss) + ", test accuracy " + formatValue(report.testAccuracy, 3));
  }

  result.history = state.history;
  result.bestEpoch = state.bestEpoch;
  result.bestValidationAccuracy = state.bestEpoch > 0 ? state.bestValidationAccuracy : kNaN;
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
                    mismatch({{"config", stored.value("config", nlohmann::json())}}, {{"config", wanted}}));
}

ClassifierCheckpointInfo readClassifierCheckpointInfo(const std::filesystem::path& checkpoint) {
  ClassifierCheckpointInfo info;
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(checkpoint.string(), torch::Device(torch::kCPU));
    const nlohmann::json description = readDescription(archive, checkpoint);
    TrainingState state;
    readState(description, state);
    info.epoch = state.epoch;
    info.seconds = state.seconds;
    info.history = state.history;
    info.identity = description.at("identity");
  } catch (const c10::Error& error) {
    throw FileError(checkpoint.string(), std::string("unreadable checkpoint: ") + error.what_without_backtrace());
  } catch (const nlohmann::json::exception& error) {
    throw FileError(checkpoint.string(), std::string("corrupt checkpoint description: ") + error.what());
  }
  return info;
}

// ---- model files --------------------------------------------------------------------------------

void saveClassifierModel(const TrainedClassifier& trained, const std::filesystem::path& path) {
  const nlohmann::json description = {{"format", kModelFormat},
                                      {"version", 1},
                                      {"model", toJson(trained.model->config())},
                                      {"class_names", trained.classNames},
                                      {"image_shape", trained.imageShape}};
  writeAtomically(path, [&](const std::filesystem::path& temporary) {
    torch::serialize::OutputArchive archive;
    trained.model->save(archive);
    archive.write(kModelKey, c10::IValue(description.dump()));
    archive.save_to(temporary.string());
  });
  writeFileAtomically(path.string() + ".json", description.dump(2) + "\n");
}

TrainedClassifier loadClassifierModel(const std::filesystem::path& path) {
  torch::serialize::InputArchive archive;
  nlohmann::json description;
  try {
    archive.load_from(path.string(), torch::Device(torch::kCPU));
    c10::IValue stored;
    archive.read(kModelKey, stored);
    description = nlohmann::json::parse(stored.toStringRef());
    if (description.at("format") != kModelFormat) throw FileError(path.string(), "not a BrainPrior classifier");
  } catch (const c10::Error& error) {
    throw FileError(path.string(), std::string("not a BrainPrior classifier: ") + error.what_without_backtrace());
  } catch (const nlohmann::json::exception& error) {
    throw FileError(path.string(), std::string("corrupt classifier description: ") + error.what());
  }
  TrainedClassifier trained;
  try {
    trained.model = Classifier(classifierConfigFromJson(description.at("model")));
    trained.classNames = description.at("class_names").get<std::vector<std::string>>();
    trained.imageShape = description.at("image_shape").get<std::vector<std::int64_t>>();
    trained.model->load(archive);
  } catch (const c10::Error& error) {
    throw FileError(path.string(),
                    std::string("weights do not match the model config: ") + error.what_without_backtrace());
  } catch (const nlohmann::json::exception& error) {
    throw FileError(path.string(), std::string("corrupt classifier description: ") + error.what());
  } catch (const FileError&) {
    throw;
  } catch (const Error& error) {
    throw FileError(path.string(), error.what());
  }
  trained.model->eval();
  return trained;
}

}  // namespace bp
