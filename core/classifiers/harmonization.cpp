#include "classifiers/harmonization.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/utils.h>
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <tuple>
#include <utility>

#include "measures/correlation.h"
#include "rsa/compare.h"
#include "runtime/error.h"

namespace bp {

namespace {

void requireMaps(const torch::Tensor& maps, const char* what) {
  if (maps.dim() != 3) throw Error(std::string("harmonization: ") + what + " must be batch x height x width");
}

void requireSameShape(const torch::Tensor& saliency, const torch::Tensor& humanMaps) {
  requireMaps(saliency, "saliency maps");
  requireMaps(humanMaps, "human maps");
  if (saliency.sizes() != humanMaps.sizes())
    throw Error("harmonization: saliency maps " + std::to_string(saliency.size(1)) + "x" +
                std::to_string(saliency.size(2)) + " (batch " + std::to_string(saliency.size(0)) + ") and human maps " +
                std::to_string(humanMaps.size(1)) + "x" + std::to_string(humanMaps.size(2)) + " (batch " +
                std::to_string(humanMaps.size(0)) + ") differ in shape");
}

// TensorFlow's "SAME" padding of a 5-wide, stride-2 window: the output has ceil(size / 2) entries
// and the padding that needs is split with the smaller half first.
std::pair<std::int64_t, std::int64_t> samePadding(std::int64_t size) {
  const std::int64_t output = (size + 1) / 2;
  const std::int64_t total = std::max<std::int64_t>((output - 1) * 2 + 5 - size, 0);
  return {total / 2, total - total / 2};
}

// The logits and the gradient of the summed true-class logits with respect to the input images,
// the logits' graph kept (see computeSaliency).
std::pair<torch::Tensor, torch::Tensor> trueClassGradient(Classifier& model, const torch::Tensor& images,
                                                          const torch::Tensor& labels, bool createGraph) {
  if (labels.dim() != 1 || labels.size(0) != images.size(0))
    throw Error("harmonization: need one label per image (" + std::to_string(images.size(0)) + ")");
  // Saliency is a gradient: it needs autograd even where the caller evaluates without it.
  torch::AutoGradMode gradMode(true);
  const torch::Tensor input = images.detach().requires_grad_(true);
  torch::Tensor logits = model->forward(input);
  const torch::Tensor trueClass = logits.gather(1, labels.to(logits.device(), torch::kLong).view({-1, 1})).sum();
  torch::Tensor gradient =
      torch::autograd::grad({trueClass}, {input}, {}, /*retain_graph=*/true, /*create_graph=*/createGraph)[0];
  return {std::move(logits), std::move(gradient)};
}

}  // namespace

Saliency computeSaliency(Classifier& model, const torch::Tensor& images, const torch::Tensor& labels,
                         bool createGraph) {
  Saliency saliency;
  torch::Tensor gradient;
  std::tie(saliency.logits, gradient) = trueClassGradient(model, images, labels, createGraph);
  saliency.maps = gradient.mean(1);
  return saliency;
}

torch::Tensor alignmentSaliency(Classifier& model, const torch::Tensor& images, const torch::Tensor& labels) {
  return trueClassGradient(model, images, labels, /*createGraph=*/false).second.abs().amax(1);
}

torch::Tensor standardizeCut(const torch::Tensor& maps, double epsilon) {
  requireMaps(maps, "maps");
  const torch::Tensor mean = maps.mean({1, 2}, /*keepdim=*/true);
  const torch::Tensor std = maps.std({1, 2}, /*unbiased=*/false, /*keepdim=*/true);
  return torch::relu((maps - mean) / (std + epsilon));
}

torch::Tensor binomialKernel(const torch::TensorOptions& options) {
  const torch::Tensor taps = torch::tensor({1.0, 4.0, 6.0, 4.0, 1.0}, options.dtype(torch::kDouble));
  return (torch::outer(taps, taps) / 256.0).to(options);
}

std::vector<torch::Tensor> gaussianPyramid(const torch::Tensor& maps, int levels) {
  requireMaps(maps, "maps");
  if (levels < 1) throw Error("harmonization: a pyramid needs at least one level");
  const torch::Tensor kernel = binomialKernel(maps.options()).view({1, 1, 5, 5});
  std::vector<torch::Tensor> pyramid = {maps};
  torch::Tensor level = maps.unsqueeze(1);
  for (int l = 1; l < levels; ++l) {
    const auto rows = samePadding(level.size(2));
    const auto columns = samePadding(level.size(3));
    level = torch::conv2d(torch::constant_pad_nd(level, {columns.first, columns.second, rows.first, rows.second}),
                          kernel, /*bias=*/{}, /*stride=*/2);
    pyramid.push_back(level.squeeze(1));
  }
  return pyramid;
}

torch::Tensor harmonizationLoss(const torch::Tensor& saliency, const torch::Tensor& humanMaps,
                                const torch::Tensor& tokens, int levels) {
  requireSameShape(saliency, humanMaps);
  if (tokens.numel() != saliency.size(0))
    throw Error("harmonization: need one token per image (" + std::to_string(saliency.size(0)) + "), got " +
                std::to_string(tokens.numel()));
  const torch::Tensor s = standardizeCut(saliency);
  torch::Tensor h = standardizeCut(humanMaps.to(s.options()));
  const torch::Tensor saliencyMax = s.amax({1, 2}, /*keepdim=*/true).detach() + 1e-6;
  h = h / (h.amax({1, 2}, /*keepdim=*/true) + 1e-6) * saliencyMax;

  const std::vector<torch::Tensor> saliencyPyramid = gaussianPyramid(s, levels);
  const std::vector<torch::Tensor> humanPyramid = gaussianPyramid(h, levels);
  const torch::Tensor weights = tokens.reshape({-1, 1, 1}).to(s.options());
  std::vector<torch::Tensor> perLevel;
  for (int l = 0; l < levels; ++l) perLevel.push_back(((saliencyPyramid[l] - humanPyramid[l]).pow(2) * weights).mean());
  return torch::stack(perLevel).mean();
}

AlignmentScore alignmentScore(const torch::Tensor& saliency, const torch::Tensor& humanMaps) {
  requireSameShape(saliency, humanMaps);
  const torch::Tensor model = saliency.detach().to(torch::kCPU, torch::kFloat).contiguous();
  const torch::Tensor human = humanMaps.detach().to(torch::kCPU, torch::kFloat).contiguous();
  const std::int64_t pixels = model.size(1) * model.size(2);
  AlignmentScore result;
  double sum = 0.0;
  for (std::int64_t map = 0; map < model.size(0); ++map) {
    const float* modelValues = model.data_ptr<float>() + map * pixels;
    const float* humanValues = human.data_ptr<float>() + map * pixels;
    const std::vector<double> modelRanks = averageRanks({modelValues, modelValues + pixels});
    const std::vector<double> humanRanks = averageRanks({humanValues, humanValues + pixels});
    const double correlation = pearson(modelRanks.data(), humanRanks.data(), pixels);
    if (std::isnan(correlation)) continue;
    sum += correlation;
    ++result.scoredMaps;
  }
  result.meanSpearman =
      result.scoredMaps > 0 ? sum / static_cast<double>(result.scoredMaps) : std::numeric_limits<double>::quiet_NaN();
  result.score = result.meanSpearman / kHumanSpearmanCeiling;
  return result;
}

}  // namespace bp
