#include "train_commands.h"

#include <cstdio>
#include <memory>

#include "classifiers/run_folder.h"
#include "distributed/data_parallel_group.h"
#include "distributed/launch_script.h"
#include "runtime/atomic_file.h"
#include "runtime/error.h"

namespace bp::cli {
namespace {

struct TrainOptions {
  std::string config;
  std::string outputDir = "runs";
  bool resume = false;
  int epochs = 0;
  std::vector<std::uint64_t> seeds;
  DataParallelOptions dataParallel;
};

void runTrain(const GlobalOptions& global, const TrainOptions& options) {
  ClassifierTrainingConfig config = readConfigFile(options.config, classifierTrainingConfigFromJson);
  // Command-line settings win over the file's.
  if (options.epochs > 0) config.epochs = options.epochs;
  if (!options.seeds.empty()) config.seeds = options.seeds;
  validate(config);
  if (runAsLocalWorkers(global, options.dataParallel)) return;
  const DataParallelWorker worker = joinDataParallelLaunch(global, options.dataParallel);
  const std::unique_ptr<DataParallelGroup>& group = worker.group;
  const GlobalOptions& speaker = worker.speaker;
  const auto job = progressJob(speaker);
  std::vector<RunRecord> records;
  try {
    records = trainRuns(
        config, options.outputDir, options.resume, job,
        [&speaker](const std::filesystem::path& folder, const ClassifierEpochReport& report) {
          if (speaker.quiet) return;
          std::fprintf(stderr, "%s: epoch %d: loss %.4f (ce %.4f, regularization %.4f), test accuracy %.4f\n",
                       folder.filename().string().c_str(), report.epoch, report.totalLoss, report.classificationLoss,
                       report.regularizationLoss, report.testAccuracy);
        },
        group.get());
  } catch (const std::exception& error) {
    if (group) group->reportStopping(error.what());
    throw;
  }
  if (group && !group->leads()) return;
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

struct LaunchScriptOptions {
  LaunchScriptRequest request;
  std::string launcher = "slurm";
  bool cpusOnly = false;
  std::string output;
};

void runLaunchScript(const LaunchScriptOptions& options) {
  // The config must be one the engine accepts: a cluster job should not fail on it hours later.
  validate(readConfigFile(options.request.configFile, classifierTrainingConfigFromJson));
  LaunchScriptRequest request = options.request;
  request.launcher = clusterLauncherFromName(options.launcher);
  request.gpus = !options.cpusOnly;
  request.configFile = std::filesystem::absolute(request.configFile).string();
  const std::string script = launchScript(request);
  if (options.output.empty()) {
    std::fputs(script.c_str(), stdout);
    return;
  }
  writeFileAtomically(options.output, script);
  std::filesystem::permissions(options.output, std::filesystem::perms::owner_exec | std::filesystem::perms::group_exec,
                               std::filesystem::perm_options::add);
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
  addDataParallelOptions(*trainCommand, train->dataParallel);
  trainCommand->callback([&global, train] { runTrain(global, *train); });

  auto script = std::make_shared<LaunchScriptOptions>();
  CLI::App* scriptCommand = app.add_subcommand(
      "launch-script",
      "Write the script that trains a config on a cluster with data-parallel workers: a Slurm batch script (srun) "
      "or a torchrun command for every node (docs/distributed.md)");
  scriptCommand->add_option("--config", script->request.configFile, "Training config (JSON), on a shared file system")
      ->required()
      ->check(CLI::ExistingFile);
  scriptCommand->add_option("--launcher", script->launcher, "slurm or torchrun")
      ->capture_default_str()
      ->check(CLI::IsMember({"slurm", "torchrun"}));
  scriptCommand->add_option("--nodes", script->request.nodes, "Machines")->capture_default_str()->check(CLI::PositiveNumber);
  scriptCommand->add_option("--workers-per-node", script->request.workersPerNode, "Workers on each machine (one per GPU)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  scriptCommand->add_option("--threads-per-worker", script->request.threadsPerWorker, "CPU threads of each worker")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  scriptCommand->add_flag("--cpus-only", script->cpusOnly, "Workers without a GPU each");
  scriptCommand->add_option("--output-dir", script->request.outputDir, "Folder for the run folders, on a shared file system")
      ->capture_default_str();
  scriptCommand->add_option("--job-name", script->request.jobName, "Slurm job name")->capture_default_str();
  scriptCommand->add_option("-o,--output", script->output, "Write the script to this file (executable) instead of stdout");
  scriptCommand->callback([script] { runLaunchScript(*script); });

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
