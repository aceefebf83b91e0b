#include "measures/dataset_summary.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "measures/correlation.h"
#include "measures/reliability.h"
#include "runtime/config_reader.h"

namespace bp {
namespace {

constexpr Tier kTiers[] = {Tier::Train, Tier::Validation, Tier::Test};

ImageRepeats countRepeats(const NeuralDataset& dataset, std::optional<Tier> tier) {
  std::unordered_map<std::int64_t, std::int64_t> trialsOfImage;
  ImageRepeats repeats;
  for (std::size_t t = 0; t < dataset.tiers.size(); ++t) {
    if (tier && dataset.tiers[t] != *tier) continue;
    ++trialsOfImage[dataset.imageIds[t]];
    ++repeats.trials;
  }
  repeats.uniqueImages = static_cast<std::int64_t>(trialsOfImage.size());
  for (const auto& [image, trials] : trialsOfImage) {
    if (trials >= 2) ++repeats.repeatedImages;
    repeats.maxRepeats = std::max(repeats.maxRepeats, trials);
  }
  return repeats;
}

// Sorted values at fraction q of the way from first to last (numpy's "linear" method).
double interpolate(const std::vector<double>& sorted, double q) {
  const double position = q * static_cast<double>(sorted.size() - 1);
  const auto below = static_cast<std::size_t>(std::floor(position));
  const double fraction = position - static_cast<double>(below);
  // Equal neighbours (or no fraction) return the value itself: inf - inf would give NaN.
  if (fraction == 0.0 || below + 1 >= sorted.size() || sorted[below] == sorted[below + 1]) return sorted[below];
  return sorted[below] + fraction * (sorted[below + 1] - sorted[below]);
}

nlohmann::json toJson(const Quantiles& quantiles) {
  return {{"count", quantiles.count},     {"min", finiteOrNull(quantiles.min)},       {"p05", finiteOrNull(quantiles.p05)},
          {"p25", finiteOrNull(quantiles.p25)}, {"median", finiteOrNull(quantiles.median)}, {"p75", finiteOrNull(quantiles.p75)},
          {"p95", finiteOrNull(quantiles.p95)}, {"max", finiteOrNull(quantiles.max)}};
}

nlohmann::json toJson(const ImageRepeats& repeats) {
  return {{"trials", repeats.trials},
          {"unique", repeats.uniqueImages},
          {"repeated", repeats.repeatedImages},
          {"max_repeats", repeats.maxRepeats}};
}

}  // namespace

Quantiles quantilesIgnoringNaN(std::vector<double> values) {
  values.erase(std::remove_if(values.begin(), values.end(), [](double v) { return std::isnan(v); }), values.end());
  Quantiles quantiles;
  quantiles.count = static_cast<std::int64_t>(values.size());
  if (values.empty()) return quantiles;
  std::sort(values.begin(), values.end());
  quantiles.min = values.front();
  quantiles.p05 = interpolate(values, 0.05);
  quantiles.p25 = interpolate(values, 0.25);
  quantiles.median = interpolate(values, 0.5);
  quantiles.p75 = interpolate(values, 0.75);
  quantiles.p95 = interpolate(values, 0.95);
  quantiles.max = values.back();
  return quantiles;
}

DatasetSummary summarizeDataset(const NeuralDataset& dataset, const Job& job) {
  dataset.validate();
  const auto reliability = computeReliability(dataset, {}, job.subJob(0.0, 0.8));
  return summarizeDataset(dataset, reliability, job.subJob(0.8, 1.0));
}

DatasetSummary summarizeDataset(const NeuralDataset& dataset, const NeuronReliability& reliability, const Job& job) {
  dataset.validate();
  DatasetSummary summary;
  summary.name = dataset.name;
  summary.sourcePath = dataset.sourcePath;
  summary.neurons = dataset.neuronCount;
  summary.declaredTrials = dataset.declaredTrialCount();
  summary.presentTrials = dataset.trialCount();
  summary.missingTrials = static_cast<std::int64_t>(dataset.missingTrialIds.size());
  for (const auto tier : kTiers) summary.tiers[tier] = countRepeats(dataset, tier);
  summary.allTiers = countRepeats(dataset, std::nullopt);

  summary.channels = dataset.channels;
  summary.height = dataset.height;
  summary.width = dataset.width;
  if (!dataset.images.empty()) {
    const auto [low, high] = std::minmax_element(dataset.images.begin(), dataset.images.end());
    summary.imageMin = *low;
    summary.imageMax = *high;
  }
  summary.hasBehavior = dataset.hasBehavior();
  summary.hasPupilCenter = dataset.hasPupilCenter();
  summary.hasNoiseFreeRates = dataset.hasNoiseFreeRates();

  if (!dataset.responses.empty()) {
    double sum = 0.0;
    float maximum = dataset.responses.front();
    for (const float r : dataset.responses) {
      sum += r;
      maximum = std::max(maximum, r);
    }
    summary.responseMean = sum / static_cast<double>(dataset.responses.size());
    summary.responseMax = maximum;
  }
  job.throwIfCancelled();

  summary.repeatedTrials = reliability.repeatedTrials;
  summary.neuronsWithOracleCorrelation = static_cast<std::int64_t>(
      std::count_if(reliability.oracleCorrelation.begin(), reliability.oracleCorrelation.end(),
                    [](double r) { return std::isfinite(r); }));
  summary.oracleCorrelation = quantilesIgnoringNaN(reliability.oracleCorrelation);
  summary.explainableVarianceFraction = quantilesIgnoringNaN(reliability.explainableVarianceFraction);
  summary.snr = quantilesIgnoringNaN(reliability.snr);

  if (dataset.hasNoiseFreeRates()) {
    job.progress(0.5, "comparing with the noise-free rates");
    summary.noiseFreeCorrelation = pearson(dataset.responses.data(), dataset.noiseFreeRates.data(),
                                           static_cast<std::int64_t>(dataset.responses.size()));
    std::vector<double> perNeuron(static_cast<std::size_t>(dataset.neuronCount));
    for (std::int64_t n = 0; n < dataset.neuronCount; ++n)
      perNeuron[static_cast<std::size_t>(n)] = pearson(dataset.responses.data() + n, dataset.noiseFreeRates.data() + n,
                                                       dataset.trialCount(), dataset.neuronCount, dataset.neuronCount);
    summary.neuronNoiseFreeCorrelation = quantilesIgnoringNaN(std::move(perNeuron));
  }
  job.progress(1.0, "summary done");
  return summary;
}

nlohmann::json toJson(const DatasetSummary& summary) {
  nlohmann::json trialsByTier = nlohmann::json::object();
  nlohmann::json imagesByTier = nlohmann::json::object();
  for (const auto& [tier, repeats] : summary.tiers) {
    trialsByTier[tierName(tier)] = repeats.trials;
    imagesByTier[tierName(tier)] = toJson(repeats);
  }
  nlohmann::json images = toJson(summary.allTiers);
  images.erase("trials");
  images["shape"] = {summary.channels, summary.height, summary.width};
  images["value_range"] = {finiteOrNull(summary.imageMin), finiteOrNull(summary.imageMax)};
  images["by_tier"] = imagesByTier;

  nlohmann::json json = {
      {"kind", "neural"},
      {"name", summary.name},
      {"source", summary.sourcePath},
      {"neurons", summary.neurons},
      {"trials",
       {{"declared", summary.declaredTrials},
        {"present", summary.presentTrials},
        {"missing", summary.missingTrials},
        {"by_tier", trialsByTier}}},
      {"images", images},
      {"recorded",
       {{"behavior", summary.hasBehavior},
        {"pupil_center", summary.hasPupilCenter},
        {"noise_free_rates", summary.hasNoiseFreeRates}}},
      {"responses", {{"mean", finiteOrNull(summary.responseMean)}, {"max", finiteOrNull(summary.responseMax)}}},
      {"reliability",
       {{"repeated_images", summary.allTiers.repeatedImages},
        {"repeated_trials", summary.repeatedTrials},
        {"neurons_with_oracle_correlation", summary.neuronsWithOracleCorrelation},
        {"oracle_correlation", toJson(summary.oracleCorrelation)},
        {"explainable_variance_fraction", toJson(summary.explainableVarianceFraction)},
        {"snr", toJson(summary.snr)}}},
  };
  if (summary.noiseFreeCorrelation) {
    json["ground_truth"] = {{"response_rate_correlation", finiteOrNull(*summary.noiseFreeCorrelation)}};
    if (summary.neuronNoiseFreeCorrelation)
      json["ground_truth"]["neuron_response_rate_correlation"] = toJson(*summary.neuronNoiseFreeCorrelation);
  }
  return json;
}

}  // namespace bp
