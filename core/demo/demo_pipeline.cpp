#include "demo/demo_pipeline.h"

#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>

#include "classifiers/classifier_trainer.h"
#include "classifiers/run_folder.h"
#include "data/dataset_io.h"
#include "data/default_data.h"
#include "data/synthetic_v1.h"
#include "measures/chance_level.h"
#include "probing/probe_config.h"
#include "probing/probe_runner.h"
#include "runtime/number_format.h"
#include "rsa/matrix_file.h"
#include "rsa/similarity.h"
#include "rsa/similarity_distribution.h"
#include "runtime/atomic_file.h"
#include "runtime/config_reader.h"
#include "runtime/error.h"
#include "runtime/runtime.h"
#include "training/neural_target.h"
#include "training/neural_trainer.h"
#include "runtime/undefined.h"

namespace bp {
namespace {

namespace fs = std::filesystem;

constexpr const char* kDemoFormat = "brainprior demo";
constexpr int kDemoVersion = 1;
// The launches are named "demo-<role>" ("demo-baseline"), so that their run folders say which demo
// made them; the findings call them by their role alone.
constexpr const char* kLaunchPrefix = "demo-";

std::string launchName(const std::string& role) { return kLaunchPrefix + role; }

// Runs one step: announces it, runs `body` (which fills the finding and the result), times it.
class StepRunner {
 public:
  StepRunner(DemoResult& result, const DemoStepCallback& onStep) : result_(result), onStep_(onStep) {}

  template <class Body>
  void run(const std::string& title, const std::string& narration, Body body) {
    DemoStep step;
    step.title = title;
    step.narration = narration;
    if (onStep_) onStep_(step, false);
    const auto start = std::chrono::steady_clock::now();
    body(step);
    step.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (onStep_) onStep_(step, true);
    result_.steps.push_back(std::move(step));
  }

