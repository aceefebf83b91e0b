#include "measures/reliability.h"
#include "runtime/undefined.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

namespace bp {
namespace {

constexpr std::size_t kTrialsPerCheck = 256;  // cancellation and progress granularity

// Every loop below walks trials outer and neurons inner: responses are trials x neurons, row-major.
struct NeuronRange {
  std::vector<float> low;
  std::vector<float> high;
  bool constant(std::size_t neuron) const { return low[neuron] == high[neuron]; }
};

NeuronRange rangeOver(const NeuralDataset& dataset, const std::vector<std::int64_t>& trials) {
  const auto neurons = static_cast<std::size_t>(dataset.neuronCount);
  NeuronRange range{std::vector<float>(neurons, std::numeric_limits<float>::infinity()),
                    std::vector<float>(neurons, -std::numeric_limits<float>::infinity())};
  for (const auto t : trials) {
    const float* row = dataset.response(t);
    for (std::size_t n = 0; n < neurons; ++n) {
      range.low[n] = std::min(range.low[n], row[n]);
      range.high[n] = std::max(range.high[n], row[n]);
    }
  }
  return range;
}

std::vector<double> meanOver(const NeuralDataset& dataset, const std::vector<std::int64_t>& trials, const Job& job) {
  const auto neurons = static_cast<std::size_t>(dataset.neuronCount);
  std::vector<double> sum(neurons, 0.0);
  for (std::size_t i = 0; i < trials.size(); ++i) {
    if (i % kTrialsPerCheck == 0) job.throwIfCancelled();
    const float* row = dataset.response(trials[i]);
    for (std::size_t n = 0; n < neurons; ++n) sum[n] += row[n];
  }
  for (auto& s : sum) s /= static_cast<double>(trials.size());
  return sum;
}

// Mean and unbiased variance over `trials` (at least one).
void meanAndVariance(const NeuralDataset& dataset, const std::vector<std::int64_t>& trials, const Job& job,
                     NeuronReliability& result) {
  const auto neurons = static_cast<std::size_t>(dataset.neuronCount);
  result.mean = meanOver(dataset, trials, job);
  std::vector<double> squares(neurons, 0.0);
  for (std::size_t i = 0; i < trials.size(); ++i) {
    if (i % kTrialsPerCheck == 0) job.throwIfCancelled();
    const float* row = dataset.response(trials[i]);
    for (std::size_t n = 0; n < neurons; ++n) {
      const double d = row[n] - result.mean[n];
      squares[n] += d * d;
    }
  }
  const auto range = rangeOver(dataset, trials);
  result.variance.assign(neurons, kUndefined);
  if (trials.size() < 2) return;
  for (std::size_t n = 0; n < neurons; ++n)
    result.variance[n] = range.constant(n) ? 0.0 : squares[n] / static_cast<double>(trials.size() - 1);
}

}  // namespace

NeuronReliability computeReliability(const NeuralDataset& dataset, const ReliabilityConfig& config, const Job& job) {
  dataset.validate();
  const auto neurons = static_cast<std::size_t>(dataset.neuronCount);
  NeuronReliability result;
  result.mean.assign(neurons, kUndefined);
  result.variance.assign(neurons, kUndefined);
  result.oracleCorrelation.assign(neurons, kUndefined);
  result.explainableVarianceFraction.assign(neurons, kUndefined);
  result.snr.assign(neurons, kUndefined);

  std::vector<std::int64_t> considered;
  for (std::int64_t t = 0; t < dataset.trialCount(); ++t)
    if (!config.tier || dataset.tiers[static_cast<std::size_t>(t)] == *config.tier) considered.push_back(t);
  if (considered.empty()) return result;

  job.progress(0.0, "mean and variance");
  meanAndVariance(dataset, considered, job, result);

  // Repeated images in image-id order (a fixed order keeps sums reproducible).
  std::map<std::int64_t, std::vector<std::int64_t>> trialsOfImage;
  for (const auto t : considered) trialsOfImage[dataset.imageIds[static_cast<std::size_t>(t)]].push_back(t);
  std::vector<const std::vector<std::int64_t>*> groups;
  std::vector<std::int64_t> repeatedTrials;
  for (const auto& [image, trials] : trialsOfImage) {
    if (trials.size() < 2) continue;
    groups.push_back(&trials);
    repeatedTrials.insert(repeatedTrials.end(), trials.begin(), trials.end());
  }
  result.repeatedImages = static_cast<std::int64_t>(groups.size());
  result.repeatedTrials = static_cast<std::int64_t>(repeatedTrials.size());
  if (groups.empty()) return result;

  job.progress(0.4, "repeat-based reliability");
  // The jackknife "other repeats" means average, over all repeated trials, to the same pooled mean
  // as the responses themselves, so one centre serves both sides of the oracle correlation. The
  // repeat means are centred on it too, which keeps the one-pass variance over images accurate.
  const auto centre = meanOver(dataset, repeatedTrials, job);
  const auto range = rangeOver(dataset, repeatedTrials);
  std::vector<double> responseSquares(neurons, 0.0);  // sum of (x - centre)^2
  std::vector<double> oracleSquares(neurons, 0.0);    // sum of (other-repeats mean - centre)^2
  std::vector<double> crossProducts(neurons, 0.0);    // sum of their products
  std::vector<double> withinVarianceSum(neurons, 0.0);
  std::vector<double> repeatMeanSum(neurons, 0.0);      // sum over images of (repeat mean - centre)
  std::vector<double> repeatMeanSquares(neurons, 0.0);  // ... and of its square
  std::vector<double> imageSum(neurons);
  std::vector<double> imageSquares(neurons);
  std::size_t trialsDone = 0;
  std::size_t nextReport = 0;
  for (const auto* trials : groups) {
    if (trialsDone >= nextReport) {
      job.throwIfCancelled();
      job.progress(0.4 + 0.6 * static_cast<double>(trialsDone) / static_cast<double>(repeatedTrials.size()),
                   "repeat-based reliability");
      nextReport = trialsDone + kTrialsPerCheck;
    }
    trialsDone += trials->size();
    const auto repeats = static_cast<double>(trials->size());
    std::fill(imageSum.begin(), imageSum.end(), 0.0);
    for (const auto t : *trials) {
      const float* row = dataset.response(t);
      for (std::size_t n = 0; n < neurons; ++n) imageSum[n] += row[n];
    }
    std::fill(imageSquares.begin(), imageSquares.end(), 0.0);
    for (const auto t : *trials) {
      const float* row = dataset.response(t);
      for (std::size_t n = 0; n < neurons; ++n) {
        const double x = row[n];
        const double others = (imageSum[n] - x) / (repeats - 1.0);
        const double dx = x - centre[n];
        const double dOthers = others - centre[n];
        responseSquares[n] += dx * dx;
        oracleSquares[n] += dOthers * dOthers;
        crossProducts[n] += dx * dOthers;
        const double dWithin = x - imageSum[n] / repeats;
        imageSquares[n] += dWithin * dWithin;
      }
    }
    for (std::size_t n = 0; n < neurons; ++n) {
      withinVarianceSum[n] += imageSquares[n] / (repeats - 1.0);
      const double dMean = imageSum[n] / repeats - centre[n];
      repeatMeanSum[n] += dMean;
      repeatMeanSquares[n] += dMean * dMean;
    }
  }

  const auto imageCount = static_cast<double>(groups.size());
  const auto trialCount = static_cast<double>(repeatedTrials.size());
  for (std::size_t n = 0; n < neurons; ++n) {
    if (range.constant(n)) continue;  // every repeat-based measure is undefined: stays NaN
    if (oracleSquares[n] > 0.0)
      result.oracleCorrelation[n] = crossProducts[n] / std::sqrt(responseSquares[n] * oracleSquares[n]);
    const double totalVariance = responseSquares[n] / (trialCount - 1.0);
    const double noiseVariance = withinVarianceSum[n] / imageCount;
    result.explainableVarianceFraction[n] = (totalVariance - noiseVariance) / totalVariance;
    if (groups.size() < 2) continue;
    // max(0, .): rounding can leave a tiny negative when all repeat means are equal.
    const double signalVariance =
        std::max(0.0, (repeatMeanSquares[n] - repeatMeanSum[n] * repeatMeanSum[n] / imageCount) / (imageCount - 1.0));
    if (noiseVariance > 0.0)
      result.snr[n] = signalVariance / noiseVariance;
    else if (signalVariance > 0.0)
      result.snr[n] = std::numeric_limits<double>::infinity();
  }
  job.progress(1.0, "reliability done");
  return result;
}

std::vector<double> reliabilityWeights(const NeuronReliability& reliability) {
  std::vector<double> weights(reliability.snr.size());
  std::transform(reliability.snr.begin(), reliability.snr.end(), weights.begin(),
                 [](double snr) { return std::isnan(snr) ? 0.0 : std::sqrt(snr); });
  return weights;
}

}  // namespace bp
