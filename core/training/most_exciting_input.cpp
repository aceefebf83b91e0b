#include "training/most_exciting_input.h"

#include <torch/autograd.h>
#include <torch/nn/functional/conv.h>
#include <cmath>
#include <nlohmann/json.hpp>

#include "runtime/config_reader.h"
#include "runtime/error.h"

namespace bp {

namespace {

// A normalised 1-D Gaussian of the given sigma, truncated at 3 sigma.
torch::Tensor gaussianKernel(double sigma) {
  const int radius = std::max(1, static_cast<int>(std::ceil(3.0 * sigma)));
  torch::Tensor x = torch::arange(-radius, radius + 1, torch::kFloat);
  torch::Tensor kernel = torch::exp(-0.5 * x * x / (sigma * sigma));
  return kernel / kernel.sum();
}

// Separable Gaussian blur of every channel of a batch (N x C x H x W), zero padding.
torch::Tensor blur(const torch::Tensor& images, double sigma) {
  namespace F = torch::nn::functional;
  const auto channels = images.size(1);
  const torch::Tensor kernel = gaussianKernel(sigma);
  const auto radius = (kernel.size(0) - 1) / 2;
  const torch::Tensor horizontal = kernel.view({1, 1, 1, -1}).repeat({channels, 1, 1, 1});
  const torch::Tensor vertical = kernel.view({1, 1, -1, 1}).repeat({channels, 1, 1, 1});
  torch::Tensor out = F::conv2d(images, horizontal, F::Conv2dFuncOptions().padding({0, radius}).groups(channels));
  return F::conv2d(out, vertical, F::Conv2dFuncOptions().padding({radius, 0}).groups(channels));
}

// Root mean square over each sample's pixels, shaped N x 1 x 1 x 1 for broadcasting.
torch::Tensor rms(const torch::Tensor& images) {
  return images.pow(2).mean({1, 2, 3}, true).sqrt().clamp_min(1e-12);
}

}  // namespace

nlohmann::json toJson(const MeiConfig& config) {
  return {{"steps", config.steps},
          {"step_size", config.stepSize},
          {"contrast", config.contrast},
          {"blur_sigma", config.blurSigma},
          {"seed", config.seed}};
}

MeiConfig meiConfigFromJson(const nlohmann::json& json) {
  MeiConfig config;
  ConfigReader reader(json, "most exciting input config");
  reader.read("steps", config.steps);
  reader.read("step_size", config.stepSize);
  reader.read("contrast", config.contrast);
  reader.read("blur_sigma", config.blurSigma);
  reader.read("seed", config.seed);
  reader.finish();
  return config;
}

std::vector<MostExcitingInput> computeMostExcitingInputs(const FittedNeuralModel& fitted,
                                                         const std::vector<std::int64_t>& neurons,
                                                         const MeiConfig& config, const Job& job) {
  NeuralModel model = fitted.model;
  const NeuralModelConfig& modelConfig = model->config();
  if (neurons.empty()) throw Error("most exciting inputs: no neurons requested");
  for (const std::int64_t neuron : neurons)
    if (neuron < 0 || neuron >= modelConfig.neuronCount)
      throw Error("most exciting inputs: neuron " + std::to_string(neuron) + " is out of range (the model has " +
                  std::to_string(modelConfig.neuronCount) + ")");
  if (config.steps < 1 || !(config.stepSize > 0.0) || !(config.contrast > 0.0) || !(config.blurSigma >= 0.0))
    throw Error("most exciting inputs: steps, step size and contrast must be positive and the blur non-negative");

  torch::AutoGradMode gradMode(true);
  model->eval();
  const auto count = static_cast<std::int64_t>(neurons.size());
  const auto channels = static_cast<std::int64_t>(modelConfig.inputChannels);
  const torch::Tensor mean = torch::tensor(fitted.normalization.imageMean).view({1, channels, 1, 1});
  const torch::Tensor deviation = torch::tensor(fitted.normalization.imageStd).view({1, channels, 1, 1});
  // The pixel box, in normalised units per channel.
  const torch::Tensor low = (fitted.normalization.pixelRange[0] - mean) / deviation;
  const torch::Tensor high = (fitted.normalization.pixelRange[1] - mean) / deviation;
  const torch::Tensor index = torch::tensor(neurons);
  const torch::Tensor rows = torch::arange(count);
  const torch::Tensor scale = torch::tensor(fitted.normalization.responseScale).index_select(0, index);

  torch::Generator generator = at::detail::createCPUGenerator(config.seed);
  torch::Tensor images =
      torch::randn({count, channels, modelConfig.inputHeight, modelConfig.inputWidth}, generator, torch::kFloat);
  images = torch::max(torch::min(images * (config.contrast / rms(images)), high), low);

  std::vector<MostExcitingInput> result(neurons.size());
  auto activations = [&](const torch::Tensor& rates) {
    return (rates.index({rows, index}) * scale).detach();
  };
  {
    torch::NoGradGuard noGrad;
    const torch::Tensor start = activations(model->forward(images));
    for (std::int64_t i = 0; i < count; ++i) {
      result[static_cast<std::size_t>(i)].neuron = neurons[static_cast<std::size_t>(i)];
      result[static_cast<std::size_t>(i)].startActivation = start[i].item<double>();
    }
  }
  for (int step = 0; step < config.steps; ++step) {
    job.throwIfCancelled();
    torch::Tensor input = images.detach().requires_grad_(true);
    const torch::Tensor rates = model->forward(input);
    const torch::Tensor response = activations(rates);
    torch::Tensor gradient = torch::autograd::grad({rates.index({rows, index}).sum()}, {input})[0];
    // Coarse structure first, finer detail as the image settles.
    const double progress = config.steps > 1 ? static_cast<double>(step) / (config.steps - 1) : 1.0;
    const double sigma = config.blurSigma > 0.5 ? config.blurSigma + (0.5 - config.blurSigma) * progress : config.blurSigma;
    if (sigma > 0.0) gradient = blur(gradient, sigma);
    torch::NoGradGuard noGrad;
    images = images + (config.stepSize * config.contrast) * gradient / rms(gradient);
    images = torch::max(torch::min(images * (config.contrast / rms(images)), high), low);
    for (std::int64_t i = 0; i < count; ++i)
      result[static_cast<std::size_t>(i)].trajectory.push_back(response[i].item<double>());
    job.progress(static_cast<double>(step + 1) / config.steps,
                 "most exciting inputs: step " + std::to_string(step + 1) + " of " + std::to_string(config.steps));
  }

  torch::NoGradGuard noGrad;
  const torch::Tensor final = activations(model->forward(images));
  const torch::Tensor pixels = (images * deviation + mean).contiguous();
  const auto imageSize = channels * modelConfig.inputHeight * modelConfig.inputWidth;
  for (std::int64_t i = 0; i < count; ++i) {
    auto& mei = result[static_cast<std::size_t>(i)];
    mei.activation = final[i].item<double>();
    const float* begin = pixels.data_ptr<float>() + i * imageSize;
    mei.image.assign(begin, begin + imageSize);
  }
  return result;
}

}  // namespace bp
