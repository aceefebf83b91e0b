#include "models/neural_model.h"

#include <ATen/ATen.h>
#include <torch/nn/functional/activation.h>
#include <torch/nn/functional/vision.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/linear.h>
#include <torch/utils.h>
#include <limits>
#include <nlohmann/json.hpp>

#include "distributed/data_parallel_group.h"
#include "distributed/synchronized_batch_norm.h"
#include "runtime/config_reader.h"
#include "runtime/error.h"

namespace bp {

const char* coreKindName(CoreKind kind) {
  switch (kind) {
    case CoreKind::Stacked:
      return "stacked";
    case CoreKind::RotationEquivariant:
      return "rotation_equivariant";
  }
  return "stacked";
}

const char* readoutKindName(ReadoutKind kind) {
  switch (kind) {
    case ReadoutKind::Gaussian:
      return "gaussian";
    case ReadoutKind::Factorized:
      return "factorized";
  }
  return "gaussian";
}

NeuralModelConfig defaultNeuralModelConfig(CoreKind core) {
  NeuralModelConfig config;
  config.core = core;
  if (core == CoreKind::RotationEquivariant) {
    config.kernelSizes = {13, 5, 5};
    config.channels = {16, 16, 16};
  }
  return config;
}

nlohmann::json toJson(const NeuralModelConfig& config) {
  return {{"input_channels", config.inputChannels},
          {"input_height", config.inputHeight},
          {"input_width", config.inputWidth},
          {"neuron_count", config.neuronCount},
          {"core", coreKindName(config.core)},
          {"kernel_sizes", config.kernelSizes},
          {"channels", config.channels},
          {"rotations", config.rotations},
          {"hermite_upsampling", config.hermiteUpsampling},
          {"concatenate_layers", config.concatenateLayers},
          {"batch_norm_momentum", config.batchNormMomentum},
          {"smoothness_penalty", config.smoothnessPenalty},
          {"group_sparsity_penalty", config.groupSparsityPenalty},
          {"readout", readoutKindName(config.readout)},
          {"readout_penalty", config.readoutPenalty},
          {"init_position_range", config.initPositionRange},
          {"init_position_spread", config.initPositionSpread},
          {"positive_mask", config.positiveMask},
          {"shifter", config.shifter},
          {"modulator", config.modulator},
          {"shifter_hidden", config.shifterHidden},
          {"modulator_hidden", config.modulatorHidden}};
}

NeuralModelConfig neuralModelConfigFromJson(const nlohmann::json& json) {
  ConfigReader reader(json, "neural model config");
  std::string core = coreKindName(CoreKind::Stacked);
  reader.read("core", core);
  if (core != "stacked" && core != "rotation_equivariant")
    reader.fail("core", "must be \"stacked\" or \"rotation_equivariant\"");
  NeuralModelConfig config =
      defaultNeuralModelConfig(core == "stacked" ? CoreKind::Stacked : CoreKind::RotationEquivariant);
  reader.read("input_channels", config.inputChannels);
  reader.read("input_height", config.inputHeight);
  reader.read("input_width", config.inputWidth);
  reader.read("neuron_count", config.neuronCount);
  reader.read("kernel_sizes", config.kernelSizes);
  reader.read("channels", config.channels);
  reader.read("rotations", config.rotations);
  reader.read("hermite_upsampling", config.hermiteUpsampling);
  reader.read("concatenate_layers", config.concatenateLayers);
  reader.read("batch_norm_momentum", config.batchNormMomentum);
  reader.read("smoothness_penalty", config.smoothnessPenalty);
  reader.read("group_sparsity_penalty", config.groupSparsityPenalty);
  std::string readout = readoutKindName(config.readout);
  reader.read("readout", readout);
  if (readout == "gaussian") {
    config.readout = ReadoutKind::Gaussian;
  } else if (readout == "factorized") {
    config.readout = ReadoutKind::Factorized;
  } else {
    reader.fail("readout", "must be \"gaussian\" or \"factorized\"");
  }
  reader.read("readout_penalty", config.readoutPenalty);
  reader.read("init_position_range", config.initPositionRange);
  reader.read("init_position_spread", config.initPositionSpread);
  reader.read("positive_mask", config.positiveMask);
  reader.read("shifter", config.shifter);
  reader.read("modulator", config.modulator);
  reader.read("shifter_hidden", config.shifterHidden);
  reader.read("modulator_hidden", config.modulatorHidden);
  reader.finish();
  return config;
}

void validate(const NeuralModelConfig& config) {
  auto fail = [](const std::string& problem) { throw Error("neural model config: " + problem); };
  if (config.inputChannels < 1 || config.inputHeight < 1 || config.inputWidth < 1)
    fail("input channels, height and width must be positive");
  if (config.neuronCount < 1) fail("neuron_count must be positive");
  if (config.kernelSizes.empty()) fail("the core needs at least one layer");
  if (config.kernelSizes.size() != config.channels.size())
    fail("kernel_sizes and channels must have one entry per layer");
  for (std::size_t layer = 0; layer < config.kernelSizes.size(); ++layer) {
    if (config.kernelSizes[layer] < 1 || config.channels[layer] < 1)
      fail("layer " + std::to_string(layer) + " needs a positive kernel size and channel count");
    if (layer > 0 && config.kernelSizes[layer] % 2 == 0)
      fail("layer " + std::to_string(layer) + " needs an odd kernel size to keep the map size");
  }
  if (config.kernelSizes.front() > std::min(config.inputHeight, config.inputWidth))
    fail("the first kernel (" + std::to_string(config.kernelSizes.front()) + ") is larger than the " +
         std::to_string(config.inputHeight) + "x" + std::to_string(config.inputWidth) + " input");
  if (config.rotations < 1) fail("rotations must be positive");
  if (config.hermiteUpsampling < 1) fail("hermite_upsampling must be positive");
  if (!(config.batchNormMomentum > 0.0 && config.batchNormMomentum <= 1.0))
    fail("batch_norm_momentum must be in (0, 1]");
  if (!(config.smoothnessPenalty >= 0.0) || !(config.groupSparsityPenalty >= 0.0) || !(config.readoutPenalty >= 0.0))
    fail("penalties must be non-negative");
  if (!(config.initPositionRange >= 0.0 && config.initPositionRange <= 1.0))
    fail("init_position_range must be in [0, 1]");
  if (!(config.initPositionSpread >= 0.0)) fail("init_position_spread must be non-negative");
  if (config.shifter && config.readout != ReadoutKind::Gaussian)
    fail("the shifter moves readout positions: it needs the Gaussian readout");
  if (config.shifterHidden < 1 || config.modulatorHidden < 1) fail("shifter_hidden and modulator_hidden must be positive");
}

CoreShape coreOutputShape(const NeuralModelConfig& config) {
  CoreShape shape;
  shape.height = config.inputHeight - config.kernelSizes.front() + 1;
  shape.width = config.inputWidth - config.kernelSizes.front() + 1;
  if (config.concatenateLayers) {
    for (const int channels : config.channels) shape.channels += channels;
  } else {
    shape.channels = config.channels.back();
  }
  if (config.core == CoreKind::RotationEquivariant) shape.channels *= config.rotations;
  return shape;
}

torch::Tensor filterLaplacianSmoothness(const torch::Tensor& filters) {
  // neuralpredictors' 3x3 Laplacian, applied without padding to every filter.
  static const float laplacian[9] = {0.5f, 1.0f, 0.5f, 1.0f, -6.0f, 1.0f, 0.5f, 1.0f, 0.5f};
  const auto kernelHeight = filters.size(-2);
  const auto kernelWidth = filters.size(-1);
  if (kernelHeight < 3 || kernelWidth < 3) return torch::zeros({}, filters.options());
  const torch::Tensor bank = filters.reshape({-1, 1, kernelHeight, kernelWidth});
  const torch::Tensor kernel = torch::from_blob(const_cast<float*>(laplacian), {1, 1, 3, 3}).to(filters.options());
  return torch::conv2d(bank, kernel).pow(2).sum() / bank.pow(2).sum().clamp_min(1e-12);
}

torch::Tensor filterGroupSparsity(const std::vector<torch::Tensor>& layers) {
  torch::Tensor total = torch::zeros({}, layers.front().options());
  for (const torch::Tensor& weight : layers) {
    const torch::Tensor squares = weight.pow(2).sum({2, 3});  // out x in
    total = total + (squares.sqrt().sum(1) / (squares.sum(1) + 1e-8).sqrt()).sum();
  }
  return total / static_cast<double>(layers.size());
}

// ---- core -------------------------------------------------------------------------------------

StackedCoreImpl::StackedCoreImpl(const NeuralModelConfig& config)
    : concatenateLayers_(config.concatenateLayers),
      smoothnessPenalty_(config.smoothnessPenalty),
      groupSparsityPenalty_(config.groupSparsityPenalty) {
  int inputChannels = config.inputChannels;
  for (std::size_t layer = 0; layer < config.kernelSizes.size(); ++layer) {
    const int kernel = config.kernelSizes[layer];
    const int padding = layer == 0 ? 0 : kernel / 2;
    // Batch norm follows, so a convolution bias would only duplicate its shift.
    auto options = torch::nn::Conv2dOptions(inputChannels, config.channels[layer], kernel).padding(padding).bias(false);
    convolutions_.push_back(register_module("conv" + std::to_string(layer), torch::nn::Conv2d(options)));
    batchNorms_.push_back(
        register_module("norm" + std::to_string(layer),
                        torch::nn::BatchNorm2d(
                            torch::nn::BatchNorm2dOptions(config.channels[layer]).momentum(config.batchNormMomentum))));
    inputChannels = config.channels[layer];
  }
}

torch::Tensor StackedCoreImpl::forward(const torch::Tensor& images) {
  std::vector<torch::Tensor> layers;
  torch::Tensor maps = images;
  for (std::size_t layer = 0; layer < convolutions_.size(); ++layer) {
    maps = torch::elu(batchNorm(*batchNorms_[layer], convolutions_[layer]->forward(maps)));
    if (concatenateLayers_) layers.push_back(maps);
  }
  return concatenateLayers_ ? torch::cat(layers, 1) : maps;
}

torch::Tensor StackedCoreImpl::laplacianSmoothness() const {
  return filterLaplacianSmoothness(convolutions_.front()->weight);
}

torch::Tensor StackedCoreImpl::groupSparsity() const {
  if (convolutions_.size() < 2) return torch::zeros({}, convolutions_.front()->weight.options());
  std::vector<torch::Tensor> later;
  for (std::size_t layer = 1; layer < convolutions_.size(); ++layer) later.push_back(convolutions_[layer]->weight);
  return filterGroupSparsity(later);
}

torch::Tensor StackedCoreImpl::regularization() const {
  return smoothnessPenalty_ * laplacianSmoothness() + groupSparsityPenalty_ * groupSparsity();
}

// ---- readouts ---------------------------------------------------------------------------------

GaussianReadoutImpl::GaussianReadoutImpl(std::int64_t coreChannels, std::int64_t neuronCount, double initPositionRange,
                                         double initPositionSpread, double penalty)
    : penalty_(penalty) {
  positions =
      register_parameter("positions", torch::empty({neuronCount, 2}).uniform_(-initPositionRange, initPositionRange));
  spreads = register_parameter("spreads", torch::full({neuronCount, 2}, initPositionSpread));
  features =
      register_parameter("features", torch::full({neuronCount, coreChannels}, 1.0 / static_cast<double>(coreChannels)));
  bias = register_parameter("bias", torch::zeros({neuronCount}));
}

torch::Tensor GaussianReadoutImpl::forward(const torch::Tensor& coreOutput, const torch::Tensor& shift) {
  const auto batch = coreOutput.size(0);
  const auto neurons = positions.size(0);
  torch::Tensor grid = positions.unsqueeze(0).expand({batch, neurons, 2});
  if (shift.defined()) grid = grid + shift.unsqueeze(1);
  if (is_training()) {
    // In a data-parallel step the noise is drawn for the whole batch and this rank keeps its rows.
    const StepRows* rows = currentStepRows();
    const torch::Tensor noise = rows ? torch::randn({rows->total, neurons, 2}, grid.options()).narrow(0, rows->begin, batch)
                                     : torch::randn_like(grid);
    grid = grid + noise * spreads;
  }
  // Positions outside the image would read zero padding; keep them on it.
  grid = grid.clamp(-1.0, 1.0).unsqueeze(2);  // batch x neurons x 1 x 2
  namespace F = torch::nn::functional;
  const torch::Tensor sampled =
      F::grid_sample(coreOutput, grid,
                     F::GridSampleFuncOptions().mode(torch::kBilinear).padding_mode(torch::kZeros).align_corners(true));
  // sampled: batch x channels x neurons x 1
  return (sampled.squeeze(3).transpose(1, 2) * features.unsqueeze(0)).sum(2) + bias;
}

torch::Tensor GaussianReadoutImpl::regularization() const {
  return penalty_ * features.abs().sum();
}

FactorizedReadoutImpl::FactorizedReadoutImpl(const CoreShape& core, std::int64_t neuronCount, bool positiveMask,
                                             double penalty)
    : positiveMask_(positiveMask), penalty_(penalty) {
  // neuralpredictors' initialisation: small positive masks, small feature weights.
  mask = register_parameter("mask", torch::empty({neuronCount, core.height, core.width}).normal_(0.0, 0.01).abs());
  features = register_parameter("features", torch::empty({neuronCount, core.channels}).normal_(0.0, 0.01));
  bias = register_parameter("bias", torch::zeros({neuronCount}));
}

torch::Tensor FactorizedReadoutImpl::effectiveMask() const {
  return positiveMask_ ? mask.abs() : mask;
}

torch::Tensor FactorizedReadoutImpl::forward(const torch::Tensor& coreOutput) {
  // batch x neurons x channels: each neuron's mask-weighted sum of every feature map.
  const torch::Tensor pooled = torch::einsum("bchw,nhw->bnc", {coreOutput, effectiveMask()});
  return (pooled * features.unsqueeze(0)).sum(2) + bias;
}

torch::Tensor FactorizedReadoutImpl::regularization() const {
  return penalty_ * (effectiveMask().abs().sum({1, 2}) * features.abs().sum(1)).sum();
}

// ---- model ------------------------------------------------------------------------------------

NeuralModelImpl::NeuralModelImpl(const NeuralModelConfig& config) : config_(config) {
  bp::validate(config_);
  if (config_.core == CoreKind::Stacked) {
    stackedCore_ = register_module("core", StackedCore(config_));
  } else {
    rotationEquivariantCore_ = register_module("core", RotationEquivariantCore(config_));
  }
  const CoreShape shape = coreOutputShape(config_);
  if (config_.readout == ReadoutKind::Gaussian) {
    gaussianReadout_ =
        register_module("readout", GaussianReadout(shape.channels, config_.neuronCount, config_.initPositionRange,
                                                   config_.initPositionSpread, config_.readoutPenalty));
  } else {
    factorizedReadout_ = register_module(
        "readout", FactorizedReadout(shape, config_.neuronCount, config_.positiveMask, config_.readoutPenalty));
  }
  // neuralpredictors' MLP shifter (tanh layers, a shift within the grid) and modulator. Their last
  // layers start at zero: no shift and a gain of 1 until training finds a use for them.
  namespace nn = torch::nn;
  if (config_.shifter) {
    const int hidden = config_.shifterHidden;
    shifter_ = register_module("shifter", nn::Sequential(nn::Linear(2, hidden), nn::Tanh(), nn::Linear(hidden, hidden),
                                                         nn::Tanh(), nn::Linear(hidden, 2), nn::Tanh()));
  }
  if (config_.modulator)
    modulator_ = register_module("modulator", nn::Sequential(nn::Linear(3, config_.modulatorHidden), nn::ELU(),
                                                             nn::Linear(config_.modulatorHidden, config_.neuronCount)));
  torch::NoGradGuard noGrad;
  for (auto* mlp : {&shifter_, &modulator_})
    if (*mlp) {
      auto last = (*mlp)->ptr(mlp == &shifter_ ? 4 : 2)->as<nn::Linear>();
      last->weight.zero_();
      last->bias.zero_();
    }
}

torch::Tensor NeuralModelImpl::forward(const torch::Tensor& images, const TrialState* state) {
  const torch::Tensor maps = stackedCore_ ? stackedCore_->forward(images) : rotationEquivariantCore_->forward(images);
  const auto batch = images.size(0);
  // Without a trial's state, the mean eye and behaviour: zeros after z-scoring.
  const auto inputOf = [&](const torch::Tensor& given, std::int64_t width) {
    return state && given.defined() ? given : torch::zeros({batch, width}, images.options());
  };
  torch::Tensor shift;
  if (shifter_) shift = shifter_->forward(inputOf(state ? state->pupilCenter : torch::Tensor(), 2));
  const torch::Tensor drive =
      gaussianReadout_ ? gaussianReadout_->forward(maps, shift) : factorizedReadout_->forward(maps);
  torch::Tensor rates = torch::elu(drive) + 1.0;
  if (modulator_)
    rates = rates * (torch::elu(modulator_->forward(inputOf(state ? state->behavior : torch::Tensor(), 3))) + 1.0);
  return rates;
}

torch::Tensor NeuralModelImpl::regularization() const {
  const torch::Tensor readout =
      gaussianReadout_ ? gaussianReadout_->regularization() : factorizedReadout_->regularization();
  const torch::Tensor core = stackedCore_ ? stackedCore_->regularization() : rotationEquivariantCore_->regularization();
  return core + readout;
}

torch::Tensor NeuralModelImpl::firstLayerFilters() const {
  torch::NoGradGuard noGrad;
  return stackedCore_ ? stackedCore_->convolution(0)->weight.detach() : rotationEquivariantCore_->filters(0);
}

void NeuralModelImpl::shareCore(const NeuralModelImpl& source) {
  // Everything but the population's size, the readout and the trial-state networks shapes the core.
  NeuralModelConfig mine = config_;
  NeuralModelConfig theirs = source.config_;
  for (auto* config : {&mine, &theirs}) {
    config->neuronCount = 1;
    config->readout = ReadoutKind::Gaussian;
    config->readoutPenalty = 0.0;
    config->initPositionRange = config->initPositionSpread = 0.0;
    config->positiveMask = true;
    config->shifter = config->modulator = false;
    config->shifterHidden = config->modulatorHidden = 1;
  }
  if (toJson(mine) != toJson(theirs)) throw Error("cannot share a core between models whose cores differ");
  if (source.stackedCore_) stackedCore_ = replace_module("core", source.stackedCore_);
  else rotationEquivariantCore_ = replace_module("core", source.rotationEquivariantCore_);
}

std::vector<torch::Tensor> NeuralModelImpl::recordingParameters() const {
  std::vector<torch::Tensor> own = gaussianReadout_ ? gaussianReadout_->parameters() : factorizedReadout_->parameters();
  for (const auto* mlp : {&shifter_, &modulator_})
    if (*mlp) {
      const auto more = (*mlp)->parameters();
      own.insert(own.end(), more.begin(), more.end());
    }
  return own;
}

void NeuralModelImpl::initializeReadoutBias(const torch::Tensor& meanRates) {
  torch::NoGradGuard noGrad;
  const torch::Tensor rates = meanRates.to(torch::kFloat).clamp_min(1e-3);
  // ELU(b) + 1 = r  <=>  b = r - 1 for r >= 1, log(r) below.
  const torch::Tensor drive = torch::where(rates >= 1.0, rates - 1.0, rates.log());
  torch::Tensor& bias = gaussianReadout_ ? gaussianReadout_->bias : factorizedReadout_->bias;
  bias.copy_(drive.to(bias.device()));
}

}  // namespace bp
