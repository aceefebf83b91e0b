// LibTorch comes first: Qt's `slots` macro would break LibTorch headers (this file includes no Qt).
#include "app/training_session.h"

#include "classifiers/classifier_trainer.h"
#include "classifiers/python_export.h"
#include "classifiers/run_folder.h"
#include "data/default_data.h"
#include "distributed/local_workers.h"
#include "runtime/atomic_file.h"
#include "runtime/error.h"
#include "runtime/runtime.h"

#include <algorithm>
#include <chrono>
#include <filesystem>

namespace bp::app {

nlohmann::json defaultTrainingConfig() {
  ClassifierTrainingConfig config;
  config.name = "fashion-mnist-small-resnet";
  config.data.path = defaultImageSourcePath().string();
  config.data.maxTrainImages = 10000;
  config.data.maxTestImages = 2000;
  config.data.validationFraction = 0.05;
  config.model.architecture = ClassifierArchitecture::SmallResNet;
  config.model.width = 16;
  config.model.classCount = 10;
  // Fashion-MNIST's pixel mean and standard deviation (the model's defaults are grayscale CIFAR-10's).
  config.model.imageMean = {0.2860f};
  config.model.imageStd = {0.3530f};
  config.optimizer.learningRate = 0.05;
  config.optimizer.nesterov = true;
  config.schedule.kind = ScheduleKind::Cosine;
  config.epochs = 3;
  config.seeds = {1};
  return toJson(config);
}

nlohmann::json normalizedTrainingConfig(const nlohmann::json& config) {
  const ClassifierTrainingConfig parsed = classifierTrainingConfigFromJson(config);
  validate(parsed);
  return toJson(parsed);
}

std::vector<std::string> launchRunFolders(const nlohmann::json& config, const std::string& outputDir) {
  std::vector<std::string> folders;
  for (const PlannedRun& run : plannedRuns(classifierTrainingConfigFromJson(config), outputDir))
    folders.push_back(run.folder.string());
  return folders;
}

std::vector<RunRecord> trainLaunch(const nlohmann::json& config, const std::string& outputDir, bool resume,
                                   const Job& job,
                                   const std::function<void(const std::string&, const ClassifierEpochReport&)>& onEpoch) {
  return trainRuns(classifierTrainingConfigFromJson(config), outputDir, resume, job,
                   [&](const std::filesystem::path& folder, const ClassifierEpochReport& report) {
                     if (onEpoch) onEpoch(folder.string(), report);
                   });
}

std::vector<RunRecord> trainLaunchWithWorkers(
    const nlohmann::json& config, const std::string& outputDir, bool resume, int workers, const std::string& cliProgram,
    const Job& job, const std::function<void(const std::string&, const ClassifierEpochReport&)>& onEpoch) {
  const ClassifierTrainingConfig parsed = classifierTrainingConfigFromJson(config);
  validate(parsed);
  const std::vector<PlannedRun> runs = plannedRuns(parsed, outputDir);
  std::filesystem::create_directories(outputDir);
  // The workers read the config from a file, which goes when the launch ends however it ends.
  struct LaunchConfigFile {
    std::filesystem::path path;
    ~LaunchConfigFile() {
      std::error_code ignored;
      std::filesystem::remove(path, ignored);
    }
  } configFile{std::filesystem::path(outputDir) / ".data-parallel-launch.json"};
  writeFileAtomically(configFile.path, toJson(parsed).dump(2) + "\n");

  LocalWorkersLaunch launch;
  launch.program = cliProgram;
  // The app's threads shared out among the workers, on the app's device.
  launch.arguments = {"--quiet", "--threads", std::to_string(std::max(1, runtimeInfo().threads / workers)),
                      "--device", runtimeInfo().device, "train", "--config", configFile.path.string(),
                      "--output-dir", outputDir};
  if (resume) launch.arguments.push_back("--resume");
  launch.workers = workers;

  // Rank 0 writes each epoch into its run folder: the curves follow it from there. A run that has
  // ended is not read again.
  std::vector<RunRecord> latest(runs.size());
  const double total = static_cast<double>(runs.size()) * static_cast<double>(std::max(parsed.epochs, 1));
  auto readRuns = [&] {
    double done = 0.0;
    for (std::size_t index = 0; index < runs.size(); ++index) {
      RunRecord& record = latest[index];
      const bool ended = record.state == RunState::Finished || record.state == RunState::Failed ||
                         record.state == RunState::Cancelled;
      if (!ended && isRunFolder(runs[index].folder)) {
        RunRecord fresh = readRun(runs[index].folder);
        for (std::size_t epoch = record.history.size(); epoch < fresh.history.size(); ++epoch)
          if (onEpoch) onEpoch(runs[index].folder.string(), fresh.history[epoch]);
        record = std::move(fresh);
      }
      done += static_cast<double>(record.history.size());
    }
    job.progress(std::min(1.0, done / total), std::to_string(workers) + " workers: " +
                                                  std::to_string(static_cast<int>(done)) + " of " +
                                                  std::to_string(static_cast<int>(total)) + " epochs");
  };
  auto lastRead = std::chrono::steady_clock::now();
  try {
    runLocalWorkers(launch, job, [&] {
      if (std::chrono::steady_clock::now() - lastRead < std::chrono::seconds(1)) return;
      lastRead = std::chrono::steady_clock::now();
      readRuns();
    });
  } catch (const CancelledError&) {
    throw;
  } catch (const Error& error) {
    // The workers' own words are in the run they were training.
    readRuns();
    for (const RunRecord& record : latest)
      if (record.state == RunState::Failed && !record.error.empty())
        throw Error(std::string(error.what()) + ": " + record.error);
    throw;
  }
  readRuns();
  return latest;
}

std::string exportRunForPython(const std::string& runFolder, const std::string& file) {
  return exportClassifierForPython(loadRunModel(runFolder), file).at("python").get<std::string>();
}

}  // namespace bp::app
