#include "classifiers/resnet.h"

#include <ATen/ATen.h>
#include <torch/nn/init.h>
#include <torch/utils.h>
#include <nlohmann/json.hpp>

#include "distributed/synchronized_batch_norm.h"
#include "runtime/config_reader.h"
#include "runtime/error.h"

namespace bp {

const char* classifierArchitectureName(ClassifierArchitecture architecture) {
  switch (architecture) {
    case ClassifierArchitecture::ResNet18:
      return "resnet18";
    case ClassifierArchitecture::ResNet34:
      return "resnet34";
    case ClassifierArchitecture::SmallResNet:
      return "small_resnet";
  }
  return "resnet18";
}

nlohmann::json toJson(const ClassifierConfig& config) {
  return {{"architecture", classifierArchitectureName(config.architecture)},
          {"input_channels", config.inputChannels},
          {"class_count", config.classCount},
          {"image_mean", config.imageMean},
          {"image_std", config.imageStd},
          {"width", config.width}};
}

ClassifierConfig classifierConfigFromJson(const nlohmann::json& json) {
  ClassifierConfig config;
  ConfigReader reader(json, "classifier config");
  std::string architecture = classifierArchitectureName(config.architecture);
  reader.read("architecture", architecture);
  if (architecture == "resnet18") {
    config.architecture = ClassifierArchitecture::ResNet18;
  } else if (architecture == "resnet34") {
    config.architecture = ClassifierArchitecture::ResNet34;
  } else if (architecture == "small_resnet") {
    config.architecture = ClassifierArchitecture::SmallResNet;
  } else {
    reader.fail("architecture", "must be \"resnet18\", \"resnet34\" or \"small_resnet\"");
  }
  reader.read("input_channels", config.inputChannels);
  reader.read("class_count", config.classCount);
  reader.read("image_mean", config.imageMean);
  reader.read("image_std", config.imageStd);
  reader.read("width", config.width);
  reader.finish();
  return config;
}

void validate(const ClassifierConfig& config) {
  auto fail = [](const std::string& problem) { throw Error("classifier config: " + problem); };
  if (config.inputChannels < 1) fail("input_channels must be positive");
  if (config.classCount < 2) fail("class_count must be at least 2");
  const auto channels = static_cast<std::size_t>(config.inputChannels);
  if (config.imageMean.size() != channels || config.imageStd.size() != channels)
    fail("image_mean and image_std need one value per input channel (" + std::to_string(channels) + ")");
  for (const float std : config.imageStd) {
    if (!(std > 0.0f)) fail("image_std values must be positive");
  }
  if (config.width < 1) fail("width must be positive");
}

// ---- blocks -----------------------------------------------------------------------------------

namespace {

// Batch norm follows every convolution, so a convolution bias would only duplicate its shift.
torch::nn::Conv2d convolution(std::int64_t input, std::int64_t output, std::int64_t kernel, std::int64_t stride) {
  return torch::nn::Conv2d(
      torch::nn::Conv2dOptions(input, output, kernel).stride(stride).padding(kernel / 2).bias(false));
}

struct StagePlan {
  std::int64_t channels;
  std::int64_t stride;
  int blocks;
};

std::vector<StagePlan> stagePlan(const ClassifierConfig& config) {
  switch (config.architecture) {
    case ClassifierArchitecture::ResNet18:
      return {{64, 1, 2}, {128, 2, 2}, {256, 2, 2}, {512, 2, 2}};
    case ClassifierArchitecture::ResNet34:
      return {{64, 1, 3}, {128, 2, 4}, {256, 2, 6}, {512, 2, 3}};
    case ClassifierArchitecture::SmallResNet: {
      const std::int64_t width = config.width;
      return {{width, 1, 1}, {2 * width, 2, 1}, {4 * width, 2, 1}};
    }
  }
  return {};
}

std::int64_t stemChannels(const ClassifierConfig& config) {
  return config.architecture == ClassifierArchitecture::SmallResNet ? config.width : 64;
}

}  // namespace

BasicBlockImpl::BasicBlockImpl(std::int64_t inputChannels, std::int64_t outputChannels, std::int64_t stride) {
  conv1_ = register_module("conv1", convolution(inputChannels, outputChannels, 3, stride));
  norm1_ = register_module("norm1", torch::nn::BatchNorm2d(outputChannels));
  conv2_ = register_module("conv2", convolution(outputChannels, outputChannels, 3, 1));
  norm2_ = register_module("norm2", torch::nn::BatchNorm2d(outputChannels));
  if (stride != 1 || inputChannels != outputChannels) {
    shortcut_ = register_module("shortcut", torch::nn::Sequential(convolution(inputChannels, outputChannels, 1, stride),
                                                                  torch::nn::BatchNorm2d(outputChannels)));
  }
}

torch::Tensor BasicBlockImpl::forward(const torch::Tensor& maps) {
  const torch::Tensor residual =
      batchNorm(*norm2_, conv2_->forward(torch::relu(batchNorm(*norm1_, conv1_->forward(maps)))));
  if (!shortcut_) return torch::relu(residual + maps);
  // Called layer by layer (not shortcut_->forward) so that its batch norm is synchronized too; the
  // Sequential stays for the names saved models use ("shortcut.0", "shortcut.1").
  const torch::Tensor shortcut = batchNorm(*shortcut_[1]->as<torch::nn::BatchNorm2d>(),
                                           shortcut_[0]->as<torch::nn::Conv2d>()->forward(maps));
  return torch::relu(residual + shortcut);
}

// ---- classifier -------------------------------------------------------------------------------

ResNetClassifierImpl::ResNetClassifierImpl(const ClassifierConfig& config) : config_(config) {
  bp::validate(config_);
  const auto channels = static_cast<std::int64_t>(config_.inputChannels);
  imageMean_ = register_buffer("image_mean", torch::tensor(config_.imageMean).view({1, channels, 1, 1}));
  imageStd_ = register_buffer("image_std", torch::tensor(config_.imageStd).view({1, channels, 1, 1}));

  std::int64_t previous = stemChannels(config_);
  stem_ = register_module("stem", convolution(channels, previous, 3, 1));
  stemNorm_ = register_module("stem_norm", torch::nn::BatchNorm2d(previous));
  const std::vector<StagePlan> plan = stagePlan(config_);
  for (std::size_t stage = 0; stage < plan.size(); ++stage) {
    torch::nn::Sequential blocks;
    for (int block = 0; block < plan[stage].blocks; ++block) {
      blocks->push_back(BasicBlock(previous, plan[stage].channels, block == 0 ? plan[stage].stride : 1));
      previous = plan[stage].channels;
    }
    stages_.push_back(register_module("stage" + std::to_string(stage + 1), blocks));
    stageChannels_.push_back(previous);
  }
  head_ = register_module("head", torch::nn::Linear(previous, config_.classCount));

  // torchvision's ResNet initialisation: He-normal convolutions (fan-out, for the ReLUs that
  // follow), batch norm starting as the identity.
  torch::NoGradGuard noGrad;
  for (auto& module : modules(/*include_self=*/false)) {
    if (auto* conv = module->as<torch::nn::Conv2d>()) {
      torch::nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut, torch::kReLU);
    } else if (auto* norm = module->as<torch::nn::BatchNorm2d>()) {
      norm->weight.fill_(1.0);
      norm->bias.zero_();
    }
  }
}

