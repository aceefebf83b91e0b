#include "classifiers/run_registry.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <limits>
#include <regex>
#include <set>

#include "classifiers/classifier_training_config.h"
#include "runtime/atomic_file.h"
#include "runtime/config_reader.h"
#include "runtime/error.h"
#include "runtime/undefined.h"

namespace bp {

namespace {

namespace fs = std::filesystem;


std::string hostName() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return {};
  return name;
}

// False only when the process is known to be gone (on this machine).
bool processAlive(const nlohmann::json& summary) {
  if (!summary.contains("pid") || !summary.contains("host") || summary.at("host") != hostName()) return true;
  const auto pid = summary.at("pid").get<long long>();
  if (pid <= 0) return true;
  if (pid == static_cast<long long>(::getpid())) return true;
  return !(::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH);
}

std::string launchName(const std::string& runName) {
  static const std::regex seedSuffix("-seed[0-9]+$");
  return std::regex_replace(runName, seedSuffix, "");
}

RunRecord recordFromSummary(const fs::path& folder, const nlohmann::json& summary) {
  RunRecord record;
  record.folder = folder;
  record.name = folder.filename().string();
  record.group = launchName(record.name);
  record.summary = summary;
  const std::string state = summary.value("state", std::string());
  const std::optional<RunState> parsed = parseRunState(state);
  if (!parsed) throw FileError((folder / kRunSummaryFile).string(), "unknown run state \"" + state + "\"");
  record.state = *parsed;
  if (record.state == RunState::Running && !processAlive(summary)) record.state = RunState::Interrupted;
  record.regularizer = summary.value("regularizer", std::string());
  if (record.regularizer == regularizerKindName(RegularizerKind::NeuralSimilarity)) {
    const nlohmann::json regularizer =
        summary.value("config", nlohmann::json::object()).value("regularizer", nlohmann::json::object());
    if (const auto alpha = regularizer.find("alpha"); alpha != regularizer.end() && alpha->is_number())
      record.alpha = alpha->get<double>();
    const nlohmann::json target = regularizer.value("target", nlohmann::json::object());
    if (target.value("shuffled", false)) {
      record.control = "shuffled";
    } else if (target.value("source", std::string()) == "pixel") {
      record.control = "pixel";
    }
  }
  record.target = summary.value("target", std::string());
  record.targetWarning =
      summary.value("target_distribution", nlohmann::json::object()).value("degenerate", std::string());
  record.seed = summary.value("seed", std::uint64_t{0});
  record.epochsDone = summary.value("epochs_done", 0);
  record.epochs = summary.value("epochs", 0);
  auto numberAt = [&](const char* key) {
    const auto found = summary.find(key);
    return found == summary.end() || !found->is_number() ? kUndefined : found->get<double>();
  };
  record.testAccuracy = numberAt("test_accuracy");
  record.validationAccuracy = numberAt("validation_accuracy");
  record.seconds = summary.contains("timing") ? summary.at("timing").value("seconds", 0.0) : 0.0;
  record.device = summary.value("device", std::string());
  if (record.device.empty() && summary.contains("runtime"))
    record.device = summary.at("runtime").value("device", std::string());
  record.error = summary.value("error", std::string());
  record.updated = summary.value("updated", std::string());
  if (summary.contains("history"))
    for (const auto& line : summary.at("history")) record.history.push_back(classifierEpochReportFromJson(line));
  if (record.seconds == 0.0 && !record.history.empty()) record.seconds = record.history.back().totalSeconds;
  return record;
}

double mean(const std::vector<double>& values) {
  if (values.empty()) return kUndefined;
  double sum = 0.0;
  for (const double value : values) sum += value;
  return sum / static_cast<double>(values.size());
}

}  // namespace

const char* runStateName(RunState state) {
  switch (state) {
    case RunState::Running: return "running";
    case RunState::Finished: return "finished";
    case RunState::Failed: return "failed";
    case RunState::Cancelled: return "cancelled";
    case RunState::Interrupted: return "interrupted";
    case RunState::Unreadable: return "unreadable";
  }
  return "unreadable";
}

std::optional<RunState> parseRunState(const std::string& name) {
  for (const RunState state : {RunState::Running, RunState::Finished, RunState::Failed, RunState::Cancelled,
                               RunState::Interrupted, RunState::Unreadable})
    if (name == runStateName(state)) return state;
  return std::nullopt;
}

nlohmann::json toJson(const ClassifierEpochReport& report) {
  return {{"epoch", report.epoch},
          {"learning_rate", report.learningRate},
          {"classification_loss", finiteOrNull(report.classificationLoss)},
          {"regularization_loss", finiteOrNull(report.regularizationLoss)},
          {"total_loss", finiteOrNull(report.totalLoss)},
          {"train_accuracy", finiteOrNull(report.trainAccuracy)},
          {"validation_accuracy", finiteOrNull(report.validationAccuracy)},
          {"test_accuracy", finiteOrNull(report.testAccuracy)},
          {"gamma", report.gamma},
          {"seconds", report.seconds},
          {"total_seconds", report.totalSeconds}};
}

