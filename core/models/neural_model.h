#pragma once
// Predictive models of neurons (docs/science.md §3, the neuralpredictors vocabulary): a convolutional
// core shared by all neurons, a per-neuron readout, and a positive output (ELU + 1), mapping
// normalised images (batch x channels x height x width) to rates (batch x neurons).
#include <cstdint>
#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>
#include <nlohmann/json_fwd.hpp>

#include "models/rotation_equivariant_core.h"

namespace bp {

enum class CoreKind { Stacked, RotationEquivariant };
enum class ReadoutKind { Gaussian, Factorized };

const char* coreKindName(CoreKind kind);  // "stacked", "rotation_equivariant"

const char* readoutKindName(ReadoutKind kind);  // "gaussian", "factorized"

struct NeuralModelConfig {
  // Input geometry and population size; the trainer fills them from the dataset.
  int inputChannels = 1;
  int inputHeight = 36;
  int inputWidth = 64;
  std::int64_t neuronCount = 1;

  // Stacked 2-D core: layer l is conv(kernelSizes[l], channels[l]) -> batch norm -> ELU. The first
  // layer has no padding (neuralpredictors: no filters hanging over the image edge), later layers
  // keep the size. Both vectors have one entry per layer.
  // Rotation-equivariant core (RotationEquivariantCore): the same layout, with channels[l]
  // features per rotation, so layer l has rotations * channels[l] maps.
  CoreKind core = CoreKind::Stacked;
  std::vector<int> kernelSizes = {9, 7, 7, 7};
  std::vector<int> channels = {32, 32, 32, 32};
  int rotations = 8;                  // rotation-equivariant core: orientations, evenly spaced over 360 degrees
  int hermiteUpsampling = 2;          // rotation-equivariant core: Hermite basis samples per pixel and axis
  bool concatenateLayers = false;     // core output: every layer's maps stacked, or the last layer's
  double batchNormMomentum = 0.1;     // PyTorch's convention: weight of the new batch's statistics
  double smoothnessPenalty = 0.01;    // x normalised Laplacian energy of the first layer's filters
  double groupSparsityPenalty = 0.0;  // x group-sparsity of the later layers' filters

  ReadoutKind readout = ReadoutKind::Gaussian;
  double readoutPenalty = 1.5e-5;  // Gaussian: x sum |w|; factorized: x sum_n |m_n|_1 |w_n|_1
  // Gaussian readout: positions start uniform in [-initPositionRange, initPositionRange]^2 and are
  // sampled around mu with a learned per-axis spread that starts at initPositionSpread.
  double initPositionRange = 0.3;
  double initPositionSpread = 0.1;
  // Factorized readout: the mask used is |m| (non-negative) when set, m otherwise.
  bool positiveMask = true;

  // What the eye and the animal did on each trial (neuralpredictors' shifter and modulator; Sinz et
  // al. 2018). Shifter: an MLP from the pupil centre (x, y) to a shift of every neuron's readout
  // position (Gaussian readout only), so a receptive field follows the eye. Modulator: an MLP from the
  // behaviour (pupil dilation, its derivative, running speed) to a positive gain per neuron. Both
  // see their inputs z-scored with the train tier's statistics; without them (images of another
  // set) they see zeros, the train tier's mean eye and behaviour.
  bool shifter = false;
  bool modulator = false;
  int shifterHidden = 5;     // units of each of the shifter's two hidden layers
  int modulatorHidden = 10;  // units of the modulator's hidden layer
};

// The per-trial inputs of the shifter and modulator, z-scored: batch x 2 and batch x 3.
struct TrialState {
  torch::Tensor pupilCenter;
  torch::Tensor behavior;
};

// The defaults for a core kind: the struct's for the stacked core; for the rotation-equivariant core
// the paper's 3 layers of 13, 5, 5 pixel filters with 16 features each (x 8 rotations = 128 maps).
NeuralModelConfig defaultNeuralModelConfig(CoreKind core);

// Keys are snake_case ("input_channels", ..., "core": "stacked" | "rotation_equivariant",
// "readout": "gaussian" | "factorized").
nlohmann::json toJson(const NeuralModelConfig& config);
// Missing keys keep the defaults of the config's "core" (defaultNeuralModelConfig); an unknown key
// or a value of the wrong type is a bp::Error naming the key.
NeuralModelConfig neuralModelConfigFromJson(const nlohmann::json& json);
// Throws bp::Error naming the first invalid value (empty core, mismatched vectors, a first layer
// larger than the image, non-positive sizes, negative penalties).
void validate(const NeuralModelConfig& config);

// The core's output geometry for a config.
struct CoreShape {
  std::int64_t channels = 0;
  std::int64_t height = 0;
  std::int64_t width = 0;
};
CoreShape coreOutputShape(const NeuralModelConfig& config);

// Regularizers shared by the cores.
// |Laplacian * filters|^2 / |filters|^2 over a bank (any leading dimensions, k x k last), the 3x3
// Laplacian applied without padding (neuralpredictors LaplaceL2norm); zero for filters under 3x3.
torch::Tensor filterLaplacianSmoothness(const torch::Tensor& filters);
// Mean over layers (out x in x k x k each) of, per output channel, the sum over input channels of
// the spatial L2 norm divided by the filter's total L2 norm (neuralpredictors group_sparsity).
// Needs at least one layer.
torch::Tensor filterGroupSparsity(const std::vector<torch::Tensor>& layers);

class StackedCoreImpl : public torch::nn::Module {
 public:
  explicit StackedCoreImpl(const NeuralModelConfig& config);
  torch::Tensor forward(const torch::Tensor& images);
  // smoothnessPenalty * Laplacian(first layer) + groupSparsityPenalty * group sparsity(later layers).
  torch::Tensor regularization() const;
  // Sum over first-layer filters of |Laplacian * filter|^2 / |filter|^2 (neuralpredictors LaplaceL2norm).
  torch::Tensor laplacianSmoothness() const;
  // Mean over later layers of, per output channel, sum over input channels of the spatial L2 norm
  // divided by the filter's total L2 norm (neuralpredictors Stacked2dCore.group_sparsity).
  torch::Tensor groupSparsity() const;
  const torch::nn::Conv2d& convolution(std::size_t layer) const { return convolutions_[layer]; }

