#pragma once
// The neural-similarity regularizer of Li et al. 2019 (docs/science.md §1 step 5): it pulls the
// classifier's image-by-image similarity towards a target similarity (from mouse V1 or a control).
//
// For a pair of images (i, j) and tap k (the stem's or a stage's feature maps), S_k(i, j) is the
// cosine of the two flattened maps after subtracting a per-channel running mean. Learned layer
// weights gamma = softmax(logits) mix the taps: S_cnn = sum_k gamma_k S_k. The loss over P pairs is
//   L_sim = 1/P sum_p (atanh(c(S_cnn(p))) - atanh(c(S_target(p))))^2,  c = clamp to [-1 + eps, 1 - eps],
// with the paper's atanh; a public re-implementation uses log((1 + x) / (1 - x)) = 2 atanh(x),
// whose loss is 4x this one, so its alpha corresponds to 4x ours.
#include <cstdint>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <nlohmann/json_fwd.hpp>

namespace bp {

struct SimilarityRegularizerConfig {
  // Running mean per tap and channel, updated in training from each regularization batch:
  // mean <- beta * mean + (1 - beta) * batch mean. The paper's beta is 0.9.
  double runningMeanBeta = 0.9;
  // Similarities are clamped to [-1 + eps, 1 - eps] before atanh, which is infinite at +-1. The
  // paper does not give eps; 1e-3 caps |atanh| at 3.80 (a thresholded +-1 target), where 1e-6 would
  // give 7.25 and a 1,000x steeper slope near the bounds.
  double clampEpsilon = 1e-3;
};

// Keys: "running_mean_beta", "clamp_epsilon". Strict: unknown keys and wrong types are a bp::Error.
nlohmann::json toJson(const SimilarityRegularizerConfig& config);
SimilarityRegularizerConfig similarityRegularizerConfigFromJson(const nlohmann::json& json);
// Throws bp::Error unless 0 <= beta < 1 and 0 < eps < 1.
void validate(const SimilarityRegularizerConfig& config);

// Layout of a regularization batch: 2P images, where image p and image P + p form pair p
// (p = 0 .. P - 1). The taps and the targets (P values) follow it.
class SimilarityRegularizerImpl : public torch::nn::Module {
 public:
  // One entry per tap: its channel count (Classifier::tapChannels()).
  explicit SimilarityRegularizerImpl(const std::vector<std::int64_t>& tapChannels,
                                     const SimilarityRegularizerConfig& config = {});

  // L_sim for the pairs of one batch: `taps` as the classifier returns them for the 2P images,
  // `targets` the P target similarities. In training mode the running means are first updated
  // from this batch and the maps are centred by the updated means; in evaluation mode they are
  // centred by the stored means, which stay unchanged.
  torch::Tensor forward(const std::vector<torch::Tensor>& taps, const torch::Tensor& targets);
  // S_k(p) for every tap and pair: taps x P, centred (and the means updated) as forward() does.
  torch::Tensor layerSimilarities(const std::vector<torch::Tensor>& taps);
  // S_cnn(p) = sum_k gamma_k S_k(p): P values, from layerSimilarities()' result.
  torch::Tensor mixedSimilarity(const torch::Tensor& layerSimilarities) const;

  // The layer weights softmax(layerLogits), one per tap.
  torch::Tensor gamma() const;
  std::vector<double> gammaValues() const;  // the same as plain numbers, for curves in the GUI
  const SimilarityRegularizerConfig& config() const { return config_; }

  torch::Tensor layerLogits;                // taps; a parameter, initialised to 0 (equal weights)
  std::vector<torch::Tensor> runningMeans;  // one per tap, channels; buffers "running_mean_<k>"

 private:
  // Throws bp::Error unless there is one tap per running mean, each batch x its channels x height x
  // width, all with the same even batch.
  void checkTaps(const std::vector<torch::Tensor>& taps) const;

  SimilarityRegularizerConfig config_;
};
TORCH_MODULE(SimilarityRegularizer);

// mean over pairs of (atanh(clamp(model)) - atanh(clamp(target)))^2, clamp to [-1 + eps, 1 - eps].
torch::Tensor similarityLoss(const torch::Tensor& modelSimilarity, const torch::Tensor& targetSimilarity,
                             double clampEpsilon);

// The loss towards `target` (n x n, its pairs i != j) of a model whose similarities are all 0:
// mean atanh(clamp(S_target))^2, what alpha multiplies at the start of training.
double targetLossScale(const torch::Tensor& target, double clampEpsilon);

// Cosine of row p of `first` and row p of `second` (both P x features): P values. A zero row has
// cosine 0 with everything (the norms' product is floored at 1e-8).
torch::Tensor rowCosine(const torch::Tensor& first, const torch::Tensor& second);

// Attias et al. 2024's target transform: +1 where S > threshold, -1 where S < -threshold, 0 elsewhere.
torch::Tensor thresholdSimilarity(const torch::Tensor& similarity, double threshold);

// The shuffled-target control: a permutation of image indices 0 .. n - 1 that moves every index
// (a derangement, drawn uniformly by rejection), the same for the same n and seed. n < 2 has no
// derangement: it gets the identity.
std::vector<std::int64_t> shuffledImageOrder(std::int64_t n, std::uint64_t seed);
// The target of the shuffled control: S'(a, b) = S(order[a], order[b]) for an n x n matrix.
torch::Tensor permuteSimilarity(const torch::Tensor& similarity, const std::vector<std::int64_t>& order);

}  // namespace bp
