#include "classifiers/scripted_classifier.h"

#include <torch/script.h>
#include <torch/version.h>
#include <algorithm>
#include <regex>
#include <system_error>
#include <utility>

#include "classifiers/image_shape.h"
#include "classifiers/run_folder.h"
#include "runtime/error.h"

namespace bp {

namespace fs = std::filesystem;

namespace {

// The line of LibTorch's message that says what failed: the first, without its C++ stack, or for an
// error inside the TorchScript interpreter (its message begins with a traceback of the model's code)
// the last, which holds the Python exception ("RuntimeError: mat1 and mat2 shapes ...").
std::string essentialLine(const std::string& message) {
  std::string line = message.substr(0, message.find('\n'));
  if (message.find("failed in the TorchScript interpreter") != std::string::npos) {
    const std::size_t end = message.find_last_not_of("\n ");
    const std::size_t begin = message.rfind('\n', end);
    line = message.substr(begin == std::string::npos ? 0 : begin + 1, end == std::string::npos ? 0 : end - begin);
  }
  return line.size() > 300 ? line.substr(0, 300) + "..." : line;
}

bool outOfMemory(const std::string& message) {
  return message.find("out of memory") != std::string::npos ||
         message.find("can't allocate memory") != std::string::npos;
}

// What went wrong in `action` on the model in `file`, in words a user can act on.
FileError modelFailure(const fs::path& file, const std::string& action, const std::string& message,
                       const torch::Device& device) {
  if (outOfMemory(message))
    return FileError(file.string(), action + ": the model does not fit in the " + device.str() +
                                        " memory (" + essentialLine(message) +
                                        "); use a smaller batch size, a smaller input size or another device");
  return FileError(file.string(), action + " failed: " + essentialLine(message));
}

// Why torch::jit::load refused the file, in words a user can act on.
FileError loadFailure(const fs::path& file, const std::string& message) {
  static const std::regex newerFile("version (\\d+), but the maximum supported version for reading is (\\d+)");
  std::smatch match;
  const std::string libtorch = std::string("LibTorch ") + TORCH_VERSION;
  if (std::regex_search(message, match, newerFile))
    return FileError(file.string(), "saved by a newer PyTorch than this BrainPrior's " + libtorch +
                                        " reads (file format version " + match[1].str() + "; it reads up to " +
                                        match[2].str() +
                                        "): save it again with PyTorch " + TORCH_VERSION +
                                        " (torch.jit.save), or build BrainPrior against the PyTorch that saved it");
  if (message.find("Unknown builtin op") != std::string::npos || message.find("Unknown type name") != std::string::npos)
    return FileError(file.string(), "uses operators that this BrainPrior's " + libtorch +
                                        " does not have (was it saved by a newer PyTorch?): " + essentialLine(message));
  if (message.find("PytorchStreamReader") != std::string::npos || message.find("constants.pkl") != std::string::npos ||
      message.find("file not found") != std::string::npos)
    return FileError(file.string(), "not a TorchScript model (save one from Python with torch.jit.trace or "
                                    "torch.jit.script and then .save): " + essentialLine(message));
  if (outOfMemory(message)) return modelFailure(file, "loading", message, torch::kCPU);
  return FileError(file.string(), "not a readable TorchScript model: " + essentialLine(message));
}

FileError noLogits(const fs::path& file) {
  return FileError(file.string(), "returns no logits (its dictionary has no \"logits\" entry), so it cannot "
                                  "classify; its layers serve similarity and predictivity");
}

class ScriptedClassifierImpl : public ClassifierImpl {
 public:
  ScriptedClassifierImpl(torch::jit::Module module, ScriptedModelInput input, fs::path file)
      : module_(std::move(module)), input_(std::move(input)), file_(std::move(file)) {
    const auto channels = static_cast<std::int64_t>(input_.channels);
    mean_ = torch::tensor(input_.mean).view({1, channels, 1, 1});
    std_ = torch::tensor(input_.std).view({1, channels, 1, 1});
    module_.eval();
    torch::nn::Module::train(false);
    learnOutputs();
  }

  torch::Tensor forward(const torch::Tensor& images) override {
    if (classCount_ == 0) throw noLogits(file_);
    return run(images).logits;
  }
  ClassifierOutput forwardWithTaps(const torch::Tensor& images) override { return run(images); }
  std::vector<std::string> tapNames() const override { return tapNames_; }
  std::vector<std::int64_t> tapChannels() const override { return tapChannels_; }
  int classCount() const override { return classCount_; }
  torch::Device device() const override { return device_; }