ClassifierEpochReport classifierEpochReportFromJson(const nlohmann::json& json) {
  ClassifierEpochReport report;
  report.epoch = json.at("epoch").get<int>();
  report.learningRate = json.at("learning_rate").get<double>();
  report.classificationLoss = numberOrNaN(json.at("classification_loss"));
  report.regularizationLoss = numberOrNaN(json.at("regularization_loss"));
  report.totalLoss = numberOrNaN(json.at("total_loss"));
  report.trainAccuracy = numberOrNaN(json.at("train_accuracy"));
  report.validationAccuracy = numberOrNaN(json.at("validation_accuracy"));
  report.testAccuracy = numberOrNaN(json.at("test_accuracy"));
  report.gamma = json.at("gamma").get<std::vector<double>>();
  report.seconds = json.at("seconds").get<double>();
  report.totalSeconds = json.at("total_seconds").get<double>();
  return report;
}

nlohmann::json runOwner() {
  return {{"pid", static_cast<long long>(::getpid())}, {"host", hostName()}};
}

nlohmann::json toJson(const RunRecord& record) {
  nlohmann::json json = {{"folder", record.folder.string()},
                         {"name", record.name},
                         {"group", record.group},
                         {"state", runStateName(record.state)},
                         {"regularizer", record.regularizer},
                         {"target", record.target},
                         {"alpha", finiteOrNull(record.alpha)},
                         {"seed", record.seed},
                         {"epochs_done", record.epochsDone},
                         {"epochs", record.epochs},
                         {"test_accuracy", finiteOrNull(record.testAccuracy)},
                         {"validation_accuracy", finiteOrNull(record.validationAccuracy)},
                         {"seconds", record.seconds},
                         {"device", record.device},
                         {"updated", record.updated}};
  if (!record.error.empty()) json["error"] = record.error;
  if (!record.targetWarning.empty()) json["target_warning"] = record.targetWarning;
  return json;
}

RunRecord readRun(const fs::path& runFolder) {
  const fs::path summaryPath = runFolder / kRunSummaryFile;
  if (!isRunFolder(runFolder)) throw FileError(runFolder.string(), "is not a run folder (no summary.json)");
  try {
    const nlohmann::json summary = nlohmann::json::parse(readTextFile(summaryPath));
    if (!summary.is_object() || summary.value("format", std::string()) != kRunSummaryFormat)
      throw FileError(summaryPath.string(), "not a BrainPrior classifier run summary");
    return recordFromSummary(runFolder, summary);
  } catch (const nlohmann::json::exception& error) {
    throw FileError(summaryPath.string(), std::string("corrupt run summary: ") + error.what());
  }
}

std::vector<RunRecord> listRuns(const fs::path& folder, const std::string& regularizer) {
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) throw FileError(folder.string(), "is not a folder");
  std::vector<fs::path> candidates;
  if (isRunFolder(folder)) candidates.push_back(folder);
  std::vector<fs::path> subfolders;
  for (const auto& entry : fs::directory_iterator(folder))
    if (entry.is_directory() && isRunFolder(entry.path())) subfolders.push_back(entry.path());
  std::sort(subfolders.begin(), subfolders.end());
  candidates.insert(candidates.end(), subfolders.begin(), subfolders.end());

  std::vector<RunRecord> records;
  for (const auto& candidate : candidates) {
    RunRecord record;
    try {
      record = readRun(candidate);
    } catch (const Error& error) {
      record.folder = candidate;
      record.name = candidate.filename().string();
      record.group = launchName(record.name);
      record.state = RunState::Unreadable;
      record.error = error.what();
      record.testAccuracy = kUndefined;
      record.validationAccuracy = kUndefined;
    }
    if (!regularizer.empty() && record.regularizer != regularizer) continue;
    records.push_back(std::move(record));
  }
  return records;
}

std::vector<RunRecord> readFinishedRuns(const std::vector<fs::path>& runFolders, const std::string& purpose) {
  if (runFolders.empty()) throw Error(purpose + ": no runs given");
  std::vector<RunRecord> runs;
  std::set<std::string> seen;
  std::vector<std::string> unfinished;
  for (const auto& folder : runFolders) {
    std::error_code ec;
    const fs::path resolved = fs::weakly_canonical(folder, ec);
    if (!seen.insert((ec ? folder : resolved).string()).second)
      throw Error(purpose + ": run " + folder.string() + " is given twice (it would count twice in its launch)");
    RunRecord record = readRun(folder);
    if (record.state != RunState::Finished)
      unfinished.push_back(record.name + " (" + runStateName(record.state) + ", " + folder.string() + ")");
    else
      runs.push_back(std::move(record));
  }
  if (!unfinished.empty()) {
    std::string names;
    for (const auto& name : unfinished) names += (names.empty() ? "" : "; ") + name;
    throw Error(purpose + ": only finished runs have a trained model; not finished: " + names);
  }
  return runs;
}

