#pragma once
// What is known about classifier training runs from their folders, free of LibTorch so that the GUI
// can list, compare and draw runs without the engine's model headers: the curve's lines, one run's
// record (read from its summary.json, see run_folder.h), the registry over a folder of runs, and the
// comparison of a launch's seeds side by side.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/undefined.h"

namespace bp {

// One line of the training curve, after every epoch (plain values, safe to hand to a GUI).
struct ClassifierEpochReport {
  int epoch = 0;  // 1-based
  double learningRate = 0.0;
  double classificationLoss = 0.0;  // mean cross-entropy over the epoch's batches
  double regularizationLoss = 0.0;  // mean L_sim or L_harm, unweighted (0 without a regularizer)
  double totalLoss = 0.0;           // mean of the optimised loss: CE + alpha * L_sim or CE + weight * L_harm
  double trainAccuracy = 0.0;       // on the epoch's (augmented) batches, in training mode
  double validationAccuracy = 0.0;  // NaN without validation images
  double testAccuracy = 0.0;        // clean test images
  std::vector<double> gamma;        // the learned layer weights (neural similarity only)
  double seconds = 0.0;             // this epoch, training and evaluation
  double totalSeconds = 0.0;        // since the run began, including epochs before a resume
};

nlohmann::json toJson(const ClassifierEpochReport& report);
ClassifierEpochReport classifierEpochReportFromJson(const nlohmann::json& json);

// The file that makes a folder a run folder: its record, written atomically as the run goes.
inline constexpr const char* kRunSummaryFile = "summary.json";
// summary.json's "format".
inline constexpr const char* kRunSummaryFormat = "brainprior classifier run";

// Whether `folder` is a run folder (it holds a summary.json); whether the summary is readable is
// readRun's question.
inline bool isRunFolder(const std::filesystem::path& folder) {
  std::error_code ec;
  return std::filesystem::exists(folder / kRunSummaryFile, ec);
}

// Where a run stands. Running, Finished, Failed and Cancelled are what the run writes into its
// summary; the registry adds Interrupted for a run whose summary says running but whose process (on
// this machine) is gone, and Unreadable for a summary that cannot be parsed.
enum class RunState { Running, Finished, Failed, Cancelled, Interrupted, Unreadable };

// "running", "finished", "failed", "cancelled", "interrupted", "unreadable": the summary's and the
// registry's JSON "state".
const char* runStateName(RunState state);
// The state runStateName names; nullopt for any other text.
std::optional<RunState> parseRunState(const std::string& name);

// Who is running a run: {"pid", "host"} of this process, stamped into a running run's summary so
// that the registry can tell a live run from one whose process is gone.
nlohmann::json runOwner();

// What the registry knows about one run (from its summary.json).
struct RunRecord {
  std::filesystem::path folder;
  std::string name;   // the folder's name, "<launch>-seed<seed>"
  std::string group;  // the launch's name: the folder's name without "-seed<seed>"
  RunState state = RunState::Unreadable;
  std::string regularizer;  // regularizerKindName
  // "shuffled" or "pixel" for the neural-similarity regularizer's controls (a shuffled target, pixel
  // similarity), empty otherwise: a control must never read as the neural prior itself.
  std::string control;
  std::string target;       // the regularization target's description (empty before the data is read)
  std::string targetWarning;  // why the target is degenerate (SimilarityDistribution::degenerate), or empty
  double alpha = kUndefined;  // the neural-similarity regularizer's strength; NaN for other regularizers
  std::uint64_t seed = 0;
  int epochsDone = 0;
  int epochs = 0;
  double testAccuracy = 0.0;        // of the kept weights when finished, else the last epoch's; NaN before any
  double validationAccuracy = 0.0;  // NaN without validation images
  double seconds = 0.0;
  std::string device;      // where it trains or trained ("cpu", "cuda")
  std::string error;       // for failed and unreadable runs
  std::string updated;     // UTC time of the summary's last write
  std::vector<ClassifierEpochReport> history;  // the curve so far
  nlohmann::json summary;  // the whole summary.json
};

// The registry's view (without the summary body and the curve).
nlohmann::json toJson(const RunRecord& record);

// The run in `runFolder` (FileError when it has no summary.json, or it cannot be parsed or names no
// known state).
RunRecord readRun(const std::filesystem::path& runFolder);
// Every run in `folder` (itself, when it is a run folder, and its direct subfolders), sorted by
// folder name; `regularizer` non-empty keeps only runs with that regularizer kind.
std::vector<RunRecord> listRuns(const std::filesystem::path& folder, const std::string& regularizer = "");

// The records of `runFolders` for a `purpose` that needs trained models ("probe", "predictivity"):
// bp::Error when the list is empty, when a folder is given twice (it would count twice in its
// launch), or when any run has not finished (naming each with its state and folder).
std::vector<RunRecord> readFinishedRuns(const std::vector<std::filesystem::path>& runFolders,
                                        const std::string& purpose);

// The runs of one launch (the same config over seeds) side by side with the others: the statistics
// are over its finished runs only, so a run still going or one that failed never skews them.
struct RunGroup {
  std::string name;  // RunRecord::group
  std::string regularizer;
  std::string control;  // RunRecord::control
  std::string target;
  std::string targetWarning;  // RunRecord::targetWarning
  int runs = 0;      // of every state
  int finished = 0;  // the runs the statistics are over
  std::vector<std::uint64_t> finishedSeeds;
  double meanTestAccuracy = 0.0;  // NaN without finished runs
  double sdTestAccuracy = 0.0;    // sample standard deviation over seeds; NaN below two runs
  double minTestAccuracy = 0.0;
  double maxTestAccuracy = 0.0;
  double meanValidationAccuracy = 0.0;  // NaN when no finished run has validation images
  double meanSeconds = 0.0;             // training time per run
};

// Groups in order of first appearance in `records`.
std::vector<RunGroup> compareRuns(const std::vector<RunRecord>& records);
nlohmann::json toJson(const RunGroup& group);

// The training runs a user names (on a command line, or picked in the GUI): a run folder as given
// (a command that needs trained models refuses an unfinished one by name), and the finished runs of
// a folder of runs (the others are appended to `skipped` as {"folder", "state"}). FileError for a
// folder with no finished run.
std::vector<std::filesystem::path> collectRunFolders(const std::vector<std::string>& arguments,
                                                     nlohmann::json& skipped);

// The models a user names for an analysis that takes imported models too: regular files are
// imported models (TorchScript files, scripted_classifier.h), in order; the rest are collected as
// collectRunFolders collects them.
struct ModelArguments {
  std::vector<std::filesystem::path> runFolders;
  std::vector<std::filesystem::path> importedModels;
};
ModelArguments collectModels(const std::vector<std::string>& arguments, nlohmann::json& skipped);

// An imported model stands beside runs under a record of its own: named and launched by its file's
// name, regularizer kImportedModelRegularizer, seed 0, finished.
inline constexpr const char* kImportedModelRegularizer = "imported";
RunRecord importedModelRecord(const std::filesystem::path& file);
inline bool isImportedModel(const RunRecord& record) { return record.regularizer == kImportedModelRegularizer; }

// readFinishedRuns of models.runFolders, then importedModelRecord of each imported model, for a
// `purpose` that needs trained models. bp::Error as readFinishedRuns for no models at all, or for an
// imported model given twice.
std::vector<RunRecord> readModelRecords(const ModelArguments& models, const std::string& purpose);

// Told, by a command that collects its runs with collectRunFolders, which runs it skipped
// ({"folder", "state"}), once they are collected and before the work on them starts.
using RunsCollectedCallback = std::function<void(const nlohmann::json& skipped)>;

}  // namespace bp
