#pragma once
// The image classifier every analysis works with (the probe's accuracy, corruptions and attacks,
// saliency and alignment, neural predictivity, layer similarity): BrainPrior's own ResNets
// (resnet.h) and imported TorchScript networks (scripted_classifier.h) alike. Every classifier takes
// images in [0, 1] (batch x channels x height x width) and prepares them itself as its network
// needs (normalisation, and for an imported network its declared size, channels and value range),
// so callers, attacks and noise all work in the same image units whatever the model.
#include <cstdint>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

namespace bp {

struct ClassifierConfig;  // resnet.h

// Logits and the layer outputs ("taps") of the same forward pass.
struct ClassifierOutput {
  torch::Tensor logits;             // batch x classes (undefined for an imported network without logits)
  std::vector<torch::Tensor> taps;  // one per tap in tapNames() order: batch x channels x height x width, or batch x units
};

class ClassifierImpl : public torch::nn::Module {
 public:
  // Images in [0, 1] -> logits (batch x classes). bp::Error for a network without logits.
  virtual torch::Tensor forward(const torch::Tensor& images) = 0;
  // The logits and every tap. In training mode batch norm uses (and updates its running statistics
  // from) this batch, as forward() does.
  virtual ClassifierOutput forwardWithTaps(const torch::Tensor& images) = 0;
  virtual std::vector<std::string> tapNames() const = 0;
  // Per tap: its channels (size of dimension 1).
  virtual std::vector<std::int64_t> tapChannels() const = 0;
  // The logits' width; 0 for an imported network that returns only layer outputs.
  virtual int classCount() const = 0;
  // Where the weights are.
  virtual torch::Device device() const = 0;
};

// A shared handle, as LibTorch's TORCH_MODULE makes one: Classifier(config) builds BrainPrior's own
// ResNet (resnet.h), Classifier(impl) wraps any classifier.
class Classifier : public torch::nn::ModuleHolder<ClassifierImpl> {
 public:
  Classifier(std::nullptr_t) : ModuleHolder(nullptr) {}  // NOLINT(google-explicit-constructor): as TORCH_MODULE
  Classifier(std::shared_ptr<ClassifierImpl> impl)        // NOLINT(google-explicit-constructor)
      : ModuleHolder(std::move(impl)) {}
  explicit Classifier(const ClassifierConfig& config);
};

}  // namespace bp
