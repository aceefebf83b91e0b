#include "classifiers/run_folder.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <sstream>

#include "classifiers/similarity_regularizer.h"
#include "distributed/data_parallel_group.h"
#include "rsa/similarity_distribution.h"
#include "runtime/atomic_file.h"
#include "runtime/config_reader.h"
#include "runtime/csv.h"
#include "runtime/error.h"
#include "runtime/number_format.h"
#include "runtime/runtime.h"
#include "runtime/clock.h"

namespace bp {

namespace {

namespace fs = std::filesystem;


std::string sanitize(const std::string& name) {
  std::string result;
  for (const char c : name) {
    const bool plain =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    result += plain ? c : '_';
  }
  return result.empty() ? "run" : result;
}

std::string tapName(std::size_t index) {
  return index == 0 ? "stem" : "stage" + std::to_string(index);
}

std::string metricsCsv(const std::vector<ClassifierEpochReport>& history) {
  std::size_t taps = 0;
  for (const auto& report : history) taps = std::max(taps, report.gamma.size());
  std::ostringstream csv;
  csv << "epoch,learning_rate,classification_loss,regularization_loss,total_loss,train_accuracy,"
         "validation_accuracy,test_accuracy,seconds,total_seconds";
  for (std::size_t t = 0; t < taps; ++t) csv << ",gamma_" << tapName(t);
  csv << '\n';
  for (const auto& report : history) {
    csv << report.epoch << ',' << csvNumber(report.learningRate, 9) << ',' << csvNumber(report.classificationLoss, 9) << ','
        << csvNumber(report.regularizationLoss, 9) << ',' << csvNumber(report.totalLoss, 9) << ','
        << csvNumber(report.trainAccuracy, 9) << ',' << csvNumber(report.validationAccuracy, 9) << ','
        << csvNumber(report.testAccuracy, 9) << ',' << csvNumber(report.seconds, 9) << ',' << csvNumber(report.totalSeconds, 9);
    for (std::size_t t = 0; t < taps; ++t) csv << ',' << (t < report.gamma.size() ? csvNumber(report.gamma[t], 9) : "");
    csv << '\n';
  }
  return csv.str();
}

// log.txt, rewritten whole (atomically) on every line: short, and never half-written.
class RunLog {
 public:
  RunLog(fs::path path, bool keep) : path_(std::move(path)) {
    if (keep && fs::exists(path_)) text_ = readTextFile(path_);
  }
  void add(const std::string& line) {
    text_ += utcTimestamp() + "  " + line + "\n";
    writeFileAtomically(path_, text_);
  }

 private:
  fs::path path_;
  std::string text_;
};

std::string describeReport(const ClassifierEpochReport& report) {
  std::ostringstream line;
  line.precision(4);
  line << "epoch " << report.epoch << ": lr " << report.learningRate << ", loss " << report.totalLoss << " (ce "
       << report.classificationLoss << ", regularization " << report.regularizationLoss << "), train accuracy "
       << report.trainAccuracy << ", validation accuracy " << report.validationAccuracy << ", test accuracy "
       << report.testAccuracy;
  if (!report.gamma.empty()) {
    line << ", gamma [";
    for (std::size_t t = 0; t < report.gamma.size(); ++t) line << (t ? " " : "") << report.gamma[t];
    line << "]";
  }
  line << ", " << report.seconds << " s";
  return line.str();
}

nlohmann::json gammaByTap(const std::vector<double>& gamma) {
  nlohmann::json result = nlohmann::json::object();
  for (std::size_t t = 0; t < gamma.size(); ++t) result[tapName(t)] = gamma[t];
  return result;
}

// summary.json, kept in memory and rewritten whole.
class RunSummary {
 public:
  RunSummary(fs::path path, nlohmann::json summary) : path_(std::move(path)), summary_(std::move(summary)) {}
  nlohmann::json& operator*() { return summary_; }
  nlohmann::json* operator->() { return &summary_; }
  void write() {
    summary_["updated"] = utcTimestamp();
    writeFileAtomically(path_, summary_.dump(2) + "\n");
  }

