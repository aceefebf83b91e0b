#pragma once
// Classifier training runs on disk: one folder per run (one per seed), a registry that lists them,
// and a way back to a run's model. Every file is written atomically (a reader never sees half a
// file), and rewritten as the run goes:
//   config.json    the run's config (a single seed; `brainprior-cli train --config` repeats it)
//   log.txt        timestamped lines: start, data, every epoch, the end or the error
//   metrics.csv    one row per epoch: every loss term, accuracies, learning rate, seconds, gammas
//   checkpoint.pt  the last complete epoch (model, regularizer, optimizer, curve), for --resume
//   model.pt       the trained classifier (saveClassifierModel), once the run has finished
//   summary.json   state ("running", "finished", "failed", "cancelled"), seed, regularizer, final
//                  accuracies, timing, the config, and the runtime (device, library versions)
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "classifiers/classifier_trainer.h"
#include "runtime/job.h"

namespace bp {

// What the registry knows about one run (from its summary.json).
struct RunRecord {
  std::filesystem::path folder;
  std::string name;  // the folder's name
  // "running", "finished", "failed", "cancelled"; "interrupted" for a run that says running but
  // whose process (on this machine) is gone; "unreadable" for a summary that cannot be parsed.
  std::string state;
  std::string regularizer;  // regularizerKindName
  std::uint64_t seed = 0;
  int epochsDone = 0;
  int epochs = 0;
  double testAccuracy = 0.0;        // of the kept weights when finished, else the last epoch's; NaN before any
  double validationAccuracy = 0.0;  // NaN without validation images
  double seconds = 0.0;
  std::string error;       // for failed and unreadable runs
  std::string updated;     // UTC time of the summary's last write
  nlohmann::json summary;  // the whole summary.json
};

// The registry's view (without the summary body).
nlohmann::json toJson(const RunRecord& record);

// "<name>-seed<seed>"; without a name "<architecture>-<regularizer>[-pixel][-shuffled][-thresholded]".
std::string runFolderName(const ClassifierTrainingConfig& config, std::uint64_t seed);
// config.seeds, or config.seed alone when the list is empty.
std::vector<std::uint64_t> runSeeds(const ClassifierTrainingConfig& config);

// Trains config.seed's run into `folder` (created when missing). Without `resume`, a folder that
// already holds a run is refused (bp::Error); with it, the run continues from checkpoint.pt (or
// starts when there is none). The summary records failure and cancellation before the exception
// (bp::Error, CancelledError) propagates.
RunRecord trainRun(const ClassifierTrainingConfig& config, const std::filesystem::path& folder, bool resume,
                   const Job& job = {}, const ClassifierEpochCallback& onEpoch = {});

using RunEpochCallback = std::function<void(const std::filesystem::path& folder, const ClassifierEpochReport&)>;

// One run per seed of runSeeds(config), each in outputDir / runFolderName(config, seed), one after
// the other. The first failure or cancellation stops the launch (later seeds do not start).
std::vector<RunRecord> trainRuns(const ClassifierTrainingConfig& config, const std::filesystem::path& outputDir,
                                 bool resume, const Job& job = {}, const RunEpochCallback& onEpoch = {});

// The run in `runFolder` (FileError when it has no summary.json or it cannot be parsed).
RunRecord readRun(const std::filesystem::path& runFolder);
// Every run in `folder` (itself, when it is a run folder, and its direct subfolders), sorted by
// folder name; `regularizer` non-empty keeps only runs with that regularizer kind.
std::vector<RunRecord> listRuns(const std::filesystem::path& folder, const std::string& regularizer = "");
// The run's trained classifier (model.pt), on the CPU in evaluation mode. FileError when the run
// has not finished.
TrainedClassifier loadRunModel(const std::filesystem::path& runFolder);

}  // namespace bp
