#pragma once
// Neural predictivity of trained classifiers (docs/science.md §2; Linsley et al. 2023, the Brain-Score
// protocol): how well a linear readout of one layer's features predicts neural responses to the
// same images, per layer, so that accuracy can be plotted against predictivity across models.
//
// Choices, where the protocol leaves room or this project differs:
// - Images: every distinct image of the neural dataset, whatever its tier (the readout is fitted
//   and scored by cross-validation over them, so the dataset's own split is not needed, and more
//   images give a steadier score), in order of their first trial, the first maxImages of them.
//   The target is each image's repeat-averaged response.
// - Cross-validation: K folds over images (a seeded shuffle), every image predicted once by the
//   readout fitted on the other folds; Pearson r per neuron between these predictions and the
//   targets, median over neurons. (Brain-Score averages 10 random 90/10 splits; K-fold gives every
//   image exactly one held-out prediction, hence one r per neuron.)
// - Ceiling: per neuron, the split-half correlation over repeated images (each image's trials
//   alternately into two halves, in trial order), Spearman-Brown corrected 2r / (1 + r). The
//   ceiling-normalised score is the median over neurons of r / ceiling, over the neurons whose
//   ceiling is finite and positive (NaN when none is, e.g. without repeats).
// - Model input: the pixels mapped linearly from the dataset's value range to [0, 1] (kept as they
//   are when already inside [0, 1]), then brought to the model's input shape (layer_features.h).
// - Features: each layer pooled to poolSize x poolSize (layer_features.h).
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "classifiers/run_registry.h"
#include "data/neural_dataset.h"
#include "runtime/job.h"
#include "runtime/runtime.h"