 private:
  fs::path path_;
  nlohmann::json summary_;
};

// The launch a config names: its name, or "<architecture>-<regularizer>[-pixel][-shuffled][-thresholded]".
std::string launchName(const ClassifierTrainingConfig& config) {
  std::string name = config.name;
  if (name.empty()) {
    name = std::string(classifierArchitectureName(config.model.architecture)) + "-" +
           regularizerKindName(config.regularizer.kind);
    if (config.regularizer.kind == RegularizerKind::NeuralSimilarity) {
      const RegularizationTargetConfig& target = config.regularizer.target;
      if (target.source == TargetSource::Pixel) name += "-pixel";
      if (target.shuffled) name += "-shuffled";
      if (target.threshold) name += "-thresholded";
    }
  }
  return name;
}

}  // namespace

std::vector<PlannedRun> plannedRuns(const ClassifierTrainingConfig& config, const fs::path& outputDir) {
  std::vector<ClassifierTrainingConfig> launches;
  if (config.alphas.empty()) launches.push_back(config);
  for (const double alpha : config.alphas) {
    ClassifierTrainingConfig launch = config;
    launch.alphas.clear();
    launch.regularizer.alpha = alpha;
    launch.name = launchName(config) + "-alpha" + formatCompact(alpha);
    launches.push_back(std::move(launch));
  }
  std::vector<PlannedRun> runs;
  for (const ClassifierTrainingConfig& launch : launches)
    for (const std::uint64_t seed : runSeeds(config)) {
      PlannedRun run{launch, outputDir / runFolderName(launch, seed)};
      run.config.seed = seed;
      run.config.seeds.clear();
      runs.push_back(std::move(run));
    }
  return runs;
}

std::string runFolderName(const ClassifierTrainingConfig& config, std::uint64_t seed) {
  return sanitize(launchName(config)) + "-seed" + std::to_string(seed);
}

std::vector<std::uint64_t> runSeeds(const ClassifierTrainingConfig& config) {
  return config.seeds.empty() ? std::vector<std::uint64_t>{config.seed} : config.seeds;
}

namespace {

// The summary a run folder holds, or an empty object.
nlohmann::json previousSummary(const fs::path& folder) {
  if (!isRunFolder(folder)) return nlohmann::json::object();
  try {
    return nlohmann::json::parse(readTextFile(folder / kRunSummaryFile));
  } catch (const nlohmann::json::exception&) {
    return nlohmann::json::object();
  }
}

// bp::Error unless `folder` may receive the run: empty, or resumable with `config` when resuming.
// A resume the checkpoint refuses must leave the run as it is (a finished run stays finished).
void checkRunCanStart(const ClassifierTrainingConfig& config, const fs::path& folder, bool resume) {
  const fs::path checkpoint = folder / "checkpoint.pt";
  if (!resume && (isRunFolder(folder) || fs::exists(checkpoint)))
    throw Error("run folder " + folder.string() + " already holds a run (" +
                previousSummary(folder).value("state", std::string("state unknown")) +
                "); resume it or choose another output folder");
  if (resume && fs::exists(checkpoint)) checkResumable(checkpoint, config);
}

// A rank other than 0 of a data-parallel run: trains its share alongside rank 0 and writes nothing.
RunRecord followRun(const ClassifierTrainingConfig& config, const fs::path& folder, bool resume, const Job& job,
                    DataParallelGroup& group) {
  const ClassifierTrainingData data = loadClassifierTrainingData(config, config.seed, job.subJob(0.0, 0.05));
  ClassifierFitControl control;
  control.checkpoint = folder / "checkpoint.pt";
  control.resume = resume;
  control.group = &group;
  trainClassifier(config, data, job.subJob(0.05, 1.0), {}, control);
  RunRecord record;
  record.folder = folder;
  return record;
}

}  // namespace

RunRecord trainRun(const ClassifierTrainingConfig& config, const fs::path& folder, bool resume, const Job& job,
                   const ClassifierEpochCallback& onEpoch, DataParallelGroup* group) {
  ClassifierTrainingConfig runConfig = config;
  runConfig.seeds.clear();
  if (group == nullptr) {
    checkRunCanStart(runConfig, folder, resume);
  } else {
    // Refused by rank 0 before the run starts: every rank stops with its reason.
    group->runOnLeader([&] { checkRunCanStart(runConfig, folder, resume); });
    if (!group->leads()) return followRun(runConfig, folder, resume, job, *group);
  }
  fs::create_directories(folder);
  const fs::path summaryPath = folder / kRunSummaryFile;
  const fs::path checkpoint = folder / "checkpoint.pt";
  const nlohmann::json previous = previousSummary(folder);
  const nlohmann::json configJson = toJson(runConfig);
  writeFileAtomically(folder / "config.json", configJson.dump(2) + "\n");
  RunLog log(folder / "log.txt", resume);

  std::vector<ClassifierEpochReport> history;
  if (resume && fs::exists(checkpoint)) history = readClassifierCheckpointInfo(checkpoint).history;

  RunSummary summary(summaryPath, {{"format", kRunSummaryFormat},
                                   {"version", 1},
                                   {"name", folder.filename().string()},
                                   {"state", runStateName(RunState::Running)},
                                   {"seed", runConfig.seed},
                                   {"regularizer", regularizerKindName(runConfig.regularizer.kind)},
                                   {"epochs", runConfig.epochs},
                                   {"epochs_done", static_cast<int>(history.size())},
                                   {"created", previous.value("created", utcTimestamp())},
                                   {"config", configJson},
                                   {"runtime", toJson(runtimeInfo())},
                                   {"workers", describeWorkers(group)},
                                   {"files",
                                    {{"config", "config.json"},
                                     {"log", "log.txt"},
                                     {"metrics", "metrics.csv"},
                                     {"checkpoint", "checkpoint.pt"},
                                     {"model", "model.pt"}}}});
  summary->update(runOwner());
  (*summary)["history"] = nlohmann::json::array();
  for (const auto& report : history) (*summary)["history"].push_back(toJson(report));
  if (!history.empty()) {
    (*summary)["test_accuracy"] = finiteOrNull(history.back().testAccuracy);
    (*summary)["validation_accuracy"] = finiteOrNull(history.back().validationAccuracy);
  }
  summary.write();
  log.add((history.empty() ? "started run " : "resumed run ") + folder.filename().string() + " (seed " +
          std::to_string(runConfig.seed) + ", regularizer " + regularizerKindName(runConfig.regularizer.kind) +
          ", device " + runtimeInfo().device +
          (group ? ", data-parallel over " + std::to_string(group->size()) + " workers" : "") +
          (history.empty() ? "" : ", after epoch " + std::to_string(history.size())) + ")");

  const auto start = std::chrono::steady_clock::now();
  const DataParallelGroup::ExchangeTally exchangedBefore = group ? group->exchanged() : DataParallelGroup::ExchangeTally{};
  try {
    const ClassifierTrainingData data = loadClassifierTrainingData(runConfig, runConfig.seed, job.subJob(0.0, 0.05));
    const double dataSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    log.add("data: " + std::to_string(data.trainImages.size(0)) + " train, " +
            std::to_string(data.validationImages.size(0)) + " validation, " + std::to_string(data.testImages.size(0)) +
            " test images of " + std::to_string(data.trainImages.size(1)) + "x" +
            std::to_string(data.trainImages.size(2)) + "x" + std::to_string(data.trainImages.size(3)) + " from " +
            data.trainSource + (data.target ? "; target: " + data.target->description : "") +
            (data.importanceMaps
                 ? "; importance maps for " + std::to_string(data.importanceMaps->count()) + " train images"
                 : ""));
    (*summary)["timing"] = {{"data_seconds", dataSeconds}};
    if (data.target) {
      const SimilarityDistribution& distribution = data.target->distribution;
      (*summary)["target"] = data.target->description;
      (*summary)["target_distribution"] = toJson(distribution);
      log.add("target values: " + summarize(distribution));
      if (!distribution.degenerate.empty())
        log.add("warning: the target is not a structure to train towards: " + distribution.degenerate);
      // What alpha means depends on the target: against a model whose similarities are all 0, the
      // regularizer's term is alpha x mean atanh(target)^2 (the target as trained towards: after a
      // threshold, with the run's clamp). Compared with the cross-entropy of a classifier at chance,
      // ln(classes), it says which loss will lead the first epochs.
      const double regularizerScale =
          runConfig.regularizer.alpha *
          targetLossScale(data.target->similarity, runConfig.regularizer.similarity.clampEpsilon);
      const double chanceEntropy = std::log(static_cast<double>(runConfig.model.classCount));
      (*summary)["regularizer_scale"] = {{"alpha_times_mean_squared_atanh", finiteOrNull(regularizerScale)},
                                         {"cross_entropy_at_chance", chanceEntropy}};
      log.add("regularizer scale: alpha x mean atanh(target)^2 = " + formatFixed(regularizerScale, 2) +
              " against a cross-entropy at chance of " + formatFixed(chanceEntropy, 2));
      if (regularizerScale > chanceEntropy)
        log.add("warning: the regularizer starts " + formatFixed(regularizerScale / chanceEntropy, 1) +
                " times as strong as the cross-entropy at chance and may swamp classification; a smaller alpha "
                "gives both a say (docs/results.md)");
    }
    summary.write();

    ClassifierFitControl control;
    control.checkpoint = checkpoint;
    control.resume = resume;
    control.group = group;
    const ClassifierTrainingResult result = trainClassifier(
        runConfig, data, job.subJob(0.05, 1.0),
        [&](const ClassifierEpochReport& report) {
          history.push_back(report);
          writeFileAtomically(folder / "metrics.csv", metricsCsv(history));
          log.add(describeReport(report));
          (*summary)["epochs_done"] = report.epoch;
          (*summary)["test_accuracy"] = finiteOrNull(report.testAccuracy);
          (*summary)["validation_accuracy"] = finiteOrNull(report.validationAccuracy);
          (*summary)["last_epoch"] = toJson(report);
          (*summary)["history"].push_back(toJson(report));
          summary.write();
          if (onEpoch) onEpoch(report);
        },
        control);

    saveClassifierModel(result.trained, folder / "model.pt");
    writeFileAtomically(folder / "metrics.csv", metricsCsv(result.history));
    nlohmann::json& json = *summary;
    json["state"] = runStateName(RunState::Finished);
    json["finished"] = utcTimestamp();
    json["epochs_done"] = static_cast<int>(result.history.size());
    json["test_accuracy"] = finiteOrNull(result.testAccuracy);
    json["validation_accuracy"] = finiteOrNull(result.validationAccuracy);
    json["kept_epoch"] = result.keptEpoch;
    json["best_epoch"] = result.bestEpoch;
    json["best_validation_accuracy"] = finiteOrNull(result.bestValidationAccuracy);
    json["history"] = nlohmann::json::array();
    for (const auto& report : result.history) json["history"].push_back(toJson(report));
    if (!result.history.empty()) {
      json["last_epoch"] = toJson(result.history.back());
      json["gamma"] = gammaByTap(result.history.back().gamma);
    }
    json["images"] = {{"train", result.trainImages},
                      {"validation", result.validationImages},
                      {"test", result.testImages},
                      {"target", result.targetImages}};
    json["target"] = result.targetDescription;
    json["device"] = result.device;
    json["resumed_after_epoch"] = result.resumedAfterEpoch;
    json["model"] = toJson(resNetConfig(result.trained.model));
    json["tap_names"] = result.tapNames;
    json["timing"]["seconds"] = result.seconds;
    json["timing"]["seconds_per_epoch"] =
        result.history.empty() ? 0.0 : result.seconds / static_cast<double>(result.history.size());
    json["timing"]["wall_seconds_this_session"] =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (group) {
      // This session's exchanges between the workers (rank 0's view; the others' match in bytes).
      const DataParallelGroup::ExchangeTally exchanged = group->exchanged();
      json["timing"]["exchange"] = {{"seconds", exchanged.seconds - exchangedBefore.seconds},
                                    {"bytes", exchanged.bytes - exchangedBefore.bytes},
                                    {"collectives", exchanged.collectives - exchangedBefore.collectives}};
    }
    summary.write();
    log.add("finished: test accuracy " + csvNumber(result.testAccuracy, 9) + " (epoch " +
            std::to_string(result.keptEpoch) + " weights), " + csvNumber(result.seconds, 9) + " s of training");
  } catch (const CancelledError& error) {
    (*summary)["state"] = runStateName(RunState::Cancelled);
    summary.write();
    log.add(std::string("cancelled: ") + error.what() + "; resume continues after epoch " +
            std::to_string(history.size()));
    throw;
  } catch (const std::exception& error) {
    (*summary)["state"] = runStateName(RunState::Failed);
    (*summary)["error"] = error.what();
    summary.write();
    log.add(std::string("failed: ") + error.what());
    throw;
  }
  return readRun(folder);
}

std::vector<RunRecord> trainRuns(const ClassifierTrainingConfig& config, const fs::path& outputDir, bool resume,
                                 const Job& job, const RunEpochCallback& onEpoch, DataParallelGroup* group) {
  validate(config);
  const std::vector<PlannedRun> runs = plannedRuns(config, outputDir);
  if (group != nullptr)
    group->requireSameOnEveryRank("launch (config, output folder, --resume)",
                                  toJson(config).dump() + "\n" + outputDir.string() + "\n" + std::to_string(resume));
  const double share = 1.0 / static_cast<double>(runs.size());
  std::vector<RunRecord> records;
  for (const PlannedRun& run : runs) {
    const auto done = static_cast<double>(records.size());
    records.push_back(trainRun(run.config, run.folder, resume, job.subJob(share * done, share * (done + 1.0)),
                               [&](const ClassifierEpochReport& report) {
                                 if (onEpoch) onEpoch(run.folder, report);
                               },
                               group));
  }
  return records;
}

TrainedClassifier loadRunModel(const fs::path& runFolder) {
  const fs::path model = runFolder / "model.pt";
  if (!fs::exists(model)) {
    std::string state = "unknown";
    try {
      state = runStateName(readRun(runFolder).state);
    } catch (const Error&) {
    }
    throw FileError(runFolder.string(), "has no model.pt (the run is " + state + ")");
  }
  return loadClassifierModel(model);
}

}  // namespace bp
