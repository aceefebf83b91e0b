#pragma once
// LibTorch archives (models, checkpoints) as files, the one way the engine writes and reads them:
// - written in memory, then through writeFileAtomically, which checks every write (LibTorch's own
//   file writer fails on a full disk inside a destructor, which ends the process);
// - read only from regular files, with LibTorch's errors turned into a FileError naming the file;
// - loaded into a module only when every tensor has the shape the module's config declares and
//   sane values (LibTorch's Module::load replaces a parameter by whatever the archive holds: an
//   empty record then crashes the first forward pass, a damaged one predicts garbage);
// - and for Python, state_dict files that torch.load reads.
#include <torch/nn/module.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace bp {

void writeArchiveFile(const std::filesystem::path& path, torch::serialize::OutputArchive& archive);

void readArchiveFile(const std::filesystem::path& path, torch::serialize::InputArchive& archive,
                     const torch::Device& device = torch::Device(torch::kCPU));

// `module.load(archive)`, then a FileError naming `path` and the tensor when one has another shape
// than before loading, or a value that is not finite or beyond 1e10 in magnitude.
void loadModuleChecked(torch::nn::Module& module, torch::serialize::InputArchive& archive,
                       const std::filesystem::path& path);

// A PyTorch state_dict file: `tensors` (name, tensor) as one dictionary in the order given, moved to
// the CPU, through torch::pickle_save (the format Python's torch.load reads), written atomically.
void writePythonStateDict(const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                          const std::filesystem::path& path);

}  // namespace bp