namespace bp {

struct TrainedClassifier;

enum class ReadoutMethod { Ridge, Pls };

const char* readoutMethodName(ReadoutMethod method);  // "ridge", "pls"

struct PredictivityConfig {
  ReadoutMethod method = ReadoutMethod::Pls;
  int components = 25;    // PLS components (capped at the feature count and the training images - 1)
  double lambda = 1.0;    // ridge penalty on standardised features
  int folds = 5;          // cross-validation folds over images
  std::uint64_t seed = 0;  // the fold shuffle
  int poolSize = 2;       // features: each tap pooled to poolSize x poolSize
  std::int64_t maxImages = 0;  // the first distinct images; 0: all
  std::int64_t batchSize = 64;
  // The layers to score, by name (ClassifierImpl::tapNames; `brainprior-cli layers` lists them);
  // each model scores those it has, in its own order. Empty: every layer.
  std::vector<std::string> layers;
};

// Keys: {"method": "ridge"|"pls", "components", "lambda", "folds", "seed", "pool_size", "max_images",
// "batch_size", "layers"}.
nlohmann::json toJson(const PredictivityConfig& config);
// Missing keys keep their defaults; an unknown key or a wrong type is a bp::Error naming it.
PredictivityConfig predictivityConfigFromJson(const nlohmann::json& json);
// Throws bp::Error naming the first invalid setting.
void validate(const PredictivityConfig& config);

// ---- Readouts: features (images x units) -> responses (images x neurons) --------------------------
// Every tensor is converted to double. Features are standardised with the training rows' mean and
// (population) standard deviation, a constant feature staying 0; responses are centred, and the
// prediction adds their training mean back (the intercept).

// Ridge: coefficients (Z'Z + lambda I)^-1 Z'(Y - mean Y) on standardised features Z; lambda 0 is
// least squares. Returns the predictions for `query` (rows x neurons).
torch::Tensor ridgePredict(const torch::Tensor& features, const torch::Tensor& responses, const torch::Tensor& query,
                           double lambda);
// PLS2 as NIPALS defines it (X weights normalised to unit length, X and Y deflated by the score's
// regression), with min(components, units, rows - 1) components, fewer when X or the responses are
// exhausted before. Computed without NIPALS' inner iterations over the responses: each X weight is
// the dominant left singular vector of the deflated cross-covariance X'Y (formed once and deflated
// by rank-1 terms), found on the Gram matrix of its shorter side, so thousands of neurons cost one
// matrix product per fit.
torch::Tensor plsPredict(const torch::Tensor& features, const torch::Tensor& responses, const torch::Tensor& query,
                         int components);

// Every image's prediction by the readout fitted on the other folds (images x neurons, double).
// Throws bp::Error when there are fewer images than 2 per fold.
torch::Tensor crossValidatedPredictions(const torch::Tensor& features, const torch::Tensor& responses,
                                        const PredictivityConfig& config, const Job& job = {});

// Per neuron (columns): Pearson r of predictions and responses (NaN for a constant column).
std::vector<double> columnCorrelations(const torch::Tensor& predictions, const torch::Tensor& responses);
// The median of the finite values (NaN when there is none).
double finiteMedian(const std::vector<double>& values);

struct ReadoutScore {
  std::vector<double> correlations;  // per neuron
  double medianCorrelation = 0.0;
  double normalizedMedian = 0.0;  // median of r / ceiling (see the top of this file)
};

// Cross-validated score of features against responses; `ceilings` one per neuron (or empty: NaN
// normalised median).
ReadoutScore scoreReadout(const torch::Tensor& features, const torch::Tensor& responses,
                          const std::vector<double>& ceilings, const PredictivityConfig& config, const Job& job = {});

// ---- Neural targets ---------------------------------------------------------------------------------

struct NeuralTargets {
  torch::Tensor images;     // distinct images x channels x height x width, in [0, 1]
  torch::Tensor responses;  // distinct images x neurons: the repeat average
  std::vector<std::int64_t> imageIds;
  std::vector<double> ceilings;  // per neuron, split-half Spearman-Brown
  std::int64_t repeatedImages = 0;
};

// The first `maxImages` (0: all) distinct images of `dataset` and their targets.
NeuralTargets neuralTargets(const NeuralDataset& dataset, std::int64_t maxImages = 0);

// ---- Finished runs --------------------------------------------------------------------------------

struct LayerPredictivity {
  std::string tap;
  std::int64_t units = 0;
  ReadoutScore score;
};

struct ModelPredictivity {
  std::filesystem::path folder;
  std::string name;    // the run's folder name
  std::string launch;  // RunRecord::group
  std::uint64_t seed = 0;
  std::string regularizer;
  double testAccuracy = 0.0;  // summary.json's test_accuracy (NaN when absent)
  std::vector<LayerPredictivity> layers;  // in tapNames() order
  std::string bestLayer;  // the tap with the highest median r
};

// One tap over a launch's models.
struct LaunchLayerPredictivity {
  std::string tap;
  double meanMedianCorrelation = 0.0;
  double semMedianCorrelation = 0.0;
  double meanNormalizedMedian = 0.0;
  double semNormalizedMedian = 0.0;
};

// A launch (the runs of one config over seeds, RunRecord::group) over its models, as the probe's
// LaunchProbe: each value's mean and standard error sd / sqrt(n), with the n - 1 sample deviation
// (NaN for one model). A model's NaN (no test accuracy, no finite median) makes the launch's NaN.
struct LaunchPredictivity {
  std::string name;                 // RunRecord::group
  std::vector<std::string> models;  // the runs' names, in report order
  std::vector<std::uint64_t> seeds;
  double meanTestAccuracy = 0.0;
  double semTestAccuracy = 0.0;
  // The first model's taps in order, each over the models that have it (a launch's models share
  // their architecture).
  std::vector<LaunchLayerPredictivity> layers;
  // Each model's median r on its own best tap, whichever tap that is.
  double meanBestMedianCorrelation = 0.0;
  double semBestMedianCorrelation = 0.0;
};

// The launches of `models` in order of first appearance.
std::vector<LaunchPredictivity> summarizeLaunches(const std::vector<ModelPredictivity>& models);

struct PredictivityReport {
  PredictivityConfig config;
  RuntimeInfo runtime;
  std::string neuralPath;
  std::int64_t images = 0;
  std::int64_t neurons = 0;
  std::int64_t repeatedImages = 0;
  double medianCeiling = 0.0;
  std::vector<ModelPredictivity> models;     // in the order the runs were given
  std::vector<LaunchPredictivity> launches;  // summarizeLaunches(models)
};

// Keys: {"format": "brainprior predictivity report", "version", "config", "runtime", "neural": {"path",
// "images", "neurons", "repeated_images", "median_ceiling"}, "models": [{"folder", "name", "launch",
// "seed", "regularizer", "test_accuracy", "best_layer", "layers": [{"tap", "units", "median_r",
// "normalized_median_r", "neuron_r"}]}], "launches": [{"name", "models", "seeds", "mean_test_accuracy",
// "sem_test_accuracy", "mean_best_median_r", "sem_best_median_r", "layers": [{"tap", "mean_median_r",
// "sem_median_r", "mean_normalized_median_r", "sem_normalized_median_r"}]}]}; NaN as null.
nlohmann::json toJson(const PredictivityReport& report);

// The predictivity of every tap of `model` that config.layers names (all without names; a classifier
// of loadAnalysisModel, on the CPU or moved to runtimeInfo().device) for `targets`. bp::Error naming
// the layers the model has when it has none of config.layers.
std::vector<LayerPredictivity> layerPredictivity(const TrainedClassifier& trained,
                                                 const NeuralTargets& targets, const PredictivityConfig& config,
                                                 const Job& job = {});

// Scores the finished runs in `runFolders`, then the imported models (TorchScript files,
// scripted_classifier.h; each its own launch named by its file, regularizer "imported", test accuracy
// NaN, every layer of its output scored) against `dataset`, one model after the other. Throws
// bp::Error for no models, a folder or file given twice or a run that has not finished (naming every
// one); FileError for an unreadable run or model; CancelledError when the job is cancelled.
PredictivityReport predictivityOfRuns(const std::vector<std::filesystem::path>& runFolders,
                                      const NeuralDataset& dataset, const PredictivityConfig& config,
                                      const Job& job = {},
                                      const std::vector<std::filesystem::path>& importedModels = {});

// One row per model and tap, written atomically: name, launch, seed, regularizer, test_accuracy,
// tap, units, median_r, normalized_median_r, best (1 on the model's best tap). NaN is empty.
void writePredictivityTable(const PredictivityReport& report, const std::filesystem::path& file);
// The launches in the same long form, a file of their own so that the per-model table keeps its
// columns: one row per launch and tap, written atomically: launch, models (their count), seeds
// (joined by ';'), mean_test_accuracy, sem_test_accuracy, tap, mean_median_r, sem_median_r,
// mean_normalized_median_r, sem_normalized_median_r, mean_best_median_r, sem_best_median_r (the
// launch's, repeated on each of its rows). NaN is empty.
void writePredictivityLaunchTable(const PredictivityReport& report, const std::filesystem::path& file);

// A predictivity report folder, as `brainprior-cli predictivity` and the GUI's comparison dashboard
// make it.
struct PredictivityReportFolderConfig {
  std::vector<std::string> runs;  // run folders, folders of runs and imported model files, as collectModels takes them
  std::filesystem::path neuralPath;  // the neural dataset (any format loadNeuralDataset reads), or "default"
  PredictivityConfig predictivity;
  // Where report.json, predictivity-table.csv and predictivity-launches.csv go (created when
  // missing); empty: the report is only returned (the CLI without --output-dir).
  std::filesystem::path outputDir;
};

struct PredictivityReportFolder {
  PredictivityReport report;
  nlohmann::json json;  // report.json: toJson(report) with "skipped", the runs collectRunFolders skipped
};

// Validates config.predictivity, collects the runs (collectRunFolders; `onRunsCollected` hears
// which it skipped), reads the neural dataset, scores the finished runs (predictivityOfRuns), and
// writes report.json and the two tables (writePredictivityTable, writePredictivityLaunchTable)
// into config.outputDir. Throws as those do.
PredictivityReportFolder writePredictivityReportFolder(const PredictivityReportFolderConfig& config,
                                                       const Job& job = {},
                                                       const RunsCollectedCallback& onRunsCollected = {});

}  // namespace bp
