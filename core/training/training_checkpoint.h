#pragma once
// The one checkpoint codec of the neural-model and classifier trainers. A checkpoint is one LibTorch
// archive, written atomically after every epoch:
//   "state"      a JSON description: {"format", "version", "identity", ...the trainer's own state}
//   "<module>"   each named module's parameters and buffers (a regularizer may be absent)
//   "optimizer"  the optimizer's state (momenta, step counts)
//   "best"       the best epoch's weights, as a tensor list (empty when the run keeps its last)
// The identity is what must match for a resumed run to continue this one; a checkpoint of another
// kind, of another run, or cut short is refused with a FileError naming the file and the reason.
// Also here: copies of a module's state to restore the best epoch.
#include <filesystem>
#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>
#include <nlohmann/json.hpp>

namespace bp {

// Which trainer a checkpoint belongs to, and how its refusals read.
struct CheckpointKind {
  std::string format;      // the description's "format": "brainprior neural fit checkpoint"
  std::string runNoun;     // "the checkpoint belongs to a different <fit>"
  std::string resumeRule;  // "only max_epochs and max_seconds may change"
  std::string restartHint;  // "delete it or <fit without resuming>"
};

// A module stored under `key`; a null module is skipped (e.g. a run without a regularizer).
struct CheckpointModule {
  std::string key;
  torch::nn::Module* module = nullptr;
};

// Writes the checkpoint atomically. `state` holds the trainer's own fields; format, version and
// identity are added here. Failures (a full disk included) are FileError naming `path`; the
// temporary file is removed and an older checkpoint at `path` stays intact. The archive is built in
// memory first, so writing needs about one checkpoint's size of memory besides the model.
void writeTrainingCheckpoint(const std::filesystem::path& path, const CheckpointKind& kind,
                             const nlohmann::json& identity, nlohmann::json state,
                             const std::vector<CheckpointModule>& modules, const torch::optim::Optimizer& optimizer,
                             const std::vector<torch::Tensor>& best);

// Loads the checkpoint into `modules`, `optimizer` and `best` (already shaped, on the device the
// first module lives on) after checking its kind and that its identity equals `identity`. Returns
// the description, whose trainer fields the caller reads.
nlohmann::json readTrainingCheckpoint(const std::filesystem::path& path, const CheckpointKind& kind,
                                      const nlohmann::json& identity, const std::vector<CheckpointModule>& modules,
                                      torch::optim::Optimizer& optimizer, std::vector<torch::Tensor>& best);

// The description alone (kind checked, no weights loaded): for a run's epoch and curve.
nlohmann::json readTrainingCheckpointDescription(const std::filesystem::path& path, const CheckpointKind& kind);

// The FileError text for a checkpoint whose identity differs from the wanted one: "the checkpoint
// belongs to a different run (/config/regularizer/alpha differs; only ...); delete it or ...".
std::string checkpointMismatch(const CheckpointKind& kind, const nlohmann::json& stored, const nlohmann::json& wanted);

// Detached copies of every parameter, then every buffer (batch-norm statistics are state too).
std::vector<torch::Tensor> snapshotModule(const torch::nn::Module& module);
// Copies a snapshot of the same module back, in place and without gradient tracking.
void restoreModule(torch::nn::Module& module, const std::vector<torch::Tensor>& state);

}  // namespace bp
