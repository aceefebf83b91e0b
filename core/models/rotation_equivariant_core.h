#pragma once
// The rotation-equivariant core of Ecker et al. (2019, docs/science.md §3): every filter is a learned
// combination of 2-D Hermite functions, applied at `rotations` evenly spaced orientations, so a
// feature is the same detector at every orientation and the readouts can tell which feature a
// neuron uses apart from which orientation it prefers.
//
// Geometry, used by the basis, the filters and the output: x grows to the right (columns), y grows
// up (against rows), angles turn counterclockwise as an image is displayed, the same way as
// torch::rot90(maps, 1, {2, 3}). Rotation r turns every filter by 2 pi r / rotations.
//
// Channel order, of the output and of every layer: rotation-major, channel = rotation * features +
// feature. Turning the input by 90 degrees turns every map by 90 degrees and moves rotation r's
// maps to rotation r + rotations / 4 (mod rotations) when rotations is a multiple of 4.
#include <cstddef>
#include <cstdint>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/pimpl.h>

namespace bp {

struct NeuralModelConfig;

// 2-D Hermite functions of orders 0 .. k - 1 for a k x k filter: k (k + 1) / 2 of them.
int hermiteBasisSize(int filterSize);

// The 2-D Hermite functions of orders 0 .. k - 1 in polar form,
//   r^m L_p^(m)(r^2 / 2) exp(-r^2 / 4) {cos, sin}(m (theta - angle)),  order = m + 2 p,
// ordered by order, then angular frequency m, cosine before sine, and turned counterclockwise by
// `angle` radians. Turning a function only mixes the cosine and sine of its own order and
// frequency, so every rotated copy is evaluated exactly instead of interpolated. Sampled at the
// centres of a (k * upsampling)^2 grid over [-2 sqrt(k), 2 sqrt(k)]^2 (neuralpredictors'
// hermite_2d extent: up to the highest order's turning radius) and scaled by the sample spacing,
// so they are orthonormal up to what the square's edge cuts off the highest orders.
// Returns count x (k * upsampling) x (k * upsampling), float.
torch::Tensor hermiteBasis(int filterSize, int upsampling, double angle);

// From the fine grid to the k x k filter: each pixel is the mean of its upsampling x upsampling
// samples (the function integrated over the pixel, so orders too fine for the pixels average out
// instead of aliasing), rescaled from the sample spacing to the pixel width so the functions stay
// near unit norm. `fine`: ... x (k * upsampling) x (k * upsampling).
torch::Tensor downsampleBasis(const torch::Tensor& fine, int upsampling);

// Layer l: for each rotation r, convolution with the filters sum_b c[b, i, f] * basis_r[b] ->
// batch norm -> softplus (none after the last layer, as in the paper). Layer 0 sees the image and
// has no padding; later layers see all rotations x features of the previous layer with the
// rotation groups cyclically shifted by r for rotated copy r (relative orientation is what a
// coefficient means), and keep the map size. Batch-norm statistics and affine parameters are
// shared by a feature's rotated copies. The config's channels are features per rotation.
class RotationEquivariantCoreImpl : public torch::nn::Module {
 public:
  explicit RotationEquivariantCoreImpl(const NeuralModelConfig& config);
  // Images (batch x channels x height x width) -> batch x (rotations * featureCount()) x h x w,
  // rotation-major. When layers are concatenated, each rotation holds every layer's features in
  // layer order, so channel = rotation * featureCount() + feature still holds.
  torch::Tensor forward(const torch::Tensor& images);
  // smoothnessPenalty * Laplacian(first layer) + groupSparsityPenalty * group sparsity(later layers).
  torch::Tensor regularization() const;
  // The stacked core's Laplacian smoothness over every rotated first-layer filter.
  torch::Tensor laplacianSmoothness() const;
  // The stacked core's group sparsity over the unrotated filters of the later layers: per output
  // feature, a sum over the (rotation, feature) inputs.
  torch::Tensor groupSparsity() const;

  // Layer `layer`'s filters for every rotation, as convolved: (rotations * features) x inputs x k x
  // k, rotation-major, where inputs are the image channels for layer 0 and rotations * features of
  // the previous layer after it.
  torch::Tensor filters(std::size_t layer) const;
  // Layer `layer`'s learned Hermite coefficients: basis count x inputs x features, inputs relative to
  // the filter's own rotation.
  const torch::Tensor& coefficients(std::size_t layer) const { return coefficients_[layer]; }
  std::size_t layerCount() const { return coefficients_.size(); }
  int rotations() const { return rotations_; }
  // Features per rotation in the output: the last layer's, or every layer's when concatenating.
  std::int64_t featureCount() const;

 private:
  // Layer `layer`'s filters turned to `rotation`: features x inputs x k x k.
  torch::Tensor rotatedFilters(std::size_t layer, int rotation) const;

  std::vector<torch::Tensor> coefficients_;  // per layer: basis count x inputs x features
  std::vector<torch::Tensor> bases_;         // per layer: rotations x basis count x k x k
  std::vector<torch::nn::BatchNorm2d> batchNorms_;
  std::vector<int> features_;
  int rotations_;
  bool concatenateLayers_;
  double smoothnessPenalty_;
  double groupSparsityPenalty_;
};
TORCH_MODULE(RotationEquivariantCore);

}  // namespace bp
