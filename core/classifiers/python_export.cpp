#include "classifiers/python_export.h"

#include <regex>

#include <nlohmann/json.hpp>

#include "classifiers/resnet.h"
#include "runtime/atomic_file.h"
#include "runtime/error.h"
#include "runtime/torch_archive.h"

namespace bp {

namespace {

// BrainPrior's module path -> torchvision's ("stage2.0.shortcut.1.running_mean" ->
// "layer2.0.downsample.1.running_mean").
std::string torchvisionName(const std::string& name) {
  static const std::vector<std::pair<std::regex, std::string>> renames = {
      {std::regex("^stem\\."), "conv1."},
      {std::regex("^stem_norm\\."), "bn1."},
      {std::regex("^stage(\\d+)\\."), "layer$1."},
      {std::regex("\\.norm1\\."), ".bn1."},
      {std::regex("\\.norm2\\."), ".bn2."},
      {std::regex("\\.shortcut\\."), ".downsample."},
      {std::regex("^head\\."), "fc."}};
  std::string renamed = name;
  for (const auto& [pattern, replacement] : renames) renamed = std::regex_replace(renamed, pattern, replacement);
  return renamed;
}

// Module by module, parameters before buffers, as PyTorch's state_dict orders them; the root's own
// buffers only with `rootBuffers`.
std::vector<std::pair<std::string, torch::Tensor>> stateDict(const torch::nn::Module& module, bool rootBuffers) {
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  for (const auto& item : module.named_modules()) {
    const std::string prefix = item.key().empty() ? "" : item.key() + ".";
    for (const auto& parameter : item.value()->named_parameters(/*recurse=*/false))
      tensors.emplace_back(prefix + parameter.key(), parameter.value());
    if (!item.key().empty() || rootBuffers)
      for (const auto& buffer : item.value()->named_buffers(/*recurse=*/false))
        tensors.emplace_back(prefix + buffer.key(), buffer.value());
  }
  return tensors;
}

// The Python that loads the exported classifier `fileName` of `architecture` with `inputChannels` and
// `classCount` into torchvision and returns its logits for images in [0, 1], as the README shows it.
std::string pythonLoadingCode(const std::string& architecture, int inputChannels, int classCount,
                              const std::string& fileName) {
  const bool torchvision = architecture == "resnet18" || architecture == "resnet34";
  if (!torchvision)
    return "import torch\n"
           "# " + architecture + ": torchvision's ResNet class cannot build it; its tensors follow torchvision's names\n"
           "state = torch.load(\"" + fileName + "\")\n";
  return "import json, torch, torchvision\n"
         "model = torchvision.models." + architecture + "(num_classes=" + std::to_string(classCount) + ")\n"
         "model.conv1 = torch.nn.Conv2d(" + std::to_string(inputChannels) +
         ", 64, 3, 1, 1, bias=False)  # BrainPrior's CIFAR stem\n"
         "model.maxpool = torch.nn.Identity()\n"
         "model.load_state_dict(torch.load(\"" + fileName + "\"))\n"
         "model.eval()\n"
         "norm = json.load(open(\"" + fileName + ".json\"))[\"normalization\"]\n"
         "mean = torch.tensor(norm[\"mean\"]).view(1, -1, 1, 1)\n"
         "std = torch.tensor(norm[\"std\"]).view(1, -1, 1, 1)\n"
         "logits = model((images - mean) / std)  # images: N x C x H x W in [0, 1]\n";
}

}  // namespace

std::vector<std::pair<std::string, torch::Tensor>> torchvisionStateDict(const Classifier& model) {
  resNetConfig(model);  // throws for an imported model
  // Without the root's image_mean and image_std: the normalisation, in the JSON.
  std::vector<std::pair<std::string, torch::Tensor>> tensors = stateDict(*model, /*rootBuffers=*/false);
  for (auto& entry : tensors) entry.first = torchvisionName(entry.first);
  return tensors;
}

void exportNeuralModelForPython(const FittedNeuralModel& fitted, const std::filesystem::path& file) {
  const nlohmann::json description = {{"format", "brainprior neural model for python"},
                                      {"version", 1},
                                      {"model", toJson(fitted.model->config())},
                                      {"normalization", toJson(fitted.normalization)}};
  writePythonStateDict(stateDict(*fitted.model, /*rootBuffers=*/true), file);
  writeFileAtomically(file.string() + ".json", description.dump(2) + "\n");
}

nlohmann::json exportClassifierForPython(const TrainedClassifier& trained, const std::filesystem::path& file) {
  const ClassifierConfig& config = resNetConfig(trained.model);
  const std::string architecture = classifierArchitectureName(config.architecture);
  const bool torchvision = config.architecture != ClassifierArchitecture::SmallResNet;
  const nlohmann::json description = {
      {"format", "brainprior classifier for python"},
      {"version", 1},
      {"architecture", architecture},
      {"model", toJson(config)},
      {"class_names", trained.classNames},
      {"image_shape", trained.imageShape},
      {"normalization", {{"mean", config.imageMean}, {"std", config.imageStd}}},
      {"torchvision", torchvision},
      {"python", pythonLoadingCode(architecture, config.inputChannels, config.classCount, file.filename().string())}};
  writePythonStateDict(torchvisionStateDict(trained.model), file);
  writeFileAtomically(file.string() + ".json", description.dump(2) + "\n");
  return description;
}

}  // namespace bp
