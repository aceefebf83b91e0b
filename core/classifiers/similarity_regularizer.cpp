#include "classifiers/similarity_regularizer.h"

#include <ATen/ATen.h>
#include <torch/utils.h>
#include <algorithm>
#include <nlohmann/json.hpp>
#include <numeric>

#include "distributed/data_parallel_group.h"
#include "runtime/config_reader.h"
#include "runtime/error.h"
#include "runtime/random.h"

namespace bp {

nlohmann::json toJson(const SimilarityRegularizerConfig& config) {
  return {{"running_mean_beta", config.runningMeanBeta}, {"clamp_epsilon", config.clampEpsilon}};
}

SimilarityRegularizerConfig similarityRegularizerConfigFromJson(const nlohmann::json& json) {
  SimilarityRegularizerConfig config;
  ConfigReader reader(json, "similarity regularizer config");
  reader.read("running_mean_beta", config.runningMeanBeta);
  reader.read("clamp_epsilon", config.clampEpsilon);
  reader.finish();
  return config;
}

void validate(const SimilarityRegularizerConfig& config) {
  if (!(config.runningMeanBeta >= 0.0 && config.runningMeanBeta < 1.0))
    throw Error("similarity regularizer config: running_mean_beta must be in [0, 1)");
  if (!(config.clampEpsilon > 0.0 && config.clampEpsilon < 1.0))
    throw Error("similarity regularizer config: clamp_epsilon must be in (0, 1)");
}

namespace {

// Each tap's mean per channel over the pair batch: over every rank's share in data-parallel
// training (one exchange for all taps), so the running means move as they would in one process.
std::vector<torch::Tensor> batchChannelMeans(const std::vector<torch::Tensor>& taps) {
  std::vector<torch::Tensor> means;
  DataParallelGroup* group = currentDataParallelGroup();
  for (const torch::Tensor& maps : taps) {
    if (group == nullptr) {
      means.push_back(maps.detach().mean({0, 2, 3}));
    } else {
      const double count = static_cast<double>(maps.size(0) * maps.size(2) * maps.size(3));
      means.push_back(torch::cat({maps.detach().sum({0, 2, 3}), torch::full({1}, count, maps.options())}));
    }
  }
  if (group == nullptr) return means;
  group->allReduceSum(means);
  for (torch::Tensor& sums : means) sums = sums.narrow(0, 0, sums.size(0) - 1) / sums.narrow(0, sums.size(0) - 1, 1);
  return means;
}

}  // namespace

SimilarityRegularizerImpl::SimilarityRegularizerImpl(const std::vector<std::int64_t>& tapChannels,
                                                     const SimilarityRegularizerConfig& config)
    : config_(config) {
  bp::validate(config_);
  if (tapChannels.empty()) throw Error("similarity regularizer: needs at least one tap");
  const auto taps = static_cast<std::int64_t>(tapChannels.size());
  layerLogits = register_parameter("layer_logits", torch::zeros({taps}));
  for (std::size_t tap = 0; tap < tapChannels.size(); ++tap) {
    if (tapChannels[tap] < 1) throw Error("similarity regularizer: tap " + std::to_string(tap) + " has no channels");
    runningMeans.push_back(register_buffer("running_mean_" + std::to_string(tap), torch::zeros({tapChannels[tap]})));
  }
}

void SimilarityRegularizerImpl::checkTaps(const std::vector<torch::Tensor>& taps) const {
  if (taps.size() != runningMeans.size())
    throw Error("similarity regularizer: expected " + std::to_string(runningMeans.size()) + " taps, got " +
                std::to_string(taps.size()));
  for (std::size_t tap = 0; tap < taps.size(); ++tap) {
    const torch::Tensor& maps = taps[tap];
    const auto channels = runningMeans[tap].size(0);
    if (maps.dim() != 4 || maps.size(1) != channels)
      throw Error("similarity regularizer: tap " + std::to_string(tap) + " must be batch x " +
                  std::to_string(channels) + " x height x width");
    if (maps.size(0) < 2 || maps.size(0) % 2 != 0 || maps.size(0) != taps.front().size(0))
      throw Error("similarity regularizer: every tap holds the same 2P images (P pairs), got " +
                  std::to_string(maps.size(0)) + " in tap " + std::to_string(tap));
  }
}

torch::Tensor SimilarityRegularizerImpl::layerSimilarities(const std::vector<torch::Tensor>& taps) {
  // Checked before any running mean moves, so a malformed batch leaves no trace.
  checkTaps(taps);
  if (is_training()) {
    torch::NoGradGuard noGrad;
    const std::vector<torch::Tensor> batchMeans = batchChannelMeans(taps);
    for (std::size_t tap = 0; tap < taps.size(); ++tap)
      runningMeans[tap].mul_(config_.runningMeanBeta).add_(batchMeans[tap], 1.0 - config_.runningMeanBeta);
  }
  std::vector<torch::Tensor> similarities;
  for (std::size_t tap = 0; tap < taps.size(); ++tap) {
    const torch::Tensor& maps = taps[tap];
    const torch::Tensor& mean = runningMeans[tap];
    const torch::Tensor centred = (maps - mean.view({1, -1, 1, 1})).flatten(1);
    const auto pairs = maps.size(0) / 2;
    similarities.push_back(rowCosine(centred.narrow(0, 0, pairs), centred.narrow(0, pairs, pairs)));
  }
  return torch::stack(similarities);
}

torch::Tensor SimilarityRegularizerImpl::mixedSimilarity(const torch::Tensor& layerSimilarities) const {
  return (gamma().unsqueeze(1) * layerSimilarities).sum(0);
}

torch::Tensor SimilarityRegularizerImpl::forward(const std::vector<torch::Tensor>& taps, const torch::Tensor& targets) {
  checkTaps(taps);
  const auto pairs = taps.front().size(0) / 2;
  if (targets.numel() != pairs)
    throw Error("similarity regularizer: " + std::to_string(pairs) + " pairs but " + std::to_string(targets.numel()) +
                " targets");
  const torch::Tensor model = mixedSimilarity(layerSimilarities(taps));
  return similarityLoss(model, targets.reshape({-1}).to(model.options()), config_.clampEpsilon);
}

torch::Tensor SimilarityRegularizerImpl::gamma() const {
  return torch::softmax(layerLogits, 0);
}

std::vector<double> SimilarityRegularizerImpl::gammaValues() const {
  const torch::Tensor weights = gamma().detach().to(torch::kCPU, torch::kDouble).contiguous();
  return {weights.data_ptr<double>(), weights.data_ptr<double>() + weights.numel()};
}

torch::Tensor similarityLoss(const torch::Tensor& modelSimilarity, const torch::Tensor& targetSimilarity,
                             double clampEpsilon) {
  const double bound = 1.0 - clampEpsilon;
  const torch::Tensor model = torch::atanh(modelSimilarity.clamp(-bound, bound));
  const torch::Tensor target = torch::atanh(targetSimilarity.clamp(-bound, bound));
  return (model - target).pow(2).mean();
}

double targetLossScale(const torch::Tensor& target, double clampEpsilon) {
  const torch::Tensor pairs = target.masked_select(~torch::eye(target.size(0), target.options().dtype(torch::kBool)));
  if (pairs.numel() == 0) return 0.0;
  return similarityLoss(torch::zeros_like(pairs), pairs, clampEpsilon).item<double>();
}

torch::Tensor rowCosine(const torch::Tensor& first, const torch::Tensor& second) {
  const torch::Tensor dot = (first * second).sum(1);
  return dot / (first.norm(2, 1) * second.norm(2, 1)).clamp_min(1e-8);
}

torch::Tensor thresholdSimilarity(const torch::Tensor& similarity, double threshold) {
  return (similarity > threshold).to(similarity.scalar_type()) - (similarity < -threshold).to(similarity.scalar_type());
}

std::vector<std::int64_t> shuffledImageOrder(std::int64_t n, std::uint64_t seed) {
  std::vector<std::int64_t> order(static_cast<std::size_t>(std::max<std::int64_t>(n, 0)));
  std::iota(order.begin(), order.end(), std::int64_t{0});
  if (n < 2) return order;
  // A uniform shuffle is a derangement with probability about 1/e: about 2.7 draws on average.
  // A stream of its own ("SHUFF"), so that the same seed used elsewhere draws other numbers.
  RandomStream random(seed, /*stream=*/0x5348554646ULL);
  auto hasFixedPoint = [&order] {
    for (std::size_t i = 0; i < order.size(); ++i) {
      if (order[i] == static_cast<std::int64_t>(i)) return true;
    }
    return false;
  };
  do {
    std::iota(order.begin(), order.end(), std::int64_t{0});
    random.shuffle(order);
  } while (hasFixedPoint());
  return order;
}

torch::Tensor permuteSimilarity(const torch::Tensor& similarity, const std::vector<std::int64_t>& order) {
  if (similarity.dim() != 2 || similarity.size(0) != similarity.size(1) ||
      similarity.size(0) != static_cast<std::int64_t>(order.size()))
    throw Error("permuteSimilarity: the matrix must be " + std::to_string(order.size()) + " x " +
                std::to_string(order.size()));
  const torch::Tensor index = torch::tensor(order, torch::TensorOptions().dtype(torch::kLong)).to(similarity.device());
  return similarity.index_select(0, index).index_select(1, index);
}

}  // namespace bp
