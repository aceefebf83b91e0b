#include "training/training_checkpoint.h"

#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>
#include <torch/utils.h>

#include "runtime/error.h"
#include "runtime/torch_archive.h"

namespace bp {
namespace {

constexpr int kCheckpointVersion = 1;

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

// The settings where two configs differ, as JSON pointers ("/trainer/learning_rate, /model/channels"),
// at most three and then "...".
std::string differingSettings(const nlohmann::json& stored, const nlohmann::json& wanted) {
  std::string paths;
  int named = 0;
  for (const auto& operation : nlohmann::json::diff(stored, wanted)) {
    if (named == 3) return paths + ", ...";
    paths += (named++ ? ", " : "") + operation.at("path").get<std::string>();
  }
  return paths;
}

nlohmann::json readDescription(torch::serialize::InputArchive& archive, const std::filesystem::path& path,
                               const CheckpointKind& kind) {
  c10::IValue stored;
  archive.read("state", stored);
  nlohmann::json description = nlohmann::json::parse(stored.toStringRef());
  if (!description.is_object() || description.value("format", "") != kind.format)
    throw FileError(path.string(), "not a BrainPrior checkpoint of this kind (its \"format\" is not \"" +
                                       kind.format + "\")");
  if (description.value("version", 0) != kCheckpointVersion)
    throw FileError(path.string(), "a " + kind.format + " of version " +
                                       description.value("version", nlohmann::json()).dump() +
                                       ", which this BrainPrior does not read (it reads version " +
                                       std::to_string(kCheckpointVersion) + ")");
  return description;
}

// Runs `read` and turns LibTorch's and JSON's exceptions into a FileError naming the checkpoint.
template <typename Read>
auto readingCheckpoint(const std::filesystem::path& path, Read&& read) {
  try {
    return read();
  } catch (const c10::Error& error) {
    throw FileError(path.string(), std::string("unreadable checkpoint: ") + error.what_without_backtrace());
  } catch (const nlohmann::json::exception& error) {
    throw FileError(path.string(), std::string("corrupt checkpoint description: ") + error.what());
  }
}

}  // namespace

void writeTrainingCheckpoint(const std::filesystem::path& path, const CheckpointKind& kind,
                             const nlohmann::json& identity, nlohmann::json state,
                             const std::vector<CheckpointModule>& modules, const torch::optim::Optimizer& optimizer,
                             const std::vector<torch::Tensor>& best) {
  state["format"] = kind.format;
  state["version"] = kCheckpointVersion;
  state["identity"] = identity;
  torch::serialize::OutputArchive archive;
  for (const CheckpointModule& part : modules) {
    if (part.module == nullptr) continue;
    torch::serialize::OutputArchive moduleArchive;
    part.module->save(moduleArchive);
    archive.write(part.key, moduleArchive);
  }
  torch::serialize::OutputArchive optimizerArchive;
  optimizer.save(optimizerArchive);
  archive.write("optimizer", optimizerArchive);
  writeTensorList(archive, "best", best);
  archive.write("state", c10::IValue(state.dump()));
  writeArchiveFile(path, archive);
}

nlohmann::json readTrainingCheckpoint(const std::filesystem::path& path, const CheckpointKind& kind,
                                      const nlohmann::json& identity, const std::vector<CheckpointModule>& modules,
                                      torch::optim::Optimizer& optimizer, std::vector<torch::Tensor>& best) {
  return readingCheckpoint(path, [&] {
    torch::Device device(torch::kCPU);
    for (const CheckpointModule& part : modules)
      if (part.module != nullptr && !part.module->parameters().empty()) {
        device = part.module->parameters().front().device();
        break;
      }
    torch::serialize::InputArchive archive;
    readArchiveFile(path, archive, device);
    nlohmann::json description = readDescription(archive, path, kind);
    if (description.at("identity") != identity)
      throw FileError(path.string(), checkpointMismatch(kind, description.at("identity"), identity));
    for (const CheckpointModule& part : modules) {
      if (part.module == nullptr) continue;
      torch::serialize::InputArchive moduleArchive;
      archive.read(part.key, moduleArchive);
      loadModuleChecked(*part.module, moduleArchive, path);
    }
    torch::serialize::InputArchive optimizerArchive;
    archive.read("optimizer", optimizerArchive);
    optimizer.load(optimizerArchive);
    readTensorList(archive, "best", best);
    return description;
  });
}

nlohmann::json readTrainingCheckpointDescription(const std::filesystem::path& path, const CheckpointKind& kind) {
  return readingCheckpoint(path, [&] {
    torch::serialize::InputArchive archive;
    readArchiveFile(path, archive);
    return readDescription(archive, path, kind);
  });
}

std::string checkpointMismatch(const CheckpointKind& kind, const nlohmann::json& stored, const nlohmann::json& wanted) {
  const std::string paths = differingSettings(stored, wanted);
  return "the checkpoint belongs to a different " + kind.runNoun + " (" + paths +
         (paths.find(',') == std::string::npos ? " differs" : " differ") + "; " + kind.resumeRule + "); delete it or " +
         kind.restartHint;
}

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

}  // namespace bp
