#pragma once
// The harmonization loss of Fel et al. 2022 (docs/science.md §2): it aligns where a classifier looks (its
// input saliency) with where people look (a per-image human importance map, e.g. ClickMe), and the
// alignment score that measures the same agreement on held-out images. Maps are batch x height x
// width; saliency and human map of one image must have the same size.
#include <cstdint>
#include <vector>

#include <torch/types.h>

#include "classifiers/resnet.h"

namespace bp {

// The human inter-rater Spearman correlation on ClickMe maps: the alignment score's ceiling.
constexpr double kHumanSpearmanCeiling = 0.65753;

// The logits of one forward pass and the saliency of the true class from the same pass.
struct Saliency {
  torch::Tensor logits;  // batch x classes
  torch::Tensor maps;    // batch x height x width
};

// Saliency = gradient of the true-class logit with respect to the input image, averaged over the
// colour channels (signed). `labels` holds class indices (batch). With createGraph the maps stay
// differentiable with respect to the model's parameters (double backprop), as training needs; the
// logits' graph is kept either way, so a cross-entropy on them can still be backpropagated.
Saliency computeSaliency(Classifier& model, const torch::Tensor& images, const torch::Tensor& labels,
                         bool createGraph = true);

// The saliency the alignment score is measured on, as the reference evaluation does it (Fel et al.
// 2022's ClickMe benchmark, Xplique's Saliency after Simonyan et al. 2014): the largest absolute
// gradient of the true-class logit over the colour channels (for one channel, |computeSaliency|),
// batch x height x width, without a graph. Where a model looks counts, not the sign: a pixel whose
// darkening raises the class counts as much as one whose brightening does. Run the model in
// evaluation mode for a score of the trained model.
torch::Tensor alignmentSaliency(Classifier& model, const torch::Tensor& images, const torch::Tensor& labels);

// Per map: z-score over (height, width), (x - mean) / (std + epsilon) with the population std, then
// ReLU: only the above-average part of a map counts.
torch::Tensor standardizeCut(const torch::Tensor& maps, double epsilon = 1e-5);

// The 5x5 binomial kernel: outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1]) / 256.
torch::Tensor binomialKernel(const torch::TensorOptions& options = {});

// levels[0] = maps; levels[l + 1] = levels[l] blurred by the binomial kernel with stride 2, zero
// padded as TensorFlow's "SAME" (output ceil(size / 2); for an even size one row of padding before
// and two after), as the reference implementation does.
std::vector<torch::Tensor> gaussianPyramid(const torch::Tensor& maps, int levels);

// L_harm: standardize-cut the saliency s and the human maps h; rescale each h to its s's range,
// h <- h / (max h + 1e-6) * stopgrad(max s + 1e-6); then mean over `levels` pyramid levels of
// mean((s_l - h_l)^2 * t), where t (batch) is 1 for images with a human map and 0 otherwise. The
// inner mean runs over every sample, so a batch with half its maps missing gives half the loss.
torch::Tensor harmonizationLoss(const torch::Tensor& saliency, const torch::Tensor& humanMaps,
                                const torch::Tensor& tokens, int levels = 5);

struct AlignmentScore {
  double meanSpearman = 0.0;    // mean over scored maps of Spearman(saliency, human map)
  double score = 0.0;           // meanSpearman / kHumanSpearmanCeiling
  std::int64_t scoredMaps = 0;  // maps where both sides vary (a constant map has no ranking)
};

// Spearman correlation over pixels (tied values share their mean rank) of each saliency map with
// its human map, averaged, and divided by the human ceiling. NaN mean and score when no map is
// scored. The caller chooses the saliency (signed, absolute, blurred), as it must for the model it
// compares.
AlignmentScore alignmentScore(const torch::Tensor& saliency, const torch::Tensor& humanMaps);

}  // namespace bp
