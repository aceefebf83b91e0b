#include "model_commands.h"

#include <ctime>
#include <tuple>

#include "data/dataset_io.h"
#include "data/npy.h"
#include "data/recording_set.h"
#include "rsa/matrix_file.h"
#include "rsa/similarity_distribution.h"
#include "runtime/atomic_file.h"
#include "runtime/config_reader.h"
#include "runtime/error.h"
#include "runtime/log.h"
#include "training/most_exciting_input.h"
#include "training/neural_target.h"
#include "training/neural_trainer.h"
#include "runtime/clock.h"

namespace bp::cli {
namespace {


// What was read and from where; for an NWB file, also how (its read options).
nlohmann::json describeDataset(const NeuralDataset& dataset, const NwbReadOptions& nwb) {
  nlohmann::json description = {{"name", dataset.name},
          {"path", dataset.sourcePath},
          {"neurons", dataset.neuronCount},
          {"trials", dataset.trialCount()},
          {"image_shape", {dataset.channels, dataset.height, dataset.width}}};
  if (const auto format = detectDatasetFormat(dataset.sourcePath); format == DatasetFormat::NeuralNwb)
    description["nwb_read_options"] = toJson(nwb);
  return description;
}

// The recordings a command was given ('default' when none), read with the NWB options and brought
// to one image size (each resize logged, and returned for the record).
struct Recordings {
  std::vector<NeuralDataset> datasets;
  std::vector<std::string> resized;
  std::vector<const NeuralDataset*> pointers() const {
    std::vector<const NeuralDataset*> list;
    for (const auto& dataset : datasets) list.push_back(&dataset);
    return list;
  }
};

Recordings loadRecordings(std::vector<std::string> paths, const NwbReadOptions& nwb, const Job& job) {
  if (paths.empty()) paths.push_back("default");
  Recordings recordings;
  for (std::size_t r = 0; r < paths.size(); ++r)
    recordings.datasets.push_back(loadNeuralOrDefault(
        paths[r], job.subJob(static_cast<double>(r) / paths.size(), static_cast<double>(r + 1) / paths.size()), nwb));
  giveDistinctNames(recordings.datasets);
  recordings.resized = bringToOneImageSize(recordings.datasets);
  for (const auto& sentence : recordings.resized) logInfo(sentence);
  return recordings;
}

// One model per dataset: a file of several recordings needs as many datasets, in its order.
std::vector<FittedNeuralModel> loadModelsFor(const std::string& modelPath, const Recordings& recordings) {
  std::vector<FittedNeuralModel> models = loadNeuralModels(modelPath);
  if (models.size() != recordings.datasets.size()) {
    std::string names;
    for (const auto& fitted : models) names += (names.empty() ? "" : ", ") + fitted.recording;
    throw Error(modelPath + " models " + std::to_string(models.size()) + " recording(s)" +
                (models.size() > 1 ? " (" + names + ")" : std::string()) + "; give as many datasets, in that order (" +
                std::to_string(recordings.datasets.size()) + " given)");
  }
  return models;
}

struct FitOptions {
  std::vector<std::string> datasets;
  std::string config;
  std::string output = "neural-model.pt";
  std::string metrics;
  std::string core;
  std::string readout;
  bool shifter = false;
  bool modulator = false;
  int epochs = 0;
  double minutes = 0.0;
  std::int64_t seed = -1;
  std::string checkpoint;
  bool resume = false;
  DataParallelOptions dataParallel;
  NwbReadOptions nwb;
};

void runFit(const GlobalOptions& global, const FitOptions& options) {
  if (runAsLocalWorkers(global, options.dataParallel)) return;
  const DataParallelWorker worker = joinDataParallelLaunch(global, options.dataParallel);
  DataParallelGroup* group = worker.group.get();
  const auto job = progressJob(worker.speaker);
  NeuralModelConfig modelConfig;
  NeuralTrainerConfig trainerConfig;
  if (!options.config.empty()) {
    std::tie(modelConfig, trainerConfig) = readConfigFile(options.config, [](const nlohmann::json& json) {
      ConfigReader reader(json, "fit config");
      NeuralModelConfig model;
      NeuralTrainerConfig trainer;
      if (const nlohmann::json* found = reader.find("model")) model = neuralModelConfigFromJson(*found);
      if (const nlohmann::json* found = reader.find("trainer")) trainer = neuralTrainerConfigFromJson(*found);
      reader.finish();
      return std::pair{model, trainer};
    });
  }
  // Command-line settings win over the file's.
  if (!options.core.empty() || !options.readout.empty() || options.shifter || options.modulator) {
    nlohmann::json json = toJson(modelConfig);
    if (!options.core.empty()) json["core"] = options.core;
    if (!options.readout.empty()) json["readout"] = options.readout;
    if (options.shifter) json["shifter"] = true;
    if (options.modulator) json["modulator"] = true;
    modelConfig = neuralModelConfigFromJson(json);
  }
  if (options.epochs > 0) trainerConfig.maxEpochs = options.epochs;
  if (options.minutes > 0.0) trainerConfig.maxSeconds = options.minutes * 60.0;
  if (options.seed >= 0) trainerConfig.seed = static_cast<std::uint64_t>(options.seed);

  const Recordings recordings = loadRecordings(options.datasets, options.nwb, job.subJob(0.0, 0.05));
  NeuralFitControl control;
  control.checkpoint = options.checkpoint.empty() ? options.output + ".checkpoint" : options.checkpoint;
  control.resume = options.resume;
  control.group = group;
  NeuralFitResult fit;
  try {
    fit = fitNeuralModel(recordings.pointers(), modelConfig, trainerConfig, job.subJob(0.05, 0.9), {}, control);
  } catch (const std::exception& error) {
    if (group) group->reportStopping(error.what());
    throw;
  }
  // Rank 0 alone writes the model, evaluates it and reports.
  if (group && !group->leads()) return;
  saveNeuralModels(fit.fitted, options.output);
  std::vector<NeuralModelEvaluation> evaluations;
  const double recordingCount = static_cast<double>(fit.fitted.size());
  for (std::size_t r = 0; r < fit.fitted.size(); ++r)
    evaluations.push_back(evaluateNeuralModel(fit.fitted[r], recordings.datasets[r], Tier::Test,
                                              job.subJob(0.9 + 0.1 * r / recordingCount, 0.9 + 0.1 * (r + 1) / recordingCount)));
  // Over several recordings, the test figures are the pooled population's; each recording's follow.
  const NeuralModelEvaluation evaluation = evaluations.size() == 1 ? evaluations.front() : poolEvaluations(evaluations);

  nlohmann::json record = {{"format", "brainprior neural fit"},
                           {"version", 1},
                           {"created", utcTimestamp()},
                           {"model_file", options.output},
                           {"dataset", describeDataset(recordings.datasets.front(), options.nwb)},
                           {"model", toJson(fit.fitted.front().model->config())},
                           {"trainer", toJson(trainerConfig)},
                           {"fit", toJson(fit)},
                           {"test_evaluation", toJson(evaluation)},
                           {"runtime", toJson(runtimeInfo())},
                           {"workers", describeWorkers(group)}};
  if (recordings.datasets.size() > 1) {
    nlohmann::json each = nlohmann::json::array();
    for (std::size_t r = 0; r < recordings.datasets.size(); ++r)
      each.push_back({{"dataset", describeDataset(recordings.datasets[r], options.nwb)},
                      {"model", toJson(fit.fitted[r].model->config())},
                      {"test_evaluation", toJson(evaluations[r])}});
    record.erase("dataset");
    record["recordings"] = each;
    record["resized"] = recordings.resized;
  }
  const std::string metrics = options.metrics.empty() ? options.output + ".metrics.json" : options.metrics;
  writeFileAtomically(metrics, record.dump(2) + "\n");
  // The checkpoint is only for continuing an interrupted fit; the finished model replaces it.
  std::filesystem::remove(control.checkpoint);
  nlohmann::json perRecording = nlohmann::json::array();
  for (std::size_t r = 0; r < evaluations.size() && evaluations.size() > 1; ++r)
    perRecording.push_back({{"recording", fit.fitted[r].recording},
                            {"neurons", recordings.datasets[r].neuronCount},
                            {"test_mean_average_correlation", evaluations[r].meanAverageCorrelation},
                            {"test_fraction_of_oracle", evaluations[r].fractionOfOracleSlope},
                            {"test_mean_feve", evaluations[r].meanFeve}});
  nlohmann::json result = {{"model_file", options.output},
                           {"metrics_file", metrics},
                           {"epochs", fit.history.size()},
                           {"best_epoch", fit.bestEpoch},
                           {"stop_reason", fit.stopReason},
                           {"seconds", fit.seconds},
                           {"device", fit.device},
                           {"best_validation_correlation", fit.bestValidationCorrelation},
                           {"test_mean_average_correlation", evaluation.meanAverageCorrelation},
                           {"test_mean_single_trial_correlation", evaluation.meanSingleTrialCorrelation},
                           {"test_mean_oracle_correlation", evaluation.meanOracleCorrelation},
                           {"test_fraction_of_oracle", evaluation.fractionOfOracleSlope},
                           {"test_mean_feve", evaluation.meanFeve}};
  if (!perRecording.empty()) result["recordings"] = perRecording;
  printJson(result);
}

struct EvaluateOptions {
  std::string model;
  std::vector<std::string> datasets;
  std::string tier = "test";
  std::string output;
  NwbReadOptions nwb;
};

void runEvaluate(const GlobalOptions& global, const EvaluateOptions& options) {
  startRuntime(global);
  const auto job = progressJob(global);
  const auto tier = parseTier(options.tier);
  if (!tier) throw Error("unknown tier '" + options.tier + "'");
  const Recordings recordings = loadRecordings(options.datasets, options.nwb, job.subJob(0.0, 0.3));
  const std::vector<FittedNeuralModel> models = loadModelsFor(options.model, recordings);
  std::vector<NeuralModelEvaluation> evaluations;
  nlohmann::json each = nlohmann::json::array();
  const double count = static_cast<double>(models.size());
  for (std::size_t r = 0; r < models.size(); ++r) {
    evaluations.push_back(evaluateNeuralModel(models[r], recordings.datasets[r], *tier,
                                              job.subJob(0.3 + 0.7 * r / count, 0.3 + 0.7 * (r + 1) / count)));
    nlohmann::json part = toJson(evaluations.back());
    part["dataset"] = describeDataset(recordings.datasets[r], options.nwb);
    each.push_back(part);
  }
  // One recording: its evaluation; several: the pooled population's, then each recording's.
  nlohmann::json record = toJson(evaluations.size() == 1 ? evaluations.front() : poolEvaluations(evaluations));
  record["tier"] = tierName(*tier);
  record["model_file"] = options.model;
  if (evaluations.size() == 1) record["dataset"] = each.front()["dataset"];
  else record["recordings"] = each;
  if (!options.output.empty()) writeFileAtomically(options.output, record.dump(2) + "\n");
  std::int64_t neurons = 0;
  for (const auto& dataset : recordings.datasets) neurons += dataset.neuronCount;
  printJson({{"tier", tierName(*tier)},
             {"neurons", neurons},
             {"recordings", evaluations.size()},
             {"mean_average_correlation", record["mean_average_correlation"]},
             {"mean_single_trial_correlation", record["mean_single_trial_correlation"]},
             {"mean_oracle_correlation", record["mean_oracle_correlation"]},
             {"fraction_of_oracle", record["fraction_of_oracle_slope"]},
             {"mean_feve", record["mean_feve"]}});
}

// Predictions for a neural dataset (one row per distinct image of the tier) or any image dataset
// (resized to the model's input).
FeatureMatrix predictionsFor(const FittedNeuralModel& fitted, const std::string& input, const std::string& tierChoice,
                             const std::string& split, std::int64_t maxImages, const NwbReadOptions& nwb,
                             const Job& job) {
  const auto format = detectDatasetFormat(input);
  if (input == "default" || (format && isNeuralFormat(*format))) {
    const NeuralDataset dataset = loadNeuralOrDefault(input, job.subJob(0.0, 0.3), nwb);
    return predictedFeatures(dataset, predictResponses(fitted, dataset, job.subJob(0.3, 1.0)), tierFromChoice(tierChoice));
  }
  ImageLoadOptions options = modelInputOptions(fitted);
  options.maxImages = maxImages;
  const ImageDataset images = loadImageDataset(input, options, split, job.subJob(0.0, 0.3));
  return predictedFeatures(fitted, images, job.subJob(0.3, 1.0));
}

struct PredictOptions {
  std::string model;
  std::string input = "default";
  std::string output = "predictions.npy";
  std::string tier = "all";
  std::string split = "train";
  std::int64_t maxImages = 0;
  NwbReadOptions nwb;
};

void runPredict(const GlobalOptions& global, const PredictOptions& options) {
  startRuntime(global);
  const auto job = progressJob(global);
  const FittedNeuralModel fitted = loadNeuralModel(options.model);
  const FeatureMatrix features = predictionsFor(fitted, options.input, options.tier, options.split, options.maxImages, options.nwb, job);
  writeNpy(options.output, makeNpy(features.values, {features.rows, features.cols}));
  const std::string ids = options.output.substr(0, options.output.size() - 4) + ".image_ids.npy";
  writeNpy(ids, makeNpy(features.imageIds, {features.rows}));
  printJson({{"predictions", options.output}, {"image_ids", ids}, {"images", features.rows}, {"neurons", features.cols},
             {"source", features.source}});
}

struct TargetOptions {
  std::string model;
  std::vector<std::string> datasets;
  std::string images;
  std::string split = "train";
  std::int64_t maxImages = 5000;
  std::string tier = "all";
  std::string output = "target.h5";
  std::string measure = "centred-cosine";
  bool unweighted = false;
  bool check = false;
  NwbReadOptions nwb;
};

void runTarget(const GlobalOptions& global, const TargetOptions& options) {
  startRuntime(global);
  const auto job = progressJob(global);
  const Recordings recordings = loadRecordings(options.datasets, options.nwb, job.subJob(0.0, 0.1));
  const std::vector<FittedNeuralModel> models = loadModelsFor(options.model, recordings);
  std::optional<ImageDataset> images;
  if (!options.images.empty()) {
    ImageLoadOptions loadOptions = modelInputOptions(models.front());
    for (const auto& fitted : models) {
      const ImageLoadOptions own = modelInputOptions(fitted);
      if (own.rangeMin != loadOptions.rangeMin || own.rangeMax != loadOptions.rangeMax)
        throw Error("the recordings of " + options.model +
                    " were fitted on different pixel ranges; build one target per recording instead");
    }
    loadOptions.maxImages = options.maxImages;
    images = loadImageDataset(options.images, loadOptions, options.split, job.subJob(0.1, 0.2));
  }
  NeuralTargetConfig config;
  const auto measure = parseSimilarityMeasure(options.measure);
  if (!measure) throw Error("unknown measure '" + options.measure + "'");
  config.measure = *measure;
  config.weighted = !options.unweighted;
  config.tier = tierFromChoice(options.tier);
  config.check = options.check;

  SimilarityDistribution distribution;
  std::vector<NeuralTargetPlan> plans;
  std::int64_t rows = 0;
  if (models.size() > 1) {
    // Li et al.'s target of several scans: a matrix per recording, then their mean.
    NeuralCorpusTarget target = buildNeuralCorpusTarget(models, recordings.pointers(), images ? &*images : nullptr,
                                                        config, job.subJob(0.2, 0.9));
    target.matrix.provenance["neural_target"]["model_file"] = options.model;
    writeSimilarityMatrix(target.matrix, options.output, job.subJob(0.9, 1.0));
    distribution = describeSimilarity(target.matrix);
    rows = target.matrix.size;
    plans = std::move(target.plans);
  } else {
    plans.push_back(planNeuralTarget(models.front(), recordings.datasets.front(), images ? &*images : nullptr, config,
                                     job.subJob(0.2, 0.5)));
    const NeuralTargetPlan& plan = plans.front();
    rows = plan.features.rows;
    if (plan.features.rows > kInMemorySimilarityLimit) {
      computeSimilarityToFile(plan.features, plan.similarity, options.output, job.subJob(0.5, 1.0));
      distribution = describeSimilarity(SimilarityMatrixFile::open(options.output));  // read back in blocks
    } else {
      SimilarityMatrix matrix = computeSimilarity(plan.features, plan.similarity, job.subJob(0.5, 0.9));
      matrix.provenance["neural_target"] = plan.provenance;
      matrix.provenance["neural_target"]["model_file"] = options.model;
      writeSimilarityMatrix(matrix, options.output, job.subJob(0.9, 1.0));
      distribution = describeSimilarity(matrix);
    }
  }
  if (!distribution.degenerate.empty()) logWarning(options.output + ": " + distribution.degenerate);
  const NeuralTargetPlan& first = plans.front();
  nlohmann::json result = {{"target", options.output},
                           {"images", rows},
                           {"neurons", first.features.cols},
                           {"weighted_neurons", first.provenance["weighted_neurons"]},
                           {"source", first.features.source},
                           {"distribution", toJson(distribution)}};
  if (first.check) result["denoising_check"] = toJson(*first.check);
  if (plans.size() > 1) {
    // Each recording's part: its neurons, weights and denoising check.
    nlohmann::json each = nlohmann::json::array();
    std::int64_t neurons = 0;
    for (std::size_t r = 0; r < plans.size(); ++r) {
      nlohmann::json part = {{"recording", models[r].recording},
                             {"neurons", plans[r].features.cols},
                             {"weighted_neurons", plans[r].provenance["weighted_neurons"]}};
      if (plans[r].check) part["denoising_check"] = toJson(*plans[r].check);
      each.push_back(part);
      neurons += plans[r].features.cols;
    }
    result["neurons"] = neurons;
    result.erase("weighted_neurons");
    result.erase("denoising_check");
    result["recordings"] = each;
  }
  printJson(result);
}

struct MeiOptions {
  std::string model;
  std::vector<std::int64_t> neurons;
  std::string output = "mei.npy";
  MeiConfig config;
};

void runMei(const GlobalOptions& global, const MeiOptions& options) {
  startRuntime(global);
  const auto job = progressJob(global);
  const FittedNeuralModel fitted = loadNeuralModel(options.model);
  const auto meis = computeMostExcitingInputs(fitted, options.neurons, options.config, job);
  const NeuralModelConfig& config = fitted.model->config();
  std::vector<float> images;
  nlohmann::json summary = nlohmann::json::array();
  for (const auto& mei : meis) {
    images.insert(images.end(), mei.image.begin(), mei.image.end());
    summary.push_back({{"neuron", mei.neuron}, {"activation", mei.activation}, {"start_activation", mei.startActivation}});
  }
  writeNpy(options.output, makeNpy(images, {static_cast<std::int64_t>(meis.size()), config.inputChannels,
                                            config.inputHeight, config.inputWidth}));
  printJson({{"images", options.output}, {"config", toJson(options.config)}, {"neurons", summary}});
}

}  // namespace

void addModelCommands(CLI::App& app, GlobalOptions& global) {
  auto fit = std::make_shared<FitOptions>();
  CLI::App* fitCommand = app.add_subcommand(
      "fit", "Fit a predictive model of the neurons (core + readout); writes the model, its metrics and a test evaluation");
  fitCommand->add_option("datasets", fit->datasets,
                         "Neural dataset(s), or 'default' for the embedded population (the default). Several "
                         "recordings fit one model: a shared core, a readout per recording (images brought to the "
                         "first one's size)");
  fitCommand->add_option("--config", fit->config, "JSON file {\"model\": {...}, \"trainer\": {...}}");
  fitCommand->add_option("-o,--output", fit->output, "Model file")->capture_default_str();
  fitCommand->add_option("--metrics", fit->metrics, "Metrics JSON (default: <output>.metrics.json)");
  fitCommand->add_option("--core", fit->core, "Core kind")->check(CLI::IsMember({"stacked", "rotation_equivariant"}));
  fitCommand->add_option("--readout", fit->readout, "Readout kind")->check(CLI::IsMember({"gaussian", "factorized"}));
  fitCommand->add_flag("--shifter", fit->shifter,
                       "Shift the readout positions with the pupil centre, trial by trial (needs pupil_center data "
                       "and the Gaussian readout)");
  fitCommand->add_flag("--modulator", fit->modulator,
                       "Scale each neuron's rate by a gain learned from the behaviour (pupil dilation, its "
                       "derivative, running speed; needs behavior data)");
  fitCommand->add_option("--epochs", fit->epochs, "Maximum epochs")->check(CLI::PositiveNumber);
  fitCommand->add_option("--minutes", fit->minutes, "Stop after this much training time, keeping the best weights")
      ->check(CLI::PositiveNumber);
  fitCommand->add_option("--seed", fit->seed, "Random seed")->check(CLI::NonNegativeNumber);
  fitCommand->add_option("--checkpoint", fit->checkpoint, "Checkpoint file (default: <output>.checkpoint)");
  fitCommand->add_flag("--resume", fit->resume, "Continue from the checkpoint when it exists");
  addDataParallelOptions(*fitCommand, fit->dataParallel);
  addNwbOptions(*fitCommand, fit->nwb);
  fitCommand->callback([&global, fit] { runFit(global, *fit); });

  auto evaluate = std::make_shared<EvaluateOptions>();
  CLI::App* evaluateCommand =
      app.add_subcommand("evaluate", "Per-neuron correlation, oracle, FEVe and fraction of oracle of a fitted model");
  evaluateCommand->add_option("model", evaluate->model, "Model file")->required();
  evaluateCommand->add_option("datasets", evaluate->datasets,
                              "Neural dataset or 'default' (the default); for a model of several recordings, one per "
                              "recording in the model's order");
  evaluateCommand->add_option("--tier", evaluate->tier, "Tier")
      ->check(CLI::IsMember({"train", "validation", "test"}))
      ->capture_default_str();
  evaluateCommand->add_option("-o,--output", evaluate->output, "Write the per-neuron JSON here");
  addNwbOptions(*evaluateCommand, evaluate->nwb);
  evaluateCommand->callback([&global, evaluate] { runEvaluate(global, *evaluate); });

  auto predict = std::make_shared<PredictOptions>();
  CLI::App* predictCommand = app.add_subcommand(
      "predict", "Predicted responses (images x neurons .npy) for a neural dataset or any image dataset");
  predictCommand->add_option("model", predict->model, "Model file")->required();
  predictCommand->add_option("input", predict->input, "Neural dataset, 'default', or an image dataset (IDX, CIFAR, folder)")
      ->capture_default_str();
  predictCommand->add_option("-o,--output", predict->output, "Output .npy (image ids go to <output>.image_ids.npy)")
      ->capture_default_str();
  predictCommand->add_option("--tier", predict->tier, "Neural dataset tier")
      ->check(CLI::IsMember({"all", "train", "validation", "test"}))
      ->capture_default_str();
  predictCommand->add_option("--split", predict->split, "Image dataset split")->capture_default_str();
  predictCommand->add_option("--max-images", predict->maxImages, "Use the first N images (0: all)")
      ->check(CLI::NonNegativeNumber);
  addNwbOptions(*predictCommand, predict->nwb);
  predictCommand->callback([&global, predict] { runPredict(global, *predict); });

  auto target = std::make_shared<TargetOptions>();
  CLI::App* targetCommand = app.add_subcommand(
      "target", "The denoised neural similarity target: model predictions weighted by reliability x prediction quality");
  targetCommand->add_option("model", target->model, "Model file")->required();
  targetCommand->add_option("datasets", target->datasets,
                            "The neural dataset the model was fitted to (for the weights; 'default' when none); for "
                            "a model of several recordings one per recording, and the target is the mean of their "
                            "matrices");
  targetCommand->add_option("--images", target->images, "Image dataset to build the target over (default: the dataset's images)");
  targetCommand->add_option("--split", target->split, "Image dataset split")->capture_default_str();
  targetCommand->add_option("--max-images", target->maxImages, "First N images of --images (0: all)")
      ->capture_default_str();
  targetCommand->add_option("--tier", target->tier, "Neural dataset tier for the rows")
      ->check(CLI::IsMember({"all", "train", "validation", "test"}))
      ->capture_default_str();
  targetCommand->add_option("-o,--output", target->output, "Similarity matrix file (.h5)")->capture_default_str();
  targetCommand->add_option("--measure", target->measure, "centred-cosine, pearson or euclidean")->capture_default_str();
  targetCommand->add_flag("--unweighted", target->unweighted, "Every neuron counts equally");
  targetCommand->add_flag("--check", target->check,
                          "Also report the paper's denoising check on the test repeats");
  addNwbOptions(*targetCommand, target->nwb);
  targetCommand->callback([&global, target] { runTarget(global, *target); });

  auto mei = std::make_shared<MeiOptions>();
  CLI::App* meiCommand = app.add_subcommand("mei", "Most exciting inputs of chosen neurons (gradient ascent on the image)");
  meiCommand->add_option("model", mei->model, "Model file")->required();
  meiCommand->add_option("--neurons", mei->neurons, "Neuron indices")->required()->delimiter(',');
  meiCommand->add_option("-o,--output", mei->output, "Images .npy (neurons x channels x height x width)")
      ->capture_default_str();
  meiCommand->add_option("--steps", mei->config.steps, "Gradient steps")->capture_default_str();
  meiCommand->add_option("--contrast", mei->config.contrast, "RMS contrast in normalised units")->capture_default_str();
  meiCommand->add_option("--blur", mei->config.blurSigma, "Gradient blur sigma (pixels)")->capture_default_str();
  meiCommand->add_option("--seed", mei->config.seed, "Random start seed")->capture_default_str();
  meiCommand->callback([&global, mei] { runMei(global, *mei); });
}

}  // namespace bp::cli