torch::Tensor ResNetClassifierImpl::trunk(const torch::Tensor& images, std::vector<torch::Tensor>* taps) {
  if (images.dim() != 4 || images.size(1) != config_.inputChannels)
    throw Error("classifier: expected images of batch x " + std::to_string(config_.inputChannels) +
                " x height x width, got " + std::to_string(images.dim()) + " dimensions" +
                (images.dim() >= 2 ? " with " + std::to_string(images.size(1)) + " channels" : std::string()));
  torch::Tensor maps = torch::relu(batchNorm(*stemNorm_, stem_->forward((images - imageMean_) / imageStd_)));
  if (taps) taps->push_back(maps);
  for (auto& stage : stages_) {
    maps = stage->forward(maps);
    if (taps) taps->push_back(maps);
  }
  return maps;
}

torch::Tensor ResNetClassifierImpl::forward(const torch::Tensor& images) {
  return head_->forward(trunk(images, nullptr).mean({2, 3}));
}

ClassifierOutput ResNetClassifierImpl::forwardWithTaps(const torch::Tensor& images) {
  ClassifierOutput output;
  output.logits = head_->forward(trunk(images, &output.taps).mean({2, 3}));
  return output;
}

std::vector<std::string> ResNetClassifierImpl::tapNames() const {
  std::vector<std::string> names = {"stem"};
  for (std::size_t stage = 0; stage < stages_.size(); ++stage) names.push_back("stage" + std::to_string(stage + 1));
  return names;
}

std::vector<std::int64_t> ResNetClassifierImpl::tapChannels() const {
  std::vector<std::int64_t> channels = {stemChannels(config_)};
  channels.insert(channels.end(), stageChannels_.begin(), stageChannels_.end());
  return channels;
}

torch::Device ResNetClassifierImpl::device() const { return stem_->weight.device(); }

Classifier::Classifier(const ClassifierConfig& config)
    : ModuleHolder(std::shared_ptr<ClassifierImpl>(std::make_shared<ResNetClassifierImpl>(config))) {}

const ClassifierConfig& resNetConfig(const Classifier& model) {
  const auto* resNet = dynamic_cast<const ResNetClassifierImpl*>(model.get());
  if (!resNet) throw Error("an imported model has no BrainPrior classifier config");
  return resNet->config();
}

}  // namespace bp
