#include "rsa/rsa_reliability.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <unordered_map>

#include "runtime/error.h"
#include "runtime/random.h"
#include "runtime/undefined.h"

namespace bp {
namespace {


// Images with at least two trials in the tier, in order of their first trial; trials in dataset order.
struct RepeatedImages {
  std::vector<std::int64_t> imageIds;
  std::vector<std::vector<std::int64_t>> trials;
};

RepeatedImages repeatedImages(const NeuralDataset& dataset, ResponseSource source, const std::optional<Tier>& tier,
                              const char* what) {
  dataset.validate();
  const std::string name = dataset.name.empty() ? std::string("dataset") : "dataset '" + dataset.name + "'";
  if (source == ResponseSource::NoiseFreeRates && !dataset.hasNoiseFreeRates())
    throw Error(name + " has no noise-free rates (only synthetic data has them)");
  RepeatedImages all;
  std::unordered_map<std::int64_t, std::size_t> indexOfImage;
  for (std::int64_t t = 0; t < dataset.trialCount(); ++t) {
    if (tier && dataset.tiers[static_cast<std::size_t>(t)] != *tier) continue;
    const auto id = dataset.imageIds[static_cast<std::size_t>(t)];
    const auto [found, inserted] = indexOfImage.emplace(id, all.imageIds.size());
    if (inserted) {
      all.imageIds.push_back(id);
      all.trials.emplace_back();
    }
    all.trials[found->second].push_back(t);
  }
  RepeatedImages repeated;
  for (std::size_t i = 0; i < all.imageIds.size(); ++i) {
    if (all.trials[i].size() < 2) continue;
    repeated.imageIds.push_back(all.imageIds[i]);
    repeated.trials.push_back(std::move(all.trials[i]));
  }
  if (repeated.imageIds.size() < 3)
    throw Error(std::string(what) + " needs at least 3 images shown twice or more" +
                (tier ? std::string(" in the ") + tierName(*tier) + " tier" : std::string()) + "; " + name +
                " has " + std::to_string(repeated.imageIds.size()));
  return repeated;
}

// One row per image: the mean of trialsOfImage[i] (at least one trial each).
FeatureMatrix meanOfTrials(const NeuralDataset& dataset, ResponseSource source, const RepeatedImages& images,
                           const std::vector<std::vector<std::int64_t>>& trialsOfImage, std::string description) {
  const std::vector<float>& values = source == ResponseSource::Responses ? dataset.responses : dataset.noiseFreeRates;
  const auto units = static_cast<std::size_t>(dataset.neuronCount);
  FeatureMatrix features;
  features.rows = static_cast<std::int64_t>(images.imageIds.size());
  features.cols = dataset.neuronCount;
  features.imageIds = images.imageIds;
  features.source = std::move(description);
  features.values.reserve(static_cast<std::size_t>(features.rows) * units);
  std::vector<double> sum(units);
  for (const auto& trials : trialsOfImage) {
    std::fill(sum.begin(), sum.end(), 0.0);
    for (const auto t : trials) {
      const float* row = values.data() + t * dataset.neuronCount;
      for (std::size_t u = 0; u < units; ++u) sum[u] += row[u];
    }
    for (const double s : sum) features.values.push_back(static_cast<float>(s / static_cast<double>(trials.size())));
  }
  return features;
}

std::string describe(const NeuralDataset& dataset, ResponseSource source, const std::optional<Tier>& tier) {
  std::string text = source == ResponseSource::Responses ? "responses" : "noise-free rates";
  text += " of " + (dataset.name.empty() ? std::string("dataset") : dataset.name);
  return text + (tier ? std::string(", ") + tierName(*tier) + " tier" : std::string(", all tiers"));
}

double mean(const std::vector<double>& values) {
  double sum = 0.0;
  for (const double v : values) sum += v;
  return values.empty() ? kUndefined : sum / static_cast<double>(values.size());
}

}  // namespace

double spearmanBrown(double halfCorrelation) { return 2.0 * halfCorrelation / (1.0 + halfCorrelation); }

SplitHalfResult splitHalfReliability(const NeuralDataset& dataset, const SplitHalfConfig& config, const Job& job) {
  if (config.splits < 1) throw Error("split-half reliability needs at least one split, got " + std::to_string(config.splits));
  const auto images = repeatedImages(dataset, config.source, config.tier, "split-half reliability");
  const std::string what = describe(dataset, config.source, config.tier);

  SplitHalfResult result;
  result.splits = config.splits;
  result.images = static_cast<std::int64_t>(images.imageIds.size());
  std::vector<double> corrected;
  for (int split = 0; split < config.splits; ++split) {
    job.throwIfCancelled();
    const Job splitJob = job.subJob(static_cast<double>(split) / config.splits, static_cast<double>(split + 1) / config.splits);
    splitJob.progress(0.0, "split " + std::to_string(split + 1) + " of " + std::to_string(config.splits));
    RandomStream random(config.seed, static_cast<std::uint64_t>(split));
    std::vector<std::vector<std::int64_t>> firstHalf, secondHalf;
    for (auto trials : images.trials) {
      random.shuffle(trials);
      const auto middle = trials.begin() + static_cast<std::ptrdiff_t>(trials.size() / 2);
      firstHalf.emplace_back(trials.begin(), middle);
      secondHalf.emplace_back(middle, trials.end());
    }
    const std::string halfName = what + ", split " + std::to_string(split + 1) + " half ";
    const auto first = computeSimilarity(meanOfTrials(dataset, config.source, images, firstHalf, halfName + "1"),
                                         config.similarity, splitJob.subJob(0.0, 0.5));
    const auto second = computeSimilarity(meanOfTrials(dataset, config.source, images, secondHalf, halfName + "2"),
                                          config.similarity, splitJob.subJob(0.5, 1.0));
    const double raw = compareMatrices(first, second, config.method);
    result.rawPerSplit.push_back(raw);
    corrected.push_back(spearmanBrown(raw));
  }
  result.meanRaw = mean(result.rawPerSplit);
  result.meanCorrected = mean(corrected);
  result.stdCorrected = kUndefined;
  if (corrected.size() >= 2) {
    double squares = 0.0;
    for (const double c : corrected) squares += (c - result.meanCorrected) * (c - result.meanCorrected);
    result.stdCorrected = std::sqrt(squares / static_cast<double>(corrected.size() - 1));
  }
  job.progress(1.0, "split-half reliability done");
  return result;
}

SingleTrialResult singleTrialAgreement(const NeuralDataset& dataset, const SingleTrialConfig& config, const Job& job) {
  const auto images = repeatedImages(dataset, config.source, config.tier, "single-trial agreement");
  const std::string what = describe(dataset, config.source, config.tier);

  SingleTrialResult result;
  result.images = static_cast<std::int64_t>(images.imageIds.size());
  std::size_t repeats = images.trials.front().size();
  for (const auto& trials : images.trials) repeats = std::min(repeats, trials.size());
  result.repeats = static_cast<int>(repeats);

  std::optional<SimilarityMatrix> allRepeats;
  if (config.reference == SingleTrialReference::AllRepeats)
    allRepeats = computeSimilarity(meanOfTrials(dataset, config.source, images, images.trials, what + ", mean over repeats"),
                                   config.similarity, job.subJob(0.0, 0.1));
  const double start = allRepeats ? 0.1 : 0.0;
  for (std::size_t k = 0; k < repeats; ++k) {
    job.throwIfCancelled();
    const Job repeatJob = job.subJob(start + (1.0 - start) * static_cast<double>(k) / static_cast<double>(repeats),
                                     start + (1.0 - start) * static_cast<double>(k + 1) / static_cast<double>(repeats));
    repeatJob.progress(0.0, "repeat " + std::to_string(k + 1) + " of " + std::to_string(repeats));
    std::vector<std::vector<std::int64_t>> single;
    for (const auto& trials : images.trials) single.push_back({trials[k]});
    const auto trialMatrix = computeSimilarity(
        meanOfTrials(dataset, config.source, images, single, what + ", repeat " + std::to_string(k) + " of each image"),
        config.similarity, repeatJob.subJob(0.0, 0.5));
    std::optional<SimilarityMatrix> otherRepeats;
    if (!allRepeats) {
      std::vector<std::vector<std::int64_t>> others;
      for (const auto& trials : images.trials) {
        others.push_back(trials);
        others.back().erase(others.back().begin() + static_cast<std::ptrdiff_t>(k));
      }
      otherRepeats = computeSimilarity(
          meanOfTrials(dataset, config.source, images, others, what + ", mean over repeats other than " + std::to_string(k)),
          config.similarity, repeatJob.subJob(0.5, 1.0));
    }
    const double agreement = compareMatrices(trialMatrix, allRepeats ? *allRepeats : *otherRepeats, config.method);
    result.perRepeat.push_back(agreement);
  }
  result.mean = mean(result.perRepeat);
  job.progress(1.0, "single-trial agreement done");
  return result;
}

}  // namespace bp
