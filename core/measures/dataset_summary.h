#pragma once
// A description of a neural recording for `brainprior-cli info` and the GUI's dataset panel:
// counts, shapes, tiers, repeats, and the distribution of the per-neuron reliability measures.
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/neural_dataset.h"
#include "measures/reliability.h"
#include "runtime/job.h"

namespace bp {

// Order statistics of the non-NaN values (linear interpolation between order statistics, as
// numpy's default). Infinities count as values. All NaN when there is no value.
struct Quantiles {
  std::int64_t count = 0;  // values that are not NaN
  double min = std::numeric_limits<double>::quiet_NaN();
  double p05 = std::numeric_limits<double>::quiet_NaN();
  double p25 = std::numeric_limits<double>::quiet_NaN();
  double median = std::numeric_limits<double>::quiet_NaN();
  double p75 = std::numeric_limits<double>::quiet_NaN();
  double p95 = std::numeric_limits<double>::quiet_NaN();
  double max = std::numeric_limits<double>::quiet_NaN();
};

Quantiles quantilesIgnoringNaN(std::vector<double> values);

// How the trials of one tier (or of all tiers) cover the images.
struct ImageRepeats {
  std::int64_t trials = 0;
  std::int64_t uniqueImages = 0;
  std::int64_t repeatedImages = 0;  // images with at least two trials
  std::int64_t maxRepeats = 0;      // most trials of one image (0 without trials)
};

struct DatasetSummary {
  std::string name;
  std::string sourcePath;
  std::int64_t neurons = 0;

  std::int64_t declaredTrials = 0;
  std::int64_t presentTrials = 0;
  std::int64_t missingTrials = 0;
  std::map<Tier, ImageRepeats> tiers;  // every tier, with zero counts when it has no trial
  ImageRepeats allTiers;               // repeats counted across tiers (by image id)

  int channels = 0;
  int height = 0;
  int width = 0;
  double imageMin = std::numeric_limits<double>::quiet_NaN();  // over present trials
  double imageMax = std::numeric_limits<double>::quiet_NaN();

  bool hasBehavior = false;
  bool hasPupilCenter = false;
  bool hasNoiseFreeRates = false;

  double responseMean = std::numeric_limits<double>::quiet_NaN();  // over trials and neurons
  double responseMax = std::numeric_limits<double>::quiet_NaN();

  // computeReliability with its defaults: every repeated image, whatever its tier.
  std::int64_t repeatedTrials = 0;
  std::int64_t neuronsWithOracleCorrelation = 0;  // finite oracle correlation
  Quantiles oracleCorrelation;
  Quantiles explainableVarianceFraction;
  Quantiles snr;

  // Synthetic data only: how far the noisy responses are from the ground-truth rates.
  std::optional<double> noiseFreeCorrelation;           // Pearson r pooled over all trials and neurons
  std::optional<Quantiles> neuronNoiseFreeCorrelation;  // per-neuron r across trials
};

// Throws bp::Error when the dataset is inconsistent, CancelledError when the job is cancelled.
DatasetSummary summarizeDataset(const NeuralDataset& dataset, const Job& job = {});
// The same, reusing reliability already computed with computeReliability's defaults.
DatasetSummary summarizeDataset(const NeuralDataset& dataset, const NeuronReliability& reliability,
                                const Job& job = {});

// Nested, readable JSON ({"trials": {"declared", "present", "missing", "by_tier"}, "images": ...,
// "reliability": ...}); NaN and infinities become null.
nlohmann::json toJson(const DatasetSummary& summary);

}  // namespace bp
