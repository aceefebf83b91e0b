#pragma once
// Per-neuron data quality from repeated presentations of the same image (docs/science.md §1 step 3
// and §3 "Measures"; the neuralpredictors definitions). A "repeated image" is an image id with
// at least two trials among the trials considered; its trials are the "repeated trials".
#include <cstdint>
#include <optional>
#include <vector>

#include "data/neural_dataset.h"
#include "runtime/job.h"

namespace bp {

struct NeuronReliability {
  // Over every trial considered (unbiased variance; exactly 0 for a constant neuron).
  std::vector<double> mean;
  std::vector<double> variance;
  // Repeat-based, over the repeated trials; NaN for a neuron that is constant on them and for
  // every neuron when there is no repeated image.
  // Jackknife oracle: Pearson r, pooled over all repeated trials, between a trial's response and
  // the mean of the other repeats of its image.
  std::vector<double> oracleCorrelation;
  // (total variance - mean within-image variance) / total variance. Negative when the repeats of
  // an image disagree more than different images do (pure noise gives about 0, and a noisy
  // estimate of 0 goes below it): kept as is, not clamped, so averages over neurons stay unbiased.
  std::vector<double> explainableVarianceFraction;
  // Signal-to-noise ratio (sigma / eta)^2 of Li et al. 2019: signal variance = unbiased variance
  // over images of the repeat-averaged response (which still holds noise variance / repeats), noise
  // variance = mean over images of the unbiased within-image variance. NaN with fewer than two
  // repeated images; +infinity for a neuron without trial-to-trial noise (noise-free synthetic rates).
  std::vector<double> snr;
  std::int64_t repeatedImages = 0;
  std::int64_t repeatedTrials = 0;
};

struct ReliabilityConfig {
  // Restrict every measure to the trials of one tier. Default: all trials for mean and variance,
  // and every repeated image, whatever its tier, for the repeat-based measures.
  std::optional<Tier> tier;
};

// Throws bp::Error when the dataset is inconsistent, CancelledError when the job is cancelled.
NeuronReliability computeReliability(const NeuralDataset& dataset, const ReliabilityConfig& config = {},
                                     const Job& job = {});

// The weights w_a = sigma_a / eta_a = sqrt(snr) of Li et al. 2019; NaN becomes 0 so that neurons
// without a reliability estimate drop out of a weighted similarity. +infinity stays (see snr).
std::vector<double> reliabilityWeights(const NeuronReliability& reliability);

}  // namespace bp