  void train(bool on) override {
    torch::nn::Module::train(on);
    module_.train(on);
  }
  void to(torch::Device device, torch::Dtype dtype, bool nonBlocking) override {
    module_.to(device, dtype, nonBlocking);
    moveInputStatistics(device);
  }
  void to(torch::Dtype dtype, bool nonBlocking) override { module_.to(dtype, nonBlocking); }
  void to(torch::Device device, bool nonBlocking) override {
    module_.to(device, nonBlocking);
    moveInputStatistics(device);
  }

 private:
  void moveInputStatistics(torch::Device device) {
    device_ = device;
    mean_ = mean_.to(device);
    std_ = std_.to(device);
  }

  // Images in [0, 1] as the network takes them (see the top of scripted_classifier.h).
  torch::Tensor prepare(const torch::Tensor& images) const {
    if (images.dim() != 4)
      throw Error("imported model: expected images of batch x channels x height x width, got " +
                  std::to_string(images.dim()) + " dimensions");
    const torch::Tensor shaped =
        imagesInShape(images, {input_.channels, input_.height, input_.width}, file_.filename().string());
    const torch::Tensor ranged = shaped * (input_.rangeHigh - input_.rangeLow) + input_.rangeLow;
    return (ranged - mean_) / std_;
  }

  ClassifierOutput run(const torch::Tensor& images) {
    c10::IValue output;
    try {
      output = module_.forward({prepare(images)});
    } catch (const c10::Error& error) {
      throw modelFailure(file_, "running it on a batch of " + std::to_string(images.size(0)) + " images",
                         error.what_without_backtrace(), device_);
    } catch (const Error&) {
      throw;
    } catch (const std::exception& error) {  // the TorchScript interpreter's errors
      throw modelFailure(file_, "running it on a batch of " + std::to_string(images.size(0)) + " images",
                         error.what(), device_);
    }
    return parse(output);
  }

  // The output as logits and taps; FileError for an output of another kind.
  ClassifierOutput parse(const c10::IValue& output) const {
    ClassifierOutput parsed;
    if (output.isTensor()) {
      parsed.logits = output.toTensor();
      if (parsed.logits.dim() != 2)
        throw FileError(file_.string(), "returns a tensor of " + std::to_string(parsed.logits.dim()) +
                                            " dimensions; a model returns logits (batch x classes) or a dictionary "
                                            "of named layer outputs");
      parsed.taps.push_back(parsed.logits);
      return parsed;
    }
    if (!output.isGenericDict())
      throw FileError(file_.string(), "returns a " + output.tagKind() +
                                          "; a model returns logits (batch x classes) or a dictionary of named layer "
                                          "outputs (torchvision's create_feature_extractor)");
    for (const auto& entry : output.toGenericDict()) {
      if (!entry.key().isString() || !entry.value().isTensor())
        throw FileError(file_.string(), "returns a dictionary that is not of names to tensors");
      const torch::Tensor& value = entry.value().toTensor();
      if (value.dim() < 2)
        throw FileError(file_.string(), "its layer \"" + entry.key().toStringRef() + "\" has no batch dimension");
      if (entry.key().toStringRef() == "logits") parsed.logits = value;
      parsed.taps.push_back(value);
    }
    if (parsed.taps.empty()) throw FileError(file_.string(), "returns an empty dictionary");
    if (parsed.logits.defined() && parsed.logits.dim() != 2)
      throw FileError(file_.string(), "its \"logits\" entry is not batch x classes");
    return parsed;
  }

  // One pass over two black images of the declared input: the layers' names and channels, and the
  // output's kind, before any analysis relies on them.
  void learnOutputs() {
    c10::IValue output;
    const std::string size = std::to_string(input_.channels) + " x " + std::to_string(input_.height) + " x " +
                             std::to_string(input_.width);
    try {
      torch::NoGradGuard noGrad;
      output = module_.forward({prepare(torch::zeros({2, input_.channels, input_.height, input_.width}))});
    } catch (const Error&) {
      throw;
    } catch (const std::exception& error) {  // c10::Error and the TorchScript interpreter's errors
      const auto* torchError = dynamic_cast<const c10::Error*>(&error);
      const std::string message = torchError ? torchError->what_without_backtrace() : error.what();
      if (outOfMemory(message)) throw modelFailure(file_, "a first run", message, device_);
      throw FileError(file_.string(), "rejects the declared input of " + size + " (" +
                                          scriptedModelDescriptionPath(file_).filename().string() +
                                          "): " + essentialLine(message));
    }
    const ClassifierOutput parsed = parse(output);
    if (output.isTensor()) {
      tapNames_ = {"logits"};
    } else {
      for (const auto& entry : output.toGenericDict()) tapNames_.push_back(entry.key().toStringRef());
    }
    for (const auto& tap : parsed.taps) tapChannels_.push_back(tap.size(1));
    classCount_ = parsed.logits.defined() ? static_cast<int>(parsed.logits.size(1)) : 0;
  }

