#include "models/rotation_equivariant_core.h"

#include <ATen/ATen.h>
#include <cmath>
#include <string>

#include "distributed/synchronized_batch_norm.h"
#include "models/neural_model.h"

namespace bp {

namespace {

constexpr double kPi = 3.14159265358979323846;

// The generalised Laguerre polynomial L_degree^(alpha)(x), by its three-term recurrence.
double laguerre(int degree, double alpha, double x) {
  double previous = 1.0;
  if (degree == 0) return previous;
  double current = 1.0 + alpha - x;
  for (int k = 1; k < degree; ++k) {
    const double next = ((2.0 * k + 1.0 + alpha - x) * current - (k + alpha) * previous) / (k + 1.0);
    previous = current;
    current = next;
  }
  return current;
}

// (radialDegree + frequency)! / radialDegree!
double factorialRatio(int radialDegree, int frequency) {
  double ratio = 1.0;
  for (int k = radialDegree + 1; k <= radialDegree + frequency; ++k) ratio *= k;
  return ratio;
}

}  // namespace

int hermiteBasisSize(int filterSize) {
  return filterSize * (filterSize + 1) / 2;
}

torch::Tensor hermiteBasis(int filterSize, int upsampling, double angle) {
  const int samples = filterSize * upsampling;
  const double extent = 2.0 * std::sqrt(static_cast<double>(filterSize));
  const double spacing = 2.0 * extent / samples;
  torch::Tensor basis = torch::empty({hermiteBasisSize(filterSize), samples, samples}, torch::kDouble);
  auto values = basis.accessor<double, 3>();
  std::int64_t index = 0;
  for (int order = 0; order < filterSize; ++order) {
    for (int frequency = order % 2; frequency <= order; frequency += 2) {
      const int radialDegree = (order - frequency) / 2;
      // The continuum norm of r^m L_p^(m)(r^2 / 2) exp(-r^2 / 4) cos(m theta) is
      // sqrt(pi 2^m (p + m)! / p!), twice that squared for m = 0; the spacing turns the integral
      // into the grid's sum.
      const double normSquared =
          kPi * std::pow(2.0, frequency) * factorialRatio(radialDegree, frequency) * (frequency == 0 ? 2.0 : 1.0);
      const double scale = spacing / std::sqrt(normSquared);
      for (int phase = 0; phase < (frequency == 0 ? 1 : 2); ++phase, ++index) {
        for (int row = 0; row < samples; ++row) {
          const double y = extent - (row + 0.5) * spacing;  // rows go down, y goes up
          for (int column = 0; column < samples; ++column) {
            const double x = -extent + (column + 0.5) * spacing;
            const double radiusSquared = x * x + y * y;
            const double theta = std::atan2(y, x) - angle;
            const double angular = phase == 0 ? std::cos(frequency * theta) : std::sin(frequency * theta);
            values[index][row][column] = scale * std::pow(radiusSquared, frequency / 2.0) *
                                         laguerre(radialDegree, frequency, radiusSquared / 2.0) *
                                         std::exp(-radiusSquared / 4.0) * angular;
          }
        }
      }
    }
  }
  return basis.to(torch::kFloat);
}

torch::Tensor downsampleBasis(const torch::Tensor& fine, int upsampling) {
  const auto samples = fine.size(-1);
  const torch::Tensor pixels =
      torch::avg_pool2d(fine.reshape({-1, 1, samples, samples}), {upsampling, upsampling}) * upsampling;
  std::vector<std::int64_t> shape = fine.sizes().vec();
  shape[shape.size() - 2] = samples / upsampling;
  shape[shape.size() - 1] = samples / upsampling;
  return pixels.reshape(shape);
}

RotationEquivariantCoreImpl::RotationEquivariantCoreImpl(const NeuralModelConfig& config)
    : features_(config.channels),
      rotations_(config.rotations),
      concatenateLayers_(config.concatenateLayers),
      smoothnessPenalty_(config.smoothnessPenalty),
      groupSparsityPenalty_(config.groupSparsityPenalty) {
  std::int64_t inputs = config.inputChannels;
  for (std::size_t layer = 0; layer < config.kernelSizes.size(); ++layer) {
    const int kernel = config.kernelSizes[layer];
    std::vector<torch::Tensor> rotated;
    for (int rotation = 0; rotation < rotations_; ++rotation)
      rotated.push_back(hermiteBasis(kernel, config.hermiteUpsampling, 2.0 * kPi * rotation / rotations_));
    const torch::Tensor basis = downsampleBasis(torch::stack(rotated), config.hermiteUpsampling);
    // Derived from the config, but a buffer so that it follows the module to the device.
    bases_.push_back(register_buffer("basis" + std::to_string(layer), basis));
    // The basis is near orthonormal, so a filter's energy is its coefficients' sum of squares:
    // this gives each output unit variance for independent unit-variance inputs.
    const auto count = static_cast<std::int64_t>(hermiteBasisSize(kernel));
    const double deviation = 1.0 / std::sqrt(static_cast<double>(inputs * count));
    coefficients_.push_back(
        register_parameter("coefficients" + std::to_string(layer),
                           torch::empty({count, inputs, config.channels[layer]}).normal_(0.0, deviation)));
    // One feature's rotated copies are one channel to the batch norm (see forward).
    batchNorms_.push_back(
        register_module("norm" + std::to_string(layer),
                        torch::nn::BatchNorm2d(
                            torch::nn::BatchNorm2dOptions(config.channels[layer]).momentum(config.batchNormMomentum))));
    inputs = static_cast<std::int64_t>(rotations_) * config.channels[layer];
  }
}

std::int64_t RotationEquivariantCoreImpl::featureCount() const {
  if (!concatenateLayers_) return features_.back();
  std::int64_t total = 0;
  for (const int features : features_) total += features;
  return total;
}

torch::Tensor RotationEquivariantCoreImpl::rotatedFilters(std::size_t layer, int rotation) const {
  const torch::Tensor filters = torch::einsum("byx,bif->fiyx", {bases_[layer][rotation], coefficients_[layer]});
  if (layer == 0 || rotation == 0) return filters;
  // Input group g reaches rotated copy r through the coefficients of relative orientation g - r.
  return torch::roll(filters, {static_cast<std::int64_t>(rotation) * features_[layer - 1]}, {1});
}

torch::Tensor RotationEquivariantCoreImpl::filters(std::size_t layer) const {
  std::vector<torch::Tensor> banks;
  for (int rotation = 0; rotation < rotations_; ++rotation) banks.push_back(rotatedFilters(layer, rotation));
  return torch::cat(banks, 0);
}

torch::Tensor RotationEquivariantCoreImpl::forward(const torch::Tensor& images) {
  std::vector<torch::Tensor> layers;
  torch::Tensor maps = images;
  const std::size_t layerCount = coefficients_.size();
  for (std::size_t layer = 0; layer < layerCount; ++layer) {
    const std::int64_t kernel = bases_[layer].size(-1);
    const std::int64_t padding = layer == 0 ? 0 : kernel / 2;
    // Batch norm follows, so a convolution bias would only duplicate its shift.
    maps = torch::conv2d(maps, filters(layer), {}, 1, padding);
    const auto batch = maps.size(0);
    const auto height = maps.size(2);
    const auto width = maps.size(3);
    // Rotation-major maps viewed as (batch * rotations) x features: each feature's statistics
    // pool all its rotated copies, which keeps the layer equivariant.
    maps = batchNorm(*batchNorms_[layer], maps.reshape({batch * rotations_, features_[layer], height, width}))
               .reshape({batch, -1, height, width});
    if (layer + 1 < layerCount) maps = torch::softplus(maps);
    if (concatenateLayers_) layers.push_back(maps.reshape({batch, rotations_, features_[layer], height, width}));
  }
  if (!concatenateLayers_) return maps;
  const torch::Tensor stacked = torch::cat(layers, 2);  // batch x rotations x all features x h x w
  return stacked.reshape({stacked.size(0), -1, stacked.size(3), stacked.size(4)});
}

torch::Tensor RotationEquivariantCoreImpl::laplacianSmoothness() const {
  return filterLaplacianSmoothness(filters(0));
}

torch::Tensor RotationEquivariantCoreImpl::groupSparsity() const {
  if (coefficients_.size() < 2) return torch::zeros({}, coefficients_.front().options());
  // Rotated copies hold the same weights turned, so the unrotated filters stand for all of them.
  std::vector<torch::Tensor> later;
  for (std::size_t layer = 1; layer < coefficients_.size(); ++layer) later.push_back(rotatedFilters(layer, 0));
  return filterGroupSparsity(later);
}

torch::Tensor RotationEquivariantCoreImpl::regularization() const {
  return smoothnessPenalty_ * laplacianSmoothness() + groupSparsityPenalty_ * groupSparsity();
}

}  // namespace bp
