#pragma once
// The robustness probe of finished training runs (docs/science.md §1 step 7), as `brainprior-cli probe`
// and the GUI run it: every model sees the same images, the first ProbeConfig::maxImages images of
// the test split its training config names (path or test_path, test_split, grayscale; the training's
// own test subset is not used, so that every model, whatever its max_test_images, is probed on the
// same images in file order). Per model: clean accuracy, each corruption sweep with the area under
// its accuracy-vs-severity curve, each minimum-norm search and the boundary attack (medians, as the
// paper's table), each success-rate curve, and with importance maps (ProbeConfig::alignment) the
// harmonization alignment score. Per launch (the runs of one config over seeds, see
// RunRecord::group): mean +/- SEM over seeds of the clean accuracy, the corruption curves and their
// areas and the alignment score, and the mean over seeds of the models' medians.
//
// The alignment score follows the reference evaluation of Fel et al. 2022 (docs/science.md §2): per
// probe image with an importance map, the Spearman correlation between the map and the model's
// saliency for the true class (alignmentSaliency: the largest absolute input gradient over the
// channels, unblurred), averaged over the images whose two maps both vary, divided by the human
// ceiling 0.65753; so it lies in [-1 / 0.65753, 1 / 0.65753]. The maps are resized to the images'
// size; blur them beforehand as the paper blurs ClickMe maps.
//
// For an image folder (files class by class) the first images may miss whole classes; the report
// then carries a warning. IDX and CIFAR test files interleave the classes.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "classifiers/harmonization.h"
#include "classifiers/run_registry.h"
#include "probing/attacks.h"
#include "probing/corruptions.h"
#include "probing/probe_config.h"
#include "runtime/job.h"
#include "runtime/runtime.h"

