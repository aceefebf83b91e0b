#include "classifiers/classifier_training_config.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "runtime/config_reader.h"
#include "runtime/error.h"
#include "runtime/number_format.h"

namespace bp {

namespace {

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

}  // namespace

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
      {"alphas", config.alphas},
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
      {"batch_norm", config.batchNorm == BatchNormAcrossWorkers::PerWorker ? "per_worker" : "synchronized"},
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
  reader.read("alphas", config.alphas);
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
  std::string batchNorm = "synchronized";
  reader.read("batch_norm", batchNorm);
  if (batchNorm == "synchronized") {
    config.batchNorm = BatchNormAcrossWorkers::Synchronized;
  } else if (batchNorm == "per_worker") {
    config.batchNorm = BatchNormAcrossWorkers::PerWorker;
  } else {
    reader.fail("batch_norm", "must be \"synchronized\" or \"per_worker\"");
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
  if (!config.alphas.empty()) {
    if (regularizer.kind != RegularizerKind::NeuralSimilarity)
      fail("'alphas' sweeps the neural-similarity regularizer's alpha; this config's regularizer is " +
           std::string(regularizerKindName(regularizer.kind)));
    for (std::size_t i = 0; i < config.alphas.size(); ++i) {
      if (!(config.alphas[i] >= 0.0)) fail("'alphas' must not be negative");
      if (std::find(config.alphas.begin(), config.alphas.begin() + static_cast<std::ptrdiff_t>(i), config.alphas[i]) !=
          config.alphas.begin() + static_cast<std::ptrdiff_t>(i))
        fail("'alphas' names alpha " + formatCompact(config.alphas[i]) + " twice");
    }
  }
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

}  // namespace bp
