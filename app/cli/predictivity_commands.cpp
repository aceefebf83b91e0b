#include "predictivity_commands.h"

#include <cstdio>
#include <filesystem>
#include <memory>

#include "classifiers/run_registry.h"
#include "data/dataset_io.h"
#include "probing/predictivity.h"
#include "runtime/atomic_file.h"
#include "runtime/error.h"

namespace bp::cli {
namespace {

namespace fs = std::filesystem;

struct PredictivityOptions {
  std::vector<std::string> runs;
  std::string neural;
  std::string config;
  std::string outputDir;
};

void runPredictivity(const GlobalOptions& global, const PredictivityOptions& options) {
  PredictivityConfig config;
  if (!options.config.empty()) config = readConfigFile(options.config, predictivityConfigFromJson);
  validate(config);
  nlohmann::json skipped = nlohmann::json::array();
  const std::vector<fs::path> folders = collectRunFolders(options.runs, skipped);
  reportSkippedRuns(global, skipped);
  startRuntime(global);
  const Job job = progressJob(global);
  const NeuralDataset dataset = loadNeuralDataset(options.neural, job.subJob(0.0, 0.1));
  const PredictivityReport report = predictivityOfRuns(folders, dataset, config, job.subJob(0.1, 1.0));
  nlohmann::json json = toJson(report);
  json["skipped"] = skipped;
  if (!options.outputDir.empty()) {
    writeReportJson(options.outputDir, json);
    writePredictivityTable(report, fs::path(options.outputDir) / "predictivity-table.csv");
    writePredictivityLaunchTable(report, fs::path(options.outputDir) / "predictivity-launches.csv");
  }
  printJson(json);
}

}  // namespace

void addPredictivityCommands(CLI::App& app, GlobalOptions& global) {
  auto predictivity = std::make_shared<PredictivityOptions>();
  CLI::App* command = app.add_subcommand(
      "predictivity",
      "Neural predictivity of trained classifier runs: per layer, the median over neurons of the cross-validated "
      "correlation between a PLS (or ridge) readout of the layer and the repeat-averaged responses, raw and "
      "ceiling-normalised, with each run's test accuracy, and per launch the mean +/- SEM over seeds; the report on "
      "stdout");
  command->add_option("runs", predictivity->runs, "Run folders, or folders of runs (their finished runs)")
      ->required()
      ->check(CLI::ExistingDirectory);
  command->add_option("--neural", predictivity->neural, "Neural dataset (any format `info` reads)")
      ->required()
      ->check(CLI::ExistingPath);
  command->add_option("--config", predictivity->config,
                      "Predictivity config (JSON: method, components, lambda, folds, seed, pool_size, max_images, "
                      "batch_size)")
      ->check(CLI::ExistingFile);
  command->add_option("--output-dir", predictivity->outputDir,
                      "Also write report.json, predictivity-table.csv (one row per model and layer) and "
                      "predictivity-launches.csv (one row per launch and layer) here");
  command->callback([&global, predictivity] { runPredictivity(global, *predictivity); });
}

}  // namespace bp::cli