 private:
  DemoResult& result_;
  const DemoStepCallback& onStep_;
};

// The three launches' training config: the small ResNet on Fashion-MNIST (the engine's JSON, so
// that the run folders hold configs `brainprior-cli train --config` repeats).
nlohmann::json launchConfig(const DemoConfig& config, const std::string& name, const nlohmann::json& regularizer) {
  nlohmann::json seeds = nlohmann::json::array();
  for (const std::uint64_t seed : config.seeds) seeds.push_back(seed);
  return {{"name", name},
          {"data",
           {{"path", defaultImageSourcePath().string()},
            {"max_train_images", config.trainImages},
            {"max_test_images", config.testImages},
            {"validation_fraction", 0.05}}},
          {"model",
           {{"architecture", "small_resnet"},
            {"width", 16},
            {"class_count", 10},
            // Fashion-MNIST's pixel mean and standard deviation.
            {"image_mean", {0.2860}},
            {"image_std", {0.3530}}}},
          {"optimizer", {{"learning_rate", 0.05}, {"nesterov", true}}},
          {"schedule", {{"kind", "cosine"}}},
          {"epochs", config.epochs},
          {"seeds", seeds},
          {"regularizer", regularizer}};
}

}  // namespace

nlohmann::json toJson(const DemoConfig& config) {
  return {{"output_dir", config.outputDir.string()}, {"fit_epochs", config.fitEpochs},
          {"target_images", config.targetImages},    {"train_images", config.trainImages},
          {"test_images", config.testImages},        {"epochs", config.epochs},
          {"alpha", config.alpha},                   {"seeds", config.seeds},
          {"probe_images", config.probeImages}};
}

DemoConfig demoConfigFromJson(const nlohmann::json& json) {
  DemoConfig config;
  ConfigReader reader(json, "demo config");
  std::string outputDir = config.outputDir.string();
  reader.read("output_dir", outputDir);
  config.outputDir = outputDir;
  reader.read("fit_epochs", config.fitEpochs);
  reader.read("target_images", config.targetImages);
  reader.read("train_images", config.trainImages);
  reader.read("test_images", config.testImages);
  reader.read("epochs", config.epochs);
  reader.read("alpha", config.alpha);
  reader.read("seeds", config.seeds);
  reader.read("probe_images", config.probeImages);
  reader.finish();
  return config;
}

void validate(const DemoConfig& config) {
  if (config.outputDir.empty()) throw Error("demo: no output folder");
  if (config.fitEpochs < 1) throw Error("demo: fit_epochs must be at least 1");
  if (config.targetImages < 20) throw Error("demo: target_images must be at least 20");
  if (config.trainImages < 100) throw Error("demo: train_images must be at least 100");
  if (config.testImages < 10) throw Error("demo: test_images must be at least 10");
  if (config.epochs < 1) throw Error("demo: epochs must be at least 1");
  if (!std::isfinite(config.alpha) || config.alpha < 0.0) throw Error("demo: alpha must be a number >= 0");
  if (config.seeds.empty()) throw Error("demo: no seeds");
  if (config.probeImages < 10) throw Error("demo: probe_images must be at least 10");
}

std::optional<std::string> demoSettingsWarning(const DemoResult& result) {
  std::size_t flagged = 0;
  for (const DemoStep& step : result.steps) flagged += step.warnings.size();
  if (flagged == 0) return std::nullopt;
  const DemoConfig& config = result.config;
  return std::to_string(flagged) +
         (flagged == 1 ? " figure of this demo is not a finding" : " figures of this demo are not findings") +
         " (see the warnings): with " + std::to_string(config.trainImages) +
         " train images, " + std::to_string(config.epochs) + " classifier " + (config.epochs == 1 ? "epoch" : "epochs") +
         " and " + std::to_string(config.fitEpochs) + " model " + (config.fitEpochs == 1 ? "epoch" : "epochs") +
         " the classifiers or the target are too weak to show the effect of a neural prior; raise them before "
         "drawing conclusions.";
}

nlohmann::json toJson(const DemoResult& result) {
  nlohmann::json steps = nlohmann::json::array();
  for (const DemoStep& step : result.steps)
    steps.push_back({{"title", step.title},
                     {"narration", step.narration},
                     {"finding", step.finding},
                     {"warnings", step.warnings},
                     {"seconds", step.seconds},
                     {"result", step.result}});
  nlohmann::json json = {{"format", kDemoFormat},
                         {"version", kDemoVersion},
                         {"config", toJson(result.config)},
                         {"steps", steps},
                         {"seconds", result.seconds},
                         {"runtime", toJson(runtimeInfo())}};
  if (const auto warning = demoSettingsWarning(result)) json["warning"] = *warning;
  return json;
}

DemoResult runDemo(const DemoConfig& config, const Job& job, const DemoStepCallback& onStep) {
  validate(config);
  const DemoFiles files = demoFiles(config.outputDir);
  if (fs::exists(files.summary) || fs::exists(files.runs))
    throw Error("demo: " + config.outputDir.string() + " already holds a demo; choose an empty folder");
  fs::create_directories(config.outputDir);

  DemoResult result;
  result.config = config;
  const auto start = std::chrono::steady_clock::now();
  StepRunner steps(result, onStep);
  // Shares of the progress bar, by how long each step takes on a 2-core CPU.
  const Job dataJob = job.subJob(0.0, 0.03);
  const Job fitJob = job.subJob(0.03, 0.25);
  const Job targetJob = job.subJob(0.25, 0.3);
  const Job trainJob = job.subJob(0.3, 0.85);
  const Job probeJob = job.subJob(0.85, 1.0);

  std::optional<NeuralDataset> dataset;
  const SyntheticV1Config population;
  steps.run(kDemoStepTitles[0],
            std::to_string(population.neuronCount) +
                " synthetic mouse-V1 neurons (Gabor simple and complex cells with known receptive fields) "
                "respond to Fashion-MNIST images, with trial-to-trial noise that is partly shared across "
                "neurons, as in cortex; the test images are shown " +
                std::to_string(population.testRepeats) + " times.",
            [&](DemoStep& step) {
              dataset = generateDefaultDataset(population, dataJob).dataset;
              step.result = {{"neurons", dataset->neuronCount}, {"trials", dataset->trialCount()}};
              step.finding = std::to_string(dataset->neuronCount) + " neurons, " +
                             std::to_string(dataset->trialCount()) + " trials.";
            });

  std::optional<FittedNeuralModel> fitted;
  steps.run(kDemoStepTitles[1],
            "A convolutional core shared by all neurons and a readout per neuron learn to predict every "
            "response from the image; its predictions are free of trial noise.",
            [&](DemoStep& step) {
              NeuralFitSettings settings = defaultNeuralFitSettings(*dataset, CoreKind::Stacked);
              settings.trainer.maxEpochs = config.fitEpochs;
              settings.trainer.maxSeconds = 0.0;
              settings.trainer.seed = 1;
              NeuralFitResult fit = fitNeuralModel(*dataset, settings.model, settings.trainer, fitJob.subJob(0.0, 0.9));
              const NeuralModelEvaluation evaluation =
                  evaluateNeuralModel(fit.fitted.front(), *dataset, Tier::Test, fitJob.subJob(0.9, 1.0));
              saveNeuralModel(fit.fitted.front(), files.model);
              step.result = toJson(fit);
              step.result.erase("history");
              step.result["test_correlation_to_average"] = finiteOrNull(evaluation.meanAverageCorrelation);
              step.result["fraction_of_oracle"] = finiteOrNull(evaluation.fractionOfOracleSlope);
              step.finding = "Test correlation with the repeat-averaged responses " +
                             formatFixed(evaluation.meanAverageCorrelation, 3) + ", " +
                             formatFixed(evaluation.fractionOfOracleSlope, 2) + " of the oracle, after " +
                             std::to_string(fit.history.size()) + (fit.history.size() == 1 ? " epoch." : " epochs.");
              fitted = std::move(fit.fitted.front());
            });

  steps.run(kDemoStepTitles[2],
            "The model predicts the neurons' responses to " + std::to_string(config.targetImages) +
                " Fashion-MNIST training images; the centred cosine similarity of every pair of predicted "
                "responses, neurons weighted by reliability and prediction quality, is the target.",
            [&](DemoStep& step) {
              ImageLoadOptions options = modelInputOptions(*fitted);
              options.maxImages = config.targetImages;
              const ImageDataset images =
                  loadImageDataset(defaultImageSourcePath(), options, "train", targetJob.subJob(0.0, 0.2));
              NeuralTargetConfig targetConfig;
              targetConfig.check = true;
              const NeuralTargetPlan plan =
                  planNeuralTarget(*fitted, *dataset, &images, targetConfig, targetJob.subJob(0.2, 0.7));
              SimilarityMatrix matrix = computeSimilarity(plan.features, plan.similarity, targetJob.subJob(0.7, 0.9));
              matrix.provenance["neural_target"] = plan.provenance;
              writeSimilarityMatrix(matrix, files.target, targetJob.subJob(0.9, 1.0));
              const SimilarityDistribution distribution = describeSimilarity(matrix);
              step.result = {{"images", plan.features.rows},
                             {"target", files.target.string()},
                             {"distribution", toJson(distribution)}};
              step.finding = std::to_string(plan.features.rows) + " x " + std::to_string(plan.features.rows) +
                             " similarity matrix: " + summarize(distribution) + ".";
              if (plan.check) {
                step.result["denoising_check"] = toJson(*plan.check);
                // Against the other repeats' average: a trial compared with an average that contains
                // it shares its noise, which flatters single trials.
                step.finding += " On the repeated test images the predicted similarity agrees " +
                                formatFixed(plan.check->predictedAgreement, 2) +
                                " with the repeat average; a single trial agrees " +
                                formatFixed(plan.check->singleTrialAgreementOtherRepeats, 2) +
                                " with the other repeats' average.";
                if (const auto warning = denoisingCheckWarning(*plan.check)) step.warnings.push_back(*warning);
              }
              if (!distribution.degenerate.empty()) step.warnings.push_back(distribution.degenerate);
            });

  std::vector<fs::path> runFolders;
  steps.run(kDemoStepTitles[3],
            "A small ResNet learns Fashion-MNIST three times: without a prior (baseline), with its "
            "intermediate similarities pulled towards the neural target (alpha " + formatFixed(config.alpha, 1) +
                "), and towards the same target with its images shuffled (the control: same strength, no "
                "brain structure).",
            [&](DemoStep& step) {
              const nlohmann::json neural = {
                  {"kind", "neural_similarity"},
                  {"alpha", config.alpha},
                  {"pair_batch_size", 16},
                  {"target",
                   {{"source", "matrix_file"},
                    {"matrix_file", files.target.string()},
                    {"images",
                     {{"path", defaultImageSourcePath().string()}, {"split", "train"}, {"max_images", config.targetImages}}}}}};
              nlohmann::json shuffled = neural;
              shuffled["target"]["shuffled"] = true;
              // Role and regularizer of each launch.
              const std::vector<std::pair<std::string, nlohmann::json>> launches = {
                  {"baseline", {{"kind", "none"}}}, {"neural", neural}, {"shuffled", shuffled}};
              step.result = nlohmann::json::object();
              for (std::size_t i = 0; i < launches.size(); ++i) {
                const std::string name = launchName(launches[i].first);
                const ClassifierTrainingConfig training =
                    classifierTrainingConfigFromJson(launchConfig(config, name, launches[i].second));
                const double share = 1.0 / static_cast<double>(launches.size());
                const std::vector<RunRecord> runs =
                    trainRuns(training, files.runs, false,
                              trainJob.subJob(share * static_cast<double>(i), share * static_cast<double>(i + 1)));
                std::vector<double> accuracies;
                for (const RunRecord& run : runs) {
                  runFolders.push_back(run.folder);
                  accuracies.push_back(run.testAccuracy);
                }
                step.result[name] = accuracies;
                step.finding += (i > 0 ? ", " : "Test accuracy: ") + launches[i].first + " " +
                                formatFixed(accuracies.front(), 3);
                for (std::size_t seed = 0; seed < runs.size(); ++seed)
                  if (const auto warning = chanceLevelWarning(runs[seed].name, accuracies[seed],
                                                              training.model.classCount, config.testImages))
                    step.warnings.push_back(*warning);
              }
              step.finding += ".";
            });

  steps.run(kDemoStepTitles[4],
            "Every classifier sees " + std::to_string(config.probeImages) +
                " test images with Gaussian noise of growing strength, and PGD searches for the smallest "
                "perturbation that changes its answer (the median over images is the paper's measure).",
            [&](DemoStep& step) {
              ProbeReportFolderConfig probeFolder;
              for (const fs::path& folder : runFolders) probeFolder.runs.push_back(folder.string());
              probeFolder.probe = probePreset("quick");
              probeFolder.probe.maxImages = config.probeImages;
              probeFolder.outputDir = files.probeReport.parent_path();
              ProbeReportFolder written = writeProbeReportFolder(probeFolder, probeJob);
              result.probe = std::move(written.json);
              const ProbeReport& report = written.report;
              step.warnings = report.warnings;
              step.result = nlohmann::json::array();
              for (const LaunchProbe& launch : report.launches) {
                const double area = launch.meanCorruptionAreas.empty() ? kUndefined : launch.meanCorruptionAreas.front();
                const double l2 = launch.minimumNorms.size() > 1 ? launch.minimumNorms[1].meanMedianL2 : kUndefined;
                nlohmann::json entry = {{"launch", launch.name},
                                        {"clean_accuracy", finiteOrNull(launch.meanCleanAccuracy)},
                                        {"noise_area", finiteOrNull(area)},
                                        {"median_min_l2", finiteOrNull(l2)}};
                // The noise curve (mean and SEM over seeds per severity), the step's key figure.
                if (!launch.corruptions.empty()) entry["noise_curve"] = toJson(launch.corruptions.front());
                step.result.push_back(std::move(entry));
                step.finding += demoLaunchRole(launch.name) + ": noise area " + formatFixed(area, 3) + ", median smallest L2 " +
                                formatFixed(l2, 3) + ". ";
              }
            });

  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  writeFileAtomically(files.summary, toJson(result).dump(2) + "\n");
  job.progress(1.0, "Demo finished");
  return result;
}

std::string demoLaunchRole(const std::string& launch) {
  return launch.rfind(kLaunchPrefix, 0) == 0 ? launch.substr(std::strlen(kLaunchPrefix)) : launch;
}

DemoFiles demoFiles(const std::filesystem::path& folder) {
  return {folder / "v1-model.pt", folder / "target.h5", folder / "runs", folder / "probe" / "report.json",
          folder / "demo.json"};
}

DemoResult readDemoFolder(const std::filesystem::path& folder) {
  const DemoFiles files = demoFiles(folder);
  if (!fs::exists(files.summary))
    throw FileError(folder.string(), "no demo.json here: not a demo folder, or a demo that was stopped before its "
                                     "last step (only a finished demo can be replayed)");
  const std::string path = files.summary.string();
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(readTextFile(files.summary));
  } catch (const nlohmann::json::exception& e) {
    throw FileError(path, std::string("not valid JSON: ") + e.what());
  }
  DemoResult result;
  // Values of the wrong type throw from nlohmann::json; they are the file's fault, said as such.
  try {
    auto require = [&path](bool ok, const std::string& problem) {
      if (!ok) throw FileError(path, problem);
    };
    require(json.is_object() && json.value("format", "") == kDemoFormat, "not a BrainPrior demo (its \"format\" is not \"" +
                                                                             std::string(kDemoFormat) + "\")");
    require(json.contains("version") && json["version"].is_number_integer() && json["version"].get<std::int64_t>() <= kDemoVersion,
            "written by a newer BrainPrior (demo format version " +
                (json.contains("version") ? json["version"].dump() : std::string("missing")) + "; this one reads " +
                std::to_string(kDemoVersion) + ")");
    require(json.contains("steps") && json["steps"].is_array() && json["steps"].size() == kDemoStepTitles.size(),
            "a finished demo has " + std::to_string(kDemoStepTitles.size()) + " steps");
    require(json.contains("seconds") && json["seconds"].is_number(), "\"seconds\" is missing or not a number");

    try {
      result.config = demoConfigFromJson(json.value("config", nlohmann::json::object()));
    } catch (const Error& e) {
      throw FileError(path, e.what());
    }
    result.config.outputDir = folder;
    result.seconds = json["seconds"].get<double>();
    for (std::size_t i = 0; i < kDemoStepTitles.size(); ++i) {
      const nlohmann::json& entry = json["steps"][i];
      const std::string where = "step " + std::to_string(i + 1);
      auto text = [&](const char* key) {
        require(entry.is_object() && entry.contains(key) && entry[key].is_string(),
                where + ": \"" + key + "\" is missing or not text");
        return entry[key].get<std::string>();
      };
      DemoStep step;
      step.title = text("title");
      require(step.title == kDemoStepTitles[i], where + " is \"" + step.title + "\", not \"" + kDemoStepTitles[i] + "\"");
      step.narration = text("narration");
      step.finding = text("finding");
      require(entry.contains("warnings") && entry["warnings"].is_array(), where + ": \"warnings\" is missing or not a list");
      for (const nlohmann::json& warning : entry["warnings"]) {
        require(warning.is_string(), where + ": a warning is not text");
        step.warnings.push_back(warning.get<std::string>());
      }
      require(entry.contains("seconds") && entry["seconds"].is_number(), where + ": \"seconds\" is missing or not a number");
      step.seconds = entry["seconds"].get<double>();
      step.result = entry.value("result", nlohmann::json());
      result.steps.push_back(std::move(step));
    }
  } catch (const nlohmann::json::exception& e) {
    throw FileError(path, std::string("not a demo summary: ") + e.what());
  }

  // The files the replay opens in their tabs; a folder copied without them cannot be shown.
  for (const fs::path& file : {files.model, files.target, files.runs, files.probeReport})
    if (!fs::exists(file)) throw FileError(file.string(), "missing from the demo folder (a replay opens it)");
  try {
    result.probe = nlohmann::json::parse(readTextFile(files.probeReport));
  } catch (const nlohmann::json::exception& e) {
    throw FileError(files.probeReport.string(), std::string("not valid JSON: ") + e.what());
  }
  return result;
}

}  // namespace bp