std::vector<RunGroup> compareRuns(const std::vector<RunRecord>& records) {
  std::vector<RunGroup> groups;
  std::vector<std::vector<const RunRecord*>> members;
  for (const auto& record : records) {
    auto found = std::find_if(groups.begin(), groups.end(), [&](const RunGroup& g) { return g.name == record.group; });
    if (found == groups.end()) {
      RunGroup group;
      group.name = record.group;
      group.regularizer = record.regularizer;
      group.control = record.control;
      groups.push_back(group);
      members.emplace_back();
      found = groups.end() - 1;
    }
    members[static_cast<std::size_t>(found - groups.begin())].push_back(&record);
  }
  for (std::size_t g = 0; g < groups.size(); ++g) {
    RunGroup& group = groups[g];
    std::vector<double> test, validation, seconds;
    for (const RunRecord* record : members[g]) {
      ++group.runs;
      if (group.target.empty()) group.target = record->target;
      if (group.targetWarning.empty()) group.targetWarning = record->targetWarning;
      if (record->state != RunState::Finished) continue;
      ++group.finished;
      group.finishedSeeds.push_back(record->seed);
      test.push_back(record->testAccuracy);
      if (std::isfinite(record->validationAccuracy)) validation.push_back(record->validationAccuracy);
      seconds.push_back(record->seconds);
    }
    group.meanTestAccuracy = mean(test);
    group.sdTestAccuracy = kUndefined;
    if (test.size() >= 2) {
      double squares = 0.0;
      for (const double value : test) squares += (value - group.meanTestAccuracy) * (value - group.meanTestAccuracy);
      group.sdTestAccuracy = std::sqrt(squares / static_cast<double>(test.size() - 1));
    }
    group.minTestAccuracy = test.empty() ? kUndefined : *std::min_element(test.begin(), test.end());
    group.maxTestAccuracy = test.empty() ? kUndefined : *std::max_element(test.begin(), test.end());
    group.meanValidationAccuracy = mean(validation);
    group.meanSeconds = mean(seconds);
  }
  return groups;
}

nlohmann::json toJson(const RunGroup& group) {
  return {{"name", group.name},
          {"regularizer", group.regularizer},
          {"target", group.target},
          {"target_warning", group.targetWarning},
          {"runs", group.runs},
          {"finished", group.finished},
          {"finished_seeds", group.finishedSeeds},
          {"mean_test_accuracy", finiteOrNull(group.meanTestAccuracy)},
          {"sd_test_accuracy", finiteOrNull(group.sdTestAccuracy)},
          {"min_test_accuracy", finiteOrNull(group.minTestAccuracy)},
          {"max_test_accuracy", finiteOrNull(group.maxTestAccuracy)},
          {"mean_validation_accuracy", finiteOrNull(group.meanValidationAccuracy)},
          {"mean_seconds", finiteOrNull(group.meanSeconds)}};
}

std::vector<std::filesystem::path> collectRunFolders(const std::vector<std::string>& arguments,
                                                     nlohmann::json& skipped) {
  std::vector<fs::path> folders;
  for (const auto& argument : arguments) {
    if (isRunFolder(argument)) {
      folders.emplace_back(argument);
      continue;
    }
    const std::vector<RunRecord> records = listRuns(argument);
    std::size_t finished = 0;
    for (const auto& record : records) {
      if (record.state == RunState::Finished) {
        folders.push_back(record.folder);
        ++finished;
      } else {
        skipped.push_back({{"folder", record.folder.string()}, {"state", runStateName(record.state)}});
      }
    }
    if (finished == 0)
      throw FileError(argument, "holds no finished run (" + std::to_string(records.size()) + " runs in all)");
  }
  return folders;
}

ModelArguments collectModels(const std::vector<std::string>& arguments, nlohmann::json& skipped) {
  ModelArguments models;
  std::vector<std::string> runArguments;
  for (const auto& argument : arguments) {
    std::error_code ec;
    if (fs::is_regular_file(argument, ec))
      models.importedModels.emplace_back(argument);
    else
      runArguments.push_back(argument);
  }
  models.runFolders = collectRunFolders(runArguments, skipped);
  return models;
}

RunRecord importedModelRecord(const fs::path& file) {
  RunRecord record;
  record.folder = file;
  record.name = file.filename().string();
  record.group = record.name;
  record.state = RunState::Finished;
  record.regularizer = kImportedModelRegularizer;
  return record;
}

std::vector<RunRecord> readModelRecords(const ModelArguments& models, const std::string& purpose) {
  std::vector<RunRecord> records;
  if (!models.runFolders.empty() || models.importedModels.empty())
    records = readFinishedRuns(models.runFolders, purpose);
  std::set<std::string> seen;
  for (const fs::path& file : models.importedModels) {
    std::error_code ec;
    const fs::path resolved = fs::weakly_canonical(file, ec);
    if (!seen.insert((ec ? file : resolved).string()).second)
      throw Error(purpose + ": " + file.string() + " is given twice");
    records.push_back(importedModelRecord(file));
  }
  return records;
}

}  // namespace bp
