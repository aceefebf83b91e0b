#pragma once
// Image classifiers for brain-regularized training (docs/science.md §1 step 5): ResNet18 and ResNet34 in
// their CIFAR form, and a small ResNet that trains a CIFAR epoch in about a minute on a laptop CPU.
// They are classifiers as classifier.h describes them (images in [0, 1] of any height and width,
// normalised inside); their taps are the stem's output and each residual stage's output, which the
// similarity regularizer compares between images.
#include <cstdint>
#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>
#include <nlohmann/json_fwd.hpp>

#include "classifiers/classifier.h"

namespace bp {

enum class ClassifierArchitecture { ResNet18, ResNet34, SmallResNet };

const char* classifierArchitectureName(ClassifierArchitecture architecture);  // "resnet18", "resnet34", "small_resnet"

struct ClassifierConfig {
  ClassifierArchitecture architecture = ClassifierArchitecture::ResNet18;
  int inputChannels = 1;  // 1: grayscale, as in the paper
  int classCount = 10;
  // Per input channel: the model sees (image - mean) / std. The defaults are grayscale CIFAR-10's
  // train-set statistics (the 50,000 train images decoded as grayscale by OpenCV, pixel values / 255).
  std::vector<float> imageMean = {0.4808f};
  std::vector<float> imageStd = {0.2391f};
  // small_resnet only: the stem's channel count; its three stages have width, 2 width, 4 width.
  int width = 16;
};

// Keys are snake_case ("architecture": "resnet18" | "resnet34" | "small_resnet", "input_channels",
// "class_count", "image_mean", "image_std", "width").
nlohmann::json toJson(const ClassifierConfig& config);
// Missing keys keep their defaults; an unknown key or a value of the wrong type is a bp::Error
// naming the key.
ClassifierConfig classifierConfigFromJson(const nlohmann::json& json);
// Throws bp::Error naming the first invalid value (fewer than two classes, a mean or std per
// channel missing, a non-positive std or width).
void validate(const ClassifierConfig& config);

// Two 3x3 convolutions with batch norm and a shortcut (He et al. 2016): relu(bn(conv(relu(bn(conv(x)))))
// + shortcut(x)); the shortcut is a strided 1x1 convolution with batch norm where the block changes
// the map size or channel count, the identity otherwise.
class BasicBlockImpl : public torch::nn::Module {
 public:
  BasicBlockImpl(std::int64_t inputChannels, std::int64_t outputChannels, std::int64_t stride);
  torch::Tensor forward(const torch::Tensor& maps);

 private:
  torch::nn::Conv2d conv1_{nullptr};
  torch::nn::BatchNorm2d norm1_{nullptr};
  torch::nn::Conv2d conv2_{nullptr};
  torch::nn::BatchNorm2d norm2_{nullptr};
  torch::nn::Sequential shortcut_{nullptr};  // null for the identity
};
TORCH_MODULE(BasicBlock);

// stem (3x3 convolution, stride 1, batch norm, ReLU; no max-pool, as for 32x32 CIFAR images) ->
// residual stages of basic blocks -> global average pool -> linear. ResNet18: stages of 2, 2, 2, 2
// blocks, ResNet34: 3, 4, 6, 3; both 64, 128, 256, 512 channels with strides 1, 2, 2, 2.
// small_resnet: three stages of one block each, width x 1, 2, 4 channels, strides 1, 2, 2.
// The trunk is fully convolutional and the pool global, so any image size works.
class ResNetClassifierImpl : public ClassifierImpl {
 public:
  explicit ResNetClassifierImpl(const ClassifierConfig& config);
  torch::Tensor forward(const torch::Tensor& images) override;
  ClassifierOutput forwardWithTaps(const torch::Tensor& images) override;
  // "stem", "stage1", "stage2", ...: the stem's output and each stage's output after its last
  // block. For ResNet18 these are the outputs of convolution layers 1, 5, 9, 13 and 17.
  std::vector<std::string> tapNames() const override;
  std::vector<std::int64_t> tapChannels() const override;
  int classCount() const override { return config_.classCount; }
  torch::Device device() const override;
  const ClassifierConfig& config() const { return config_; }

 private:
  torch::Tensor trunk(const torch::Tensor& images, std::vector<torch::Tensor>* taps);

  ClassifierConfig config_;
  // 1 x channels x 1 x 1, as buffers so that they follow the model to its device.
  torch::Tensor imageMean_;
  torch::Tensor imageStd_;
  torch::nn::Conv2d stem_{nullptr};
  torch::nn::BatchNorm2d stemNorm_{nullptr};
  std::vector<torch::nn::Sequential> stages_;
  std::vector<std::int64_t> stageChannels_;
  torch::nn::Linear head_{nullptr};
};

// The config of BrainPrior's own classifier `model`; bp::Error for an imported one, which has none.
const ClassifierConfig& resNetConfig(const Classifier& model);

}  // namespace bp