namespace bp {

// The images every model of a probe was shown.
struct ProbeImages {
  std::string path;  // the training config's test_path, or its path when that is empty
  std::string split;
  bool grayscale = true;
  std::int64_t count = 0;
  std::vector<std::int64_t> shape;  // channels, height, width
  int classesPresent = 0;           // distinct labels among them
  std::int64_t importanceMaps = 0;  // of them with an importance map (0 without ProbeConfig::alignment)
};

// The area under an accuracy-vs-severity curve by the trapezoid rule over the severities in
// increasing order, divided by the severity range: the mean accuracy over the range (1 for a model
// the corruption never fools). NaN when the curve has fewer than two distinct severities.
double normalizedCurveArea(const CorruptionCurve& curve);

struct ModelProbe {
  std::filesystem::path folder;
  std::string name;    // the run's folder name
  std::string launch;  // RunRecord::group
  std::uint64_t seed = 0;
  std::string regularizer;
  std::string control;  // RunRecord::control: "shuffled", "pixel" or empty
  double alpha = 0.0;   // RunRecord::alpha
  int classCount = 0;  // the model's outputs
  double cleanAccuracy = 0.0;
  std::vector<CorruptionCurve> corruptions;  // one per ProbeConfig::corruptions
  std::vector<double> corruptionAreas;       // normalizedCurveArea of each
  // One per ProbeConfig::minimumNormSearches, then the boundary attack when enabled.
  std::vector<MinimumNormSummary> minimumNorms;
  std::vector<SuccessRateCurve> successCurves;  // one per ProbeConfig::successCurves
  // Over the probe images with an importance map (see the top of this file); NaN without them.
  AlignmentScore alignment;
};

// The mean over a launch's models of one minimum-norm attack's medians (+inf when any model's is).
struct LaunchMinimumNorm {
  std::string attack;
  AttackNorm norm = AttackNorm::LInf;
  std::int64_t images = 0;                // summed over the models
  std::int64_t alreadyMisclassified = 0;  // summed
  std::int64_t failed = 0;                // summed
  double meanMedianEpsilon = 0.0;
  double meanMedianLinf = 0.0;
  double meanMedianL2 = 0.0;
  // Standard errors over the models (NaN for one model, or when a median is infinite).
  double semMedianEpsilon = 0.0;
  double semMedianLinf = 0.0;
  double semMedianL2 = 0.0;
};

struct LaunchProbe {
  std::string name;                 // RunRecord::group
  std::string regularizer;          // of its first model (a launch is one config over seeds)
  std::string control;
  double alpha = 0.0;               // NaN unless neural similarity: the trade-off over alpha
  std::vector<std::string> models;  // the runs' names, in report order
  std::vector<std::uint64_t> seeds;
  // Over seeds: standard error sd / sqrt(n), n - 1 sample deviation (NaN for one model).
  double meanCleanAccuracy = 0.0;
  double semCleanAccuracy = 0.0;
  std::vector<CorruptionCurveSummary> corruptions;  // summarizeCorruptionCurves, per sweep
  std::vector<double> meanCorruptionAreas;
  std::vector<double> semCorruptionAreas;
  std::vector<LaunchMinimumNorm> minimumNorms;  // in ModelProbe::minimumNorms order
  double meanAlignmentScore = 0.0;              // NaN without importance maps
  double semAlignmentScore = 0.0;
};

struct ProbeReport {
  ProbeConfig config;
  RuntimeInfo runtime;
  ProbeImages images;
  std::vector<ModelProbe> models;     // in the order the runs were given
  std::vector<LaunchProbe> launches;  // in order of first appearance
  std::vector<std::string> warnings;  // e.g. classes missing from the probe images
};

// Keys: {"format": "brainprior probe report", "version", "config": ProbeConfig, "runtime":
// RuntimeInfo, "images": {"path", "split", "grayscale", "count", "shape", "classes_present",
// "importance_maps"}, "models": [{"folder", "name", "launch", "seed", "regularizer", "classes",
// "clean_accuracy", "corruptions": [CorruptionCurve + "area"], "minimum_norms": [MinimumNormSummary],
// "success_curves": [SuccessRateCurve], "alignment": {"score", "mean_spearman", "scored_maps"}}],
// "launches": [{"name", "models", "seeds", "mean_clean_accuracy", "sem_clean_accuracy", "corruptions":
// [CorruptionCurveSummary + "mean_area", "sem_area"], "minimum_norms": [{"attack", "norm", "images",
// "already_misclassified", "failed", "mean_median_epsilon", "mean_median_linf", "mean_median_l2"}],
// "mean_alignment_score", "sem_alignment_score"}], "warnings"}; NaN and +inf as null.
nlohmann::json toJson(const ProbeReport& report);

// Probes the finished runs in `runFolders` with `config` on runtimeInfo().device, one model after
// the other. Throws bp::Error, before any probing, for no runs, a folder given twice, runs that have
// not finished (naming every one and its state), or runs whose training configs name different test
// images (naming both); FileError for an unreadable run or importance maps that are unreadable or
// match no probe image; CancelledError when the job is cancelled.
// Imported models (TorchScript files, scripted_classifier.h) are probed after the runs, on the runs'
// test images or, without runs, on ProbeConfig::images; each is its own launch, named by its file,
// regularizer "imported", seed 0. bp::Error for imported models without images or a file given
// twice; FileError for a model without logits.
ProbeReport probeRuns(const std::vector<std::filesystem::path>& runFolders, const ProbeConfig& config,
                      const Job& job = {}, const std::vector<std::filesystem::path>& importedModels = {});

// The paper-style table as CSV (written atomically), one header line, then one row per model and
// one per launch:
//   row                   "model" or "launch"
//   name, launch, seeds   the run's name (or the launch's) and launch, the seed(s) joined by ';'
//   clean_accuracy[_sem]
//   <kind>@<severity>[_sem]     accuracy, per sweep and severity (e.g. gaussian_noise@0.04)
//   <kind>_area[_sem]           normalizedCurveArea
//   <attack>_median_<norm>, <attack>_failed   per minimum-norm attack: the median minimum
//                               perturbation in the attack's norm, the images it never fooled
//   alignment_score[_sem]       with ProbeConfig::alignment only
// _sem columns are empty on model rows; a launch's values are means over its models (failures
// summed). A sweep or attack that appears twice gets "#2", "#3" on its columns. +inf is "inf", NaN empty.
void writeProbeTable(const ProbeReport& report, const std::filesystem::path& file);

// A probe report folder, as `brainprior-cli probe` and the GUI's comparison dashboard make it.
struct ProbeReportFolderConfig {
  // Run folders or folders of runs, and imported model files, as collectModels takes them.
  std::vector<std::string> runs;
  ProbeConfig probe;
  // Where report.json and probe-table.csv go (created when missing); empty: the report is only
  // returned (the CLI without --output-dir).
  std::filesystem::path outputDir;
};

struct ProbeReportFolder {
  ProbeReport report;
  nlohmann::json json;  // report.json: toJson(report) with "skipped", the runs collectRunFolders skipped
};

// Validates config.probe, collects the runs (collectRunFolders; `onRunsCollected` hears which it
// skipped), probes the finished ones (probeRuns), and writes report.json and probe-table.csv
// (writeProbeTable) into config.outputDir. Throws as those do.
ProbeReportFolder writeProbeReportFolder(const ProbeReportFolderConfig& config, const Job& job = {},
                                         const RunsCollectedCallback& onRunsCollected = {});

}  // namespace bp
