// LibTorch comes first: Qt's `slots` macro would break LibTorch headers (this file includes no Qt).
#include "app/training_session.h"

#include "classifiers/classifier_trainer.h"
#include "classifiers/python_export.h"
#include "classifiers/run_folder.h"
#include "data/default_data.h"

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

std::string exportRunForPython(const std::string& runFolder, const std::string& file) {
  return exportClassifierForPython(loadRunModel(runFolder), file).at("python").get<std::string>();
}

}  // namespace bp::app