 private:
  std::vector<torch::nn::Conv2d> convolutions_;
  std::vector<torch::nn::BatchNorm2d> batchNorms_;
  bool concatenateLayers_;
  double smoothnessPenalty_;
  double groupSparsityPenalty_;
};
TORCH_MODULE(StackedCore);

// Each neuron reads the core at one learned position mu_n in [-1, 1]^2 (grid_sample coordinates,
// bilinear): during training at mu_n + sigma_n * noise, so the position gets gradients from a
// neighbourhood; at evaluation at mu_n. rate_n = sum_c w[n, c] * core_c(position_n) + b_n.
class GaussianReadoutImpl : public torch::nn::Module {
 public:
  GaussianReadoutImpl(std::int64_t coreChannels, std::int64_t neuronCount, double initPositionRange,
                      double initPositionSpread, double penalty);
  // `shift` (batch x 2, grid units) moves every neuron's position on that trial; undefined: none.
  torch::Tensor forward(const torch::Tensor& coreOutput, const torch::Tensor& shift = {});
  torch::Tensor regularization() const;  // penalty * sum |w|

  torch::Tensor positions;  // neurons x 2 (x, y)
  torch::Tensor spreads;    // neurons x 2
  torch::Tensor features;   // neurons x coreChannels
  torch::Tensor bias;       // neurons

 private:
  double penalty_;
};
TORCH_MODULE(GaussianReadout);

// rate_n = sum_c w[n, c] * sum_xy m[n, y, x] * core[c, y, x] + b_n (Klindt et al. 2017).
class FactorizedReadoutImpl : public torch::nn::Module {
 public:
  FactorizedReadoutImpl(const CoreShape& core, std::int64_t neuronCount, bool positiveMask, double penalty);
  torch::Tensor forward(const torch::Tensor& coreOutput);
  torch::Tensor regularization() const;  // penalty * sum_n |m_n|_1 |w_n|_1
  torch::Tensor effectiveMask() const;   // neurons x height x width, as applied

  torch::Tensor mask;      // neurons x height x width
  torch::Tensor features;  // neurons x coreChannels
  torch::Tensor bias;      // neurons

 private:
  bool positiveMask_;
  double penalty_;
};
TORCH_MODULE(FactorizedReadout);

class NeuralModelImpl : public torch::nn::Module {
 public:
  explicit NeuralModelImpl(const NeuralModelConfig& config);
  // Normalised images (batch x channels x height x width) -> rates (batch x neurons), all > 0.
  // `state` feeds the shifter and modulator when the config has them; null: the mean eye and
  // behaviour (zeros).
  torch::Tensor forward(const torch::Tensor& images, const TrialState* state = nullptr);
  // Every penalty of the core and the readout, weighted, as one scalar to add to the loss.
  torch::Tensor regularization() const;
  // Sets each readout bias so that a zero drive predicts `meanRates` (neurons): the inverse of
  // ELU + 1, so training starts at the mean response instead of spending epochs finding it.
  void initializeReadoutBias(const torch::Tensor& meanRates);
  // Makes this model read `source`'s core (the same module, so the same weights and batch-norm
  // statistics): one core shared by the readouts of several recordings (neuralpredictors'
  // multi-session models). bp::Error when the two configs would build different cores.
  void shareCore(const NeuralModelImpl& source);
  // The parameters of this recording alone (its readout, shifter and modulator): all but the core's.
  std::vector<torch::Tensor> recordingParameters() const;

  const NeuralModelConfig& config() const { return config_; }
  // Exactly one of them is set, as config().core says.
  const StackedCore& stackedCore() const { return stackedCore_; }
  const RotationEquivariantCore& rotationEquivariantCore() const { return rotationEquivariantCore_; }
  // The filters that see the image, detached: out x in x k x k for the stacked core; every rotated
  // copy, (rotations * features) x in x k x k rotation-major, for the rotation-equivariant core.
  torch::Tensor firstLayerFilters() const;
  // Exactly one of them is set, as config().readout says.
  const GaussianReadout& gaussianReadout() const { return gaussianReadout_; }
  const FactorizedReadout& factorizedReadout() const { return factorizedReadout_; }

 private:
  NeuralModelConfig config_;
  StackedCore stackedCore_{nullptr};
  RotationEquivariantCore rotationEquivariantCore_{nullptr};
  GaussianReadout gaussianReadout_{nullptr};
  FactorizedReadout factorizedReadout_{nullptr};
  torch::nn::Sequential shifter_{nullptr};
  torch::nn::Sequential modulator_{nullptr};
};
TORCH_MODULE(NeuralModel);

}  // namespace bp
