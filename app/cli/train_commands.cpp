#include "train_commands.h"

#include <cstdio>
#include <memory>

#include "classifiers/run_folder.h"
#include "runtime/error.h"

namespace bp::cli {
namespace {

struct TrainOptions {
  std::string config;
  std::string outputDir = "runs";
  bool resume = false;
  int epochs = 0;
  std::vector<std::uint64_t> seeds;
};

void runTrain(const GlobalOptions& global, const TrainOptions& options) {
  ClassifierTrainingConfig config = readConfigFile(options.config, classifierTrainingConfigFromJson);
  // Command-line settings win over the file's.
  if (options.epochs > 0) config.epochs = options.epochs;
  if (!options.seeds.empty()) config.seeds = options.seeds;
  validate(config);
  startRuntime(global);
  const auto job = progressJob(global);
  const std::vector<RunRecord> records =
      trainRuns(config, options.outputDir, options.resume, job,
                [&global](const std::filesystem::path& folder, const ClassifierEpochReport& report) {
                  if (global.quiet) return;
                  std::fprintf(stderr, "%s: epoch %d: loss %.4f (ce %.4f, regularization %.4f), test accuracy %.4f\n",
                               folder.filename().string().c_str(), report.epoch, report.totalLoss,
                               report.classificationLoss, report.regularizationLoss, report.testAccuracy);
                });
  nlohmann::json runs = nlohmann::json::array();
  for (const auto& record : records) {
    nlohmann::json summary = record.summary;
    summary["folder"] = record.folder.string();
    runs.push_back(summary);
  }
  printJson({{"output_dir", options.outputDir}, {"runs", runs}});
}

struct RunsOptions {
  std::string folder = "runs";
  std::string regularizer;
  bool compare = false;
};

void runList(const RunsOptions& options) {
  const std::vector<RunRecord> records = listRuns(options.folder, options.regularizer);
  nlohmann::json runs = nlohmann::json::array();
  for (const auto& record : records) runs.push_back(toJson(record));
  nlohmann::json result = {{"folder", options.folder}, {"runs", runs}};
  if (options.compare) {
    nlohmann::json groups = nlohmann::json::array();
    for (const auto& group : compareRuns(records)) groups.push_back(toJson(group));
    result["groups"] = groups;
  }
  printJson(result);
}

}  // namespace

void addTrainCommands(CLI::App& app, GlobalOptions& global) {
  auto train = std::make_shared<TrainOptions>();
  CLI::App* trainCommand = app.add_subcommand(
      "train",
      "Train a brain-regularized classifier from a JSON config (one run folder per seed: config, log, metrics, "
      "checkpoint, model, summary); progress on stderr, the run summaries on stdout");
  trainCommand->add_option("--config", train->config, "Training config (JSON; see packaging/examples/)")
      ->required()
      ->check(CLI::ExistingFile);
  trainCommand->add_option("--output-dir", train->outputDir, "Folder that receives the run folders")
      ->capture_default_str();
  trainCommand->add_flag("--resume", train->resume,
                         "Continue runs from their checkpoints (a run folder that exists is refused otherwise)");
  trainCommand->add_option("--epochs", train->epochs, "Override the config's epochs")->check(CLI::PositiveNumber);
  trainCommand->add_option("--seeds", train->seeds, "Override the config's seeds (one run per seed)");
  trainCommand->callback([&global, train] { runTrain(global, *train); });

  auto runs = std::make_shared<RunsOptions>();
  CLI::App* runsCommand =
      app.add_subcommand("runs", "List the training runs in a folder: state, regularizer, seed, epochs, accuracies");
  runsCommand->add_option("folder", runs->folder, "Folder of run folders (or one run folder)")->capture_default_str();
  runsCommand->add_option("--regularizer", runs->regularizer, "Only runs with this regularizer")
      ->check(CLI::IsMember({"none", "neural_similarity", "harmonization", "gaussian_noise_augmentation"}));
  runsCommand->add_flag("--compare", runs->compare,
                        "Also compare launches side by side: per launch (the runs' name without -seed<N>), the mean, "
                        "standard deviation and range of the finished seeds' test accuracy");
  runsCommand->callback([runs] { runList(*runs); });
}

}  // namespace bp::cli
