// One of the three app translation units that see LibTorch (brainprior_app_sessions); it includes no Qt header.
#include "app/model_session.h"

#include "app/tensor_values.h"

#include <torch/utils.h>
#include <filesystem>
#include <fstream>

#include "classifiers/python_export.h"
#include "data/dataset_io.h"
#include "data/recording_set.h"
#include "models/functional_types.h"
#include "models/neural_model.h"
#include "runtime/atomic_file.h"
#include "runtime/config_reader.h"
#include "runtime/error.h"
#include "runtime/log.h"
#include "runtime/runtime.h"
#include "training/most_exciting_input.h"
#include "training/neural_target.h"
#include "training/neural_trainer.h"

namespace bp::app {
namespace {

// Fills everything derived from the model itself (not from data).
void describeModel(ModelRecord& record) {
  const NeuralModel& model = record.model->model;
  const NeuralModelConfig& config = model->config();
  record.modelConfig = toJson(config);
  record.inputChannels = config.inputChannels;
  record.inputHeight = config.inputHeight;
  record.inputWidth = config.inputWidth;
  record.neuronCount = config.neuronCount;
  record.parameterCount = 0;
  for (const auto& parameter : model->parameters()) record.parameterCount += parameter.numel();

  torch::NoGradGuard noGrad;
  LearnedFeaturesView& features = record.features;
  const torch::Tensor filters = model->firstLayerFilters().mean(1);
  features.filterCount = static_cast<int>(filters.size(0));
  features.filterSize = static_cast<int>(filters.size(-1));
  features.rotations = config.core == CoreKind::RotationEquivariant ? config.rotations : 1;
  features.filters = tensorValues(filters);
  const CoreShape shape = coreOutputShape(config);
  // Core map pixel (0, 0) sits under image pixel (k - 1) / 2: the first layer does not pad.
  const double offset = (config.kernelSizes.front() - 1) / 2.0;
  if (config.readout == ReadoutKind::Gaussian) {
    // grid_sample with aligned corners: -1 and +1 are the centres of the first and last map pixels.
    const torch::Tensor positions = model->gaussianReadout()->positions.detach().clamp(-1.0, 1.0);
    const torch::Tensor x = offset + (positions.select(1, 0) + 1.0) * 0.5 * static_cast<double>(shape.width - 1);
    const torch::Tensor y = offset + (positions.select(1, 1) + 1.0) * 0.5 * static_cast<double>(shape.height - 1);
    features.positions = tensorValues(torch::stack({x, y}, 1));
  } else {
    features.maskHeight = static_cast<int>(shape.height);
    features.maskWidth = static_cast<int>(shape.width);
    features.masks = tensorValues(model->factorizedReadout()->effectiveMask());
  }
  if (config.core == CoreKind::RotationEquivariant) {
    const FunctionalTypes types = computeFunctionalTypes(model);
    FunctionalTypesView view;
    view.typeCount = static_cast<int>(types.featureCount);
    view.types = types.types;
    view.energyFractions = types.energyFractions;
    view.clean = types.clean;
    view.preferredRotations = types.preferredRotations;
    view.typeCounts = types.typeCounts;
    view.cleanTypeCounts = types.cleanTypeCounts;
    record.types = view;
  }
}

bool fitsDataset(const ModelRecord& record, const NeuralDataset& dataset) {
  return dataset.neuronCount == record.neuronCount && dataset.channels == record.inputChannels &&
         dataset.height == record.inputHeight && dataset.width == record.inputWidth;
}

}  // namespace

nlohmann::json defaultFitConfig(const NeuralDataset& dataset, const std::string& coreKind) {
  const NeuralFitSettings settings = defaultNeuralFitSettings(
      dataset, coreKind == "rotation_equivariant" ? CoreKind::RotationEquivariant : CoreKind::Stacked);
  return {{"model", toJson(settings.model)}, {"trainer", toJson(settings.trainer)}};
}

ModelRecord fitModel(const NeuralDataset& dataset, const std::vector<std::string>& moreRecordings,
                     const nlohmann::json& fitConfig, const std::string& checkpoint, const Job& job,
                     const std::function<void(const NeuralEpochReport&)>& onEpoch,
                     const std::function<bool()>& stopRequested) {
  initializeWorkerThread();
  ConfigReader reader(fitConfig, "fit config");
  NeuralModelConfig modelConfig;
  NeuralTrainerConfig trainerConfig;
  if (const nlohmann::json* model = reader.find("model")) modelConfig = neuralModelConfigFromJson(*model);
  if (const nlohmann::json* trainer = reader.find("trainer")) trainerConfig = neuralTrainerConfigFromJson(*trainer);
  reader.finish();

  // The loaded dataset first: its size is the one the others are brought to.
  std::vector<NeuralDataset> datasets = {dataset};
  for (std::size_t r = 0; r < moreRecordings.size(); ++r)
    datasets.push_back(loadNeuralDataset(moreRecordings[r], job.subJob(0.0, 0.05)));
  giveDistinctNames(datasets);
  for (const auto& sentence : bringToOneImageSize(datasets)) logInfo(sentence);
  std::vector<const NeuralDataset*> recordings;
  for (const auto& recording : datasets) recordings.push_back(&recording);

  NeuralFitControl control;
  control.checkpoint = checkpoint;
  control.resume = !checkpoint.empty();
  control.stopRequested = stopRequested;
  NeuralFitResult fit = fitNeuralModel(recordings, modelConfig, trainerConfig, job.subJob(0.05, 0.9), onEpoch, control);
  ModelRecord record;
  record.model = std::make_shared<FittedNeuralModel>(fit.fitted.front());
  for (std::size_t r = 1; r < fit.fitted.size(); ++r)
    record.moreRecordings.push_back(std::make_shared<FittedNeuralModel>(fit.fitted[r]));
  record.trainerConfig = toJson(trainerConfig);
  record.fitSummary = toJson(fit);
  record.fitSummary.erase("history");
  record.fitSummary["dataset"] = dataset.name;
  record.fitSummary["runtime"] = toJson(runtimeInfo());
  record.curve = fit.history;
  describeModel(record);
  record.evaluation = evaluateNeuralModel(fit.fitted.front(), dataset, Tier::Test, job.subJob(0.9, 0.95));
  if (fit.fitted.size() > 1) {
    for (std::size_t r = 0; r < fit.fitted.size(); ++r) {
      const NeuralModelEvaluation evaluation =
          r == 0 ? *record.evaluation : evaluateNeuralModel(fit.fitted[r], datasets[r], Tier::Test, job.subJob(0.95, 1.0));
      record.recordings.push_back({{"recording", fit.fitted[r].recording},
                                   {"file", datasets[r].sourcePath},
                                   {"neurons", datasets[r].neuronCount},
                                   {"test_mean_average_correlation", evaluation.meanAverageCorrelation},
                                   {"test_fraction_of_oracle", evaluation.fractionOfOracleSlope},
                                   {"test_mean_feve", evaluation.meanFeve}});
    }
    record.fitSummary["recordings"] = record.recordings;
  }
  if (!checkpoint.empty()) std::filesystem::remove(checkpoint);
  return record;
}

ModelRecord loadModel(const std::string& path, const NeuralDataset* dataset, const Job& job) {
  initializeWorkerThread();
  ModelRecord record;
  record.file = path;
  record.name = std::filesystem::path(path).stem().string();
  // A model of several recordings opens as the first recording's, with the others beside it.
  std::vector<FittedNeuralModel> models = loadNeuralModels(path);
  record.model = std::make_shared<FittedNeuralModel>(models.front());
  for (std::size_t r = 1; r < models.size(); ++r)
    record.moreRecordings.push_back(std::make_shared<FittedNeuralModel>(models[r]));
  describeModel(record);
  const std::string metricsPath = path + ".metrics.json";
  if (std::filesystem::exists(metricsPath)) {
    std::ifstream in(metricsPath);
    try {
      const nlohmann::json metrics = nlohmann::json::parse(in);
      record.trainerConfig = metrics.value("trainer", nlohmann::json());
      if (metrics.contains("fit")) {
        record.fitSummary = metrics.at("fit");
        for (const auto& report : record.fitSummary.value("history", nlohmann::json::array()))
          record.curve.push_back(neuralEpochReportFromJson(report));
        record.fitSummary.erase("history");
        record.recordings = record.fitSummary.value("recordings", nlohmann::json::array());
      }
    } catch (const nlohmann::json::exception& error) {
      throw FileError(metricsPath, std::string("corrupt metrics file: ") + error.what());
    }
  }
  if (dataset && fitsDataset(record, *dataset))
    record.evaluation = evaluateNeuralModel(*record.model, *dataset, Tier::Test, job);
  return record;
}

void exportModelForPython(const ModelRecord& record, const std::string& path) {
  exportNeuralModelForPython(*record.model, path);
}

void saveModel(const ModelRecord& record, const std::string& path) {
  std::vector<FittedNeuralModel> models = {*record.model};
  for (const auto& more : record.moreRecordings) models.push_back(*more);
  saveNeuralModels(models, path);
  nlohmann::json fit = record.fitSummary;
  nlohmann::json history = nlohmann::json::array();
  for (const auto& report : record.curve) history.push_back(toJson(report));
  fit["history"] = history;
  const nlohmann::json metrics = {{"format", "brainprior neural fit"},
                                  {"version", 1},
                                  {"model_file", path},
                                  {"model", record.modelConfig},
                                  {"trainer", record.trainerConfig},
                                  {"fit", fit},
                                  {"runtime", toJson(runtimeInfo())}};
  writeFileAtomically(path + ".metrics.json", metrics.dump(2) + "\n");
}

std::vector<MeiView> computeMeis(const ModelRecord& record, const std::vector<std::int64_t>& neurons, int steps,
                                 const Job& job) {
  initializeWorkerThread();
  MeiConfig config;
  config.steps = steps;
  std::vector<MeiView> views;
  for (const auto& mei : computeMostExcitingInputs(*record.model, neurons, config, job))
    views.push_back({mei.neuron, mei.image, mei.activation, mei.startActivation});
  return views;
}

float pixelRangeHigh(const ModelRecord& record) { return record.model->normalization.pixelRange[1]; }

NeuralTargetView buildNeuralTarget(const ModelRecord& record, const NeuralDataset& dataset, bool weighted,
                                   std::optional<Tier> tier, const Job& job) {
  initializeWorkerThread();
  if (!fitsDataset(record, dataset))
    throw Error("model '" + record.name + "' predicts " + std::to_string(record.neuronCount) +
                " neurons; the loaded dataset has " + std::to_string(dataset.neuronCount));
  NeuralTargetConfig config;
  config.weighted = weighted;
  config.tier = tier;
  config.check = true;
  NeuralTargetView view;
  if (!record.moreRecordings.empty()) {
    // A model of several recordings: each recording's weighted matrix over the loaded dataset's
    // images, then their mean, as Li et al. built theirs from several scans.
    std::vector<NeuralDataset> datasets = {dataset};
    std::vector<FittedNeuralModel> models = {*record.model};
    for (std::size_t r = 0; r < record.moreRecordings.size(); ++r) {
      const std::string file = r + 1 < record.recordings.size() ? record.recordings[r + 1].value("file", std::string()) : "";
      if (file.empty())
        throw Error("model '" + record.name + "' models several recordings, but does not say where recording " +
                    std::to_string(r + 2) + " is; build its target with brainprior-cli target and every recording");
      datasets.push_back(loadNeuralDataset(file, job.subJob(0.0, 0.2)));
      models.push_back(*record.moreRecordings[r]);
    }
    bringToOneImageSize(datasets);
    std::vector<const NeuralDataset*> recordings;
    for (const auto& recording : datasets) recordings.push_back(&recording);
    NeuralCorpusTarget target = buildNeuralCorpusTarget(models, recordings, nullptr, config, job.subJob(0.2, 1.0));
    view.matrix = std::make_shared<SimilarityMatrix>(std::move(target.matrix));
    view.matrix->provenance["neural_target"]["model"] = record.name;
    view.matrix->provenance["neural_target"]["model_file"] = record.file;
    for (const auto& plan : target.plans) view.weightedNeurons += plan.provenance["weighted_neurons"].get<std::int64_t>();
    view.denoisingCheck = toJson(*target.plans.front().check);
    return view;
  }
  const NeuralTargetPlan plan = planNeuralTarget(*record.model, dataset, nullptr, config, job.subJob(0.0, 0.6));
  view.matrix = std::make_shared<SimilarityMatrix>(computeSimilarity(plan.features, plan.similarity, job.subJob(0.6, 1.0)));
  view.matrix->provenance["neural_target"] = plan.provenance;
  view.matrix->provenance["neural_target"]["model"] = record.name;
  view.matrix->provenance["neural_target"]["model_file"] = record.file;
  view.weightedNeurons = plan.provenance["weighted_neurons"].get<std::int64_t>();
  view.denoisingCheck = toJson(*plan.check);
  return view;
}

}  // namespace bp::app
