#include "training/training_checkpoint.h"

#include <torch/utils.h>
#include <nlohmann/json.hpp>

namespace bp {

std::vector<torch::Tensor> snapshotModule(const torch::nn::Module& module) {
  std::vector<torch::Tensor> state;
  for (const auto& parameter : module.parameters()) state.push_back(parameter.detach().clone());
  for (const auto& buffer : module.buffers()) state.push_back(buffer.detach().clone());
  return state;
}

void restoreModule(torch::nn::Module& module, const std::vector<torch::Tensor>& state) {
  torch::NoGradGuard noGrad;
  std::size_t index = 0;
  for (auto& parameter : module.parameters()) parameter.copy_(state[index++]);
  for (auto& buffer : module.buffers()) buffer.copy_(state[index++]);
}

void writeTensorList(torch::serialize::OutputArchive& archive, const std::string& key,
                     const std::vector<torch::Tensor>& tensors) {
  torch::serialize::OutputArchive list;
  for (std::size_t i = 0; i < tensors.size(); ++i) list.write(std::to_string(i), tensors[i], true);
  archive.write(key, list);
}

void readTensorList(torch::serialize::InputArchive& archive, const std::string& key,
                    std::vector<torch::Tensor>& tensors) {
  torch::serialize::InputArchive list;
  archive.read(key, list);
  for (std::size_t i = 0; i < tensors.size(); ++i) list.read(std::to_string(i), tensors[i], true);
}

std::string differingSettings(const nlohmann::json& stored, const nlohmann::json& wanted) {
  std::string paths;
  int named = 0;
  for (const auto& operation : nlohmann::json::diff(stored, wanted)) {
    if (named == 3) return paths + ", ...";
    paths += (named++ ? ", " : "") + operation.at("path").get<std::string>();
  }
  return paths;
}

}  // namespace bp
