// LibTorch comes first: Qt's `slots` macro would break LibTorch headers (this file includes no Qt).
#include "app/probe_session.h"
#include "app/tensor_values.h"

#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <limits>

#include "classifiers/classifier_trainer.h"
#include "classifiers/harmonization.h"
#include "classifiers/run_folder.h"
#include "classifiers/run_registry.h"
#include "classifiers/scripted_classifier.h"
#include "data/dataset_io.h"
#include "data/image_readers.h"
#include "probing/attacks.h"
#include "probing/corruptions.h"
#include "probing/predictivity.h"
#include "probing/probe_config.h"
#include "probing/probe_runner.h"
#include "runtime/error.h"
#include "runtime/runtime.h"

namespace bp::app {
namespace {

namespace fs = std::filesystem;

ModelArguments collectProbeModels(const std::vector<std::string>& paths, std::vector<std::string>& skipped) {
  nlohmann::json skippedRuns = nlohmann::json::array();
  ModelArguments models = collectModels(paths, skippedRuns);
  for (const auto& run : skippedRuns)
    skipped.push_back(run.at("folder").get<std::string>() + " (" + run.at("state").get<std::string>() + ")");
  return models;
}

ProbeImageSet imageSetOf(const std::string& path, ImageDataset& dataset) {
  ProbeImageSet set;
  set.path = path;
  set.channels = dataset.channels;
  set.height = dataset.height;
  set.width = dataset.width;
  set.pixels = std::move(dataset.pixels);
  set.labels.assign(dataset.labels.begin(), dataset.labels.end());
  set.classNames = std::move(dataset.classNames);
  return set;
}

// The loaded classifier and what the panel shows of it: class names, layers, input geometry.
void holdModel(ProbeModel& model, std::shared_ptr<TrainedClassifier> trained) {
  model.classNames = trained->classNames;
  model.layers = trained->model->tapNames();
  model.channels = static_cast<int>(trained->imageShape.at(0));
  model.height = static_cast<int>(trained->imageShape.at(1));
  model.width = static_cast<int>(trained->imageShape.at(2));
  model.trained = std::move(trained);
}

ProbeModel importedProbeModel(const fs::path& file) {
  const RunRecord record = importedModelRecord(file);
  ProbeModel model;
  model.folder = file.string();
  model.name = record.name;
  model.launch = record.group;
  model.regularizer = record.regularizer;
  model.testAccuracy = std::numeric_limits<double>::quiet_NaN();
  model.imported = true;
  const ScriptedModelDescription description = readScriptedModelDescription(file);
  model.rangeLow = description.input.rangeLow;
  model.rangeHigh = description.input.rangeHigh;
  auto trained = std::make_shared<TrainedClassifier>(loadScriptedClassifier(file, description));
  requireLogits(*trained, file);
  holdModel(model, std::move(trained));
  return model;
}

std::string geometryText(int channels, int height, int width) {
  return std::to_string(channels) + " x " + std::to_string(height) + " x " + std::to_string(width);
}

// The attack's result for the one image in `images` (1 x C x H x W).
struct AttackedImage {
  torch::Tensor image;
  bool fooled = false;
  double foundEpsilon = 0.0;
};

AttackedImage attackImage(Classifier& model, const torch::Tensor& images, const torch::Tensor& label,
                          const ProbeRequest& request, const Job& job) {
  PgdConfig pgd;
  pgd.steps = request.pgdSteps;
  pgd.seed = request.noiseSeed;
  pgd.norm = request.attack == ProbeAttack::PgdL2 || request.attack == ProbeAttack::MinimumL2 ? AttackNorm::L2
                                                                                              : AttackNorm::LInf;
  AttackedImage result;
  switch (request.attack) {
    case ProbeAttack::None:
      result.image = images;
      return result;
    case ProbeAttack::Fgsm:
    case ProbeAttack::PgdLinf:
    case ProbeAttack::PgdL2: {
      const AttackResult attack = request.attack == ProbeAttack::Fgsm
                                      ? fgsmAttack(model, images, label, request.epsilon, job)
                                      : pgdAttack(model, images, label, request.epsilon, pgd, job);
      result.image = attack.adversarials;
      result.fooled = attack.fooled.front();
      result.foundEpsilon = request.epsilon;
      return result;
    }
    case ProbeAttack::MinimumLinf:
    case ProbeAttack::MinimumL2: {
      MinimumNormConfig search;
      search.pgd = pgd;
      search.upperEpsilon = request.epsilon;
      const MinimumNormResult found = minimumNormSearch(model, images, label, search, job);
      result.image = found.adversarials;
      result.foundEpsilon = found.epsilons.front();
      result.fooled = std::isfinite(result.foundEpsilon);
      return result;
    }
  }
  throw Error("probe: unknown attack");
}

}  // namespace

std::vector<ProbeModel> loadProbeModels(const std::vector<std::string>& paths, std::vector<std::string>& skipped,
                                        const Job& job) {
  const ModelArguments arguments = collectProbeModels(paths, skipped);
  const std::vector<fs::path>& folders = arguments.runFolders;
  std::vector<ProbeModel> models;
  for (std::size_t i = 0; i < folders.size(); ++i) {
    job.throwIfCancelled();
    job.progress(static_cast<double>(i) / static_cast<double>(folders.size()),
                 "Loading " + folders[i].filename().string());
    const RunRecord record = readRun(folders[i]);
    if (record.state != RunState::Finished) {
      skipped.push_back(folders[i].string() + " (" + runStateName(record.state) + ")");
      continue;
    }
    ProbeModel model;
    model.folder = folders[i].string();
    model.name = record.name;
    model.launch = record.group;
    model.regularizer = record.regularizer;
    model.seed = record.seed;
    model.testAccuracy = record.testAccuracy;
    holdModel(model, std::make_shared<TrainedClassifier>(loadRunModel(folders[i])));
    const ClassifierDataConfig data = classifierTrainingConfigFromJson(record.summary.at("config")).data;
    model.testImagesPath = data.testPath.empty() ? data.path : data.testPath;
    model.testSplit = data.testSplit;
    model.grayscale = data.grayscale;
    if (!models.empty() && (model.channels != models.front().channels || model.height != models.front().height ||
                            model.width != models.front().width))
      throw Error("probe: " + model.name + " takes " + geometryText(model.channels, model.height, model.width) +
                  " images but " + models.front().name + " takes " +
                  geometryText(models.front().channels, models.front().height, models.front().width) +
                  "; load runs trained on the same kind of images together");
    models.push_back(std::move(model));
  }
  for (const fs::path& file : arguments.importedModels) {
    job.throwIfCancelled();
    job.progress(0.9, "Loading " + file.filename().string());
    models.push_back(importedProbeModel(file));
  }
  if (models.empty()) throw Error("probe: no finished run or model to load");
  return models;
}

ProbeImageSet loadLabelledImages(const std::string& path, bool grayscale, std::int64_t maxImages, const Job& job) {
  ImageLoadOptions options;
  options.grayscale = grayscale;
  options.maxImages = maxImages;
  ImageDataset dataset = loadImageDataset(path, options, "test", job);
  if (dataset.imageCount() == 0) throw FileError(path, "has no test images");
  return imageSetOf(path, dataset);
}

ProbeImageSet loadProbeImageSet(const ProbeModel& model, std::int64_t maxImages, const Job& job) {
  ImageLoadOptions options;
  options.grayscale = model.grayscale;
  options.maxImages = maxImages;
  options.resizeHeight = model.height;
  options.resizeWidth = model.width;
  ImageDataset dataset = loadImageDataset(model.testImagesPath, options, model.testSplit, job);
  if (dataset.channels != model.channels)
    throw FileError(model.testImagesPath, "has " + std::to_string(dataset.channels) + "-channel images but " +
                                              model.name + " takes " + std::to_string(model.channels));
  return imageSetOf(model.testImagesPath, dataset);
}

std::vector<float> readProbeImageFile(const std::string& file, int channels, int height, int width) {
  return readImageFile(file, channels, height, width);
}

ProbeOutcome runProbe(const std::vector<ProbeModel>& models, const ProbeRequest& request, const Job& job) {
  if (models.empty()) throw Error("probe: no model is loaded");
  if (request.image.size() != static_cast<std::size_t>(request.channels) * request.height * request.width)
    throw Error("probe: the image's pixels do not make " + geometryText(request.channels, request.height, request.width));
  for (const ProbeModel& model : models)
    if (!model.imported &&
        (request.channels != model.channels || request.height != model.height || request.width != model.width))
      throw Error("probe: the image is " + geometryText(request.channels, request.height, request.width) + " but " +
                  model.name + " takes " + geometryText(model.channels, model.height, model.width));
  if (request.attackedModel < 0 || request.attackedModel >= static_cast<int>(models.size()))
    throw Error("probe: no model " + std::to_string(request.attackedModel) + " to attack");

  const torch::Tensor original =
      torch::from_blob(const_cast<float*>(request.image.data()), {1, request.channels, request.height, request.width},
                       torch::kFloat)
          .clone();
  torch::Tensor image = original;
  if (request.corruption != "none") {
    const auto kind = parseCorruptionKind(request.corruption);
    if (!kind) throw Error("probe: unknown corruption \"" + request.corruption + "\"");
    validateSeverity(*kind, request.severity);
    image = corruptImages(original, *kind, request.severity, request.noiseSeed);
  }

  ProbeOutcome outcome;
  outcome.foundEpsilon = std::numeric_limits<double>::infinity();
  if (request.attack != ProbeAttack::None) {
    Classifier& attacked = models[static_cast<std::size_t>(request.attackedModel)].trained->model;
    int label = request.label;
    if (label < 0) {
      torch::NoGradGuard noGrad;
      label = static_cast<int>(attacked->forward(image).argmax(1).item<std::int64_t>());
    }
    const AttackedImage result = attackImage(attacked, image, torch::tensor({static_cast<std::int64_t>(label)}),
                                             request, job);
    image = result.image.to(torch::kFloat);
    outcome.attackLabel = label;
    outcome.attackFooled = result.fooled;
    outcome.foundEpsilon = result.foundEpsilon;
  }

  const torch::Tensor perturbation = image - original;
  outcome.shown = tensorValues(image);
  outcome.perturbation = tensorValues(perturbation);
  outcome.linf = perturbation.abs().max().item<double>();
  outcome.l2 = perturbation.norm().item<double>();
  for (const ProbeModel& model : models) {
    job.throwIfCancelled();
    Classifier& classifier = model.trained->model;
    torch::Tensor logits;
    {
      torch::NoGradGuard noGrad;
      logits = classifier->forward(image);
    }
    ModelResponse response;
    response.probabilities = tensorValues(torch::softmax(logits, 1));
    response.predicted = static_cast<int>(logits.argmax(1).item<std::int64_t>());
    // The saliency the alignment score compares with people's maps, of the decision the model made.
    response.saliency = tensorValues(
        alignmentSaliency(classifier, image, torch::tensor({static_cast<std::int64_t>(response.predicted)})));
    outcome.models.push_back(std::move(response));
  }
  return outcome;
}

std::vector<std::string> probeConfigPresets() { return probePresetNames(); }

nlohmann::json probeConfigPreset(const std::string& name) { return toJson(probePreset(name)); }

nlohmann::json runProbeReport(const std::vector<std::string>& runFolders, const nlohmann::json& config,
                              const std::string& outputDir, const Job& job) {
  ProbeReportFolderConfig folder;
  folder.runs = runFolders;
  folder.probe = probeConfigFromJson(config);
  folder.outputDir = outputDir;
  return writeProbeReportFolder(folder, job).json;
}

nlohmann::json runPredictivityReport(const std::vector<std::string>& runFolders, const std::string& neuralPath,
                                     const nlohmann::json& config, const std::string& outputDir, const Job& job) {
  PredictivityReportFolderConfig folder;
  folder.runs = runFolders;
  folder.neuralPath = neuralPath;
  folder.predictivity = predictivityConfigFromJson(config);
  folder.outputDir = outputDir;
  return writePredictivityReportFolder(folder, job).json;
}

}  // namespace bp::app