  torch::jit::Module module_;
  ScriptedModelInput input_;
  fs::path file_;
  torch::Tensor mean_;
  torch::Tensor std_;
  torch::Device device_ = torch::kCPU;
  std::vector<std::string> tapNames_;
  std::vector<std::int64_t> tapChannels_;
  int classCount_ = 0;
};

}  // namespace

TrainedClassifier loadScriptedClassifier(const fs::path& modelFile) {
  std::error_code ec;
  if (!fs::is_regular_file(modelFile, ec)) throw FileError(modelFile.string(), "not a file");
  return loadScriptedClassifier(modelFile, readScriptedModelDescription(modelFile));
}

void requireLogits(const TrainedClassifier& trained, const fs::path& modelFile) {
  if (trained.model->classCount() == 0) throw noLogits(modelFile);
}

TrainedClassifier loadScriptedClassifier(const fs::path& modelFile, const ScriptedModelDescription& description) {
  torch::jit::Module module;
  try {
    module = torch::jit::load(modelFile.string(), torch::kCPU);
  } catch (const c10::Error& error) {
    throw loadFailure(modelFile, error.what_without_backtrace());
  } catch (const std::exception& error) {
    throw loadFailure(modelFile, error.what());
  }
  TrainedClassifier trained;
  const ScriptedModelInput& input = description.input;
  trained.model = Classifier(std::make_shared<ScriptedClassifierImpl>(std::move(module), input, modelFile));
  trained.classNames = description.classNames;
  trained.imageShape = {input.channels, input.height, input.width};
  const int classes = trained.model->classCount();
  if (!trained.classNames.empty() && classes > 0 && static_cast<int>(trained.classNames.size()) != classes)
    throw FileError(scriptedModelDescriptionPath(modelFile).string(),
                    "names " + std::to_string(trained.classNames.size()) + " classes, but the model has " +
                        std::to_string(classes) + " logits");
  return trained;
}

TrainedClassifier loadAnalysisModel(const fs::path& runFolderOrModelFile) {
  std::error_code ec;
  if (fs::is_directory(runFolderOrModelFile, ec)) return loadRunModel(runFolderOrModelFile);
  return loadScriptedClassifier(runFolderOrModelFile);
}

std::vector<LayerShape> layerShapes(Classifier& model, const std::vector<std::int64_t>& imageShape) {
  torch::NoGradGuard noGrad;
  const bool wasTraining = model->is_training();
  model->eval();
  const ClassifierOutput output =
      model->forwardWithTaps(torch::zeros({1, imageShape[0], imageShape[1], imageShape[2]}, model->device()));
  model->train(wasTraining);
  std::vector<LayerShape> shapes;
  const std::vector<std::string> names = model->tapNames();
  for (std::size_t tap = 0; tap < names.size(); ++tap) {
    const auto sizes = output.taps[tap].sizes();
    shapes.push_back({names[tap], std::vector<std::int64_t>(sizes.begin() + 1, sizes.end())});
  }
  return shapes;
}

std::string layerNames(const std::vector<std::string>& names) {
  std::string list;
  for (const auto& name : names) list += (list.empty() ? "" : ", ") + name;
  return list;
}

std::vector<std::size_t> tapIndices(const ClassifierImpl& model, const std::vector<std::string>& names) {
  const std::vector<std::string> taps = model.tapNames();
  std::vector<std::size_t> indices;
  if (names.empty()) {
    for (std::size_t tap = 0; tap < taps.size(); ++tap) indices.push_back(tap);
    return indices;
  }
  for (const auto& name : names) {
    const auto found = std::find(taps.begin(), taps.end(), name);
    if (found == taps.end()) throw Error("the model has no layer '" + name + "'; its layers: " + layerNames(taps));
    indices.push_back(static_cast<std::size_t>(found - taps.begin()));
  }
  return indices;
}

}  // namespace bp
