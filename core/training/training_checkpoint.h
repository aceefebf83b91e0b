#pragma once
// What the neural-model and classifier trainers' checkpoints share: copies of a module's state to
// restore the best epoch, the archive entry holding such copies, and naming how a checkpoint's
// settings differ from the run that wants to resume from it.
#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>
#include <nlohmann/json_fwd.hpp>

namespace bp {

// Detached copies of every parameter, then every buffer (batch-norm statistics are state too).
std::vector<torch::Tensor> snapshotModule(const torch::nn::Module& module);
// Copies a snapshot of the same module back, in place and without gradient tracking.
void restoreModule(torch::nn::Module& module, const std::vector<torch::Tensor>& state);

// A tensor list as one nested archive entry; reading fills `tensors` (already shaped) in place.
void writeTensorList(torch::serialize::OutputArchive& archive, const std::string& key,
                     const std::vector<torch::Tensor>& tensors);
void readTensorList(torch::serialize::InputArchive& archive, const std::string& key,
                    std::vector<torch::Tensor>& tensors);

// The settings where two configs differ, as JSON pointers ("/trainer/learning_rate, /model/channels"),
// at most three and then "...".
std::string differingSettings(const nlohmann::json& stored, const nlohmann::json& wanted);

}  // namespace bp
