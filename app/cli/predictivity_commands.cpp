#include "predictivity_commands.h"

#include <memory>

#include "probing/predictivity.h"

namespace bp::cli {
namespace {

struct PredictivityOptions {
  std::vector<std::string> runs;
  std::string neural;
  std::string config;
  std::string outputDir;
  std::vector<std::string> layers;
};

void runPredictivity(const GlobalOptions& global, const PredictivityOptions& options) {
  PredictivityReportFolderConfig folder;
  folder.runs = options.runs;
  folder.neuralPath = options.neural;
  if (!options.config.empty()) folder.predictivity = readConfigFile(options.config, predictivityConfigFromJson);
  if (!options.layers.empty()) folder.predictivity.layers = options.layers;  // the command line wins
  folder.outputDir = options.outputDir;
  const PredictivityReportFolder written =
      writePredictivityReportFolder(folder, progressJob(global), [&global](const nlohmann::json& skipped) {
        reportSkippedRuns(global, skipped);
        startRuntime(global);
      });
  printJson(written.json);
}

}  // namespace

void addPredictivityCommands(CLI::App& app, GlobalOptions& global) {
  auto predictivity = std::make_shared<PredictivityOptions>();
  CLI::App* command = app.add_subcommand(
      "predictivity",
      "Neural predictivity of trained classifier runs and imported models: per layer, the median over neurons of the cross-validated "
      "correlation between a PLS (or ridge) readout of the layer and the repeat-averaged responses, raw and "
      "ceiling-normalised, with each run's test accuracy, and per launch the mean +/- SEM over seeds; the report on "
      "stdout");
  command
      ->add_option("models", predictivity->runs,
                   "Run folders, folders of runs (their finished runs) and imported TorchScript models (files, with "
                   "their <file>.json)")
      ->required()
      ->check(CLI::ExistingPath);
  command->add_option("--neural", predictivity->neural, "Neural dataset (any format `info` reads), or 'default'")
      ->required();
  command->add_option("--config", predictivity->config,
                      "Predictivity config (JSON: method, components, lambda, folds, seed, pool_size, max_images, "
                      "batch_size)")
      ->check(CLI::ExistingFile);
  command
      ->add_option("--layers", predictivity->layers,
                   "Score only these layers, by name (`brainprior-cli layers MODEL` lists them; each model scores "
                   "those it has), comma-separated")
      ->delimiter(',');
  command->add_option("--output-dir", predictivity->outputDir,
                      "Also write report.json, predictivity-table.csv (one row per model and layer) and "
                      "predictivity-launches.csv (one row per launch and layer) here");
  command->callback([&global, predictivity] { runPredictivity(global, *predictivity); });
}

}  // namespace bp::cli
