#pragma once
// Classifier training runs on disk: one folder per run (one per seed), a registry that lists them,
// and a way back to a run's model. Every file is written atomically (a reader never sees half a
// file), and rewritten as the run goes:
//   config.json    the run's config (a single seed; `brainprior-cli train --config` repeats it)
//   log.txt        timestamped lines: start, data, every epoch, the end or the error
//   metrics.csv    one row per epoch: every loss term, accuracies, learning rate, seconds, gammas
//   checkpoint.pt  the last complete epoch (model, regularizer, optimizer, curve), for --resume
//   model.pt       the trained classifier (saveClassifierModel), once the run has finished
//   summary.json   (kRunSummaryFile) state (runStateName: "running", "finished", "failed",
//                  "cancelled"), seed, regularizer, the curve so far ("history"), final accuracies,
//                  timing, the config, and the runtime (device, library versions); run_registry.h
//                  reads it back
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "classifiers/classifier_trainer.h"
#include "classifiers/run_registry.h"
#include "runtime/job.h"

namespace bp {

// "<name>-seed<seed>"; without a name "<architecture>-<regularizer>[-pixel][-shuffled][-thresholded]".
std::string runFolderName(const ClassifierTrainingConfig& config, std::uint64_t seed);
// config.seeds, or config.seed alone when the list is empty.
std::vector<std::uint64_t> runSeeds(const ClassifierTrainingConfig& config);

// Trains config.seed's run into `folder` (created when missing). Without `resume`, a folder that
// already holds a run is refused (bp::Error); with it, the run continues from checkpoint.pt (or
// starts when there is none). The summary records failure and cancellation before the exception
// (bp::Error, CancelledError) propagates.
// With a data-parallel `group`, rank 0 does all of this and the other ranks only train their share
// (they return a record with the folder alone); see ClassifierFitControl::group.
RunRecord trainRun(const ClassifierTrainingConfig& config, const std::filesystem::path& folder, bool resume,
                   const Job& job = {}, const ClassifierEpochCallback& onEpoch = {},
                   DataParallelGroup* group = nullptr);

using RunEpochCallback = std::function<void(const std::filesystem::path& folder, const ClassifierEpochReport&)>;

// What a config launches: for each alpha of its sweep ("alphas", as a launch named
// "<name>-alpha<alpha>"; else the config itself), one run per seed of runSeeds(config), each with
// its own config (one seed, one alpha) and folder outputDir / runFolderName(...).
struct PlannedRun {
  ClassifierTrainingConfig config;
  std::filesystem::path folder;
};
std::vector<PlannedRun> plannedRuns(const ClassifierTrainingConfig& config, const std::filesystem::path& outputDir);

// The planned runs, one after the other. The first failure or cancellation stops the launch
// (later runs do not start). With a group, every rank must call it with the same arguments
// (checked), and rank 0 checks each run folder before its run starts.
std::vector<RunRecord> trainRuns(const ClassifierTrainingConfig& config, const std::filesystem::path& outputDir,
                                 bool resume, const Job& job = {}, const RunEpochCallback& onEpoch = {},
                                 DataParallelGroup* group = nullptr);

// The run's trained classifier (model.pt), on the CPU in evaluation mode. FileError when the run
// has not finished.
TrainedClassifier loadRunModel(const std::filesystem::path& runFolder);

}  // namespace bp
