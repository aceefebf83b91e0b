#include "runtime/torch_archive.h"

#include <torch/serialize.h>
#include <map>
#include <sstream>
#include <vector>

#include "runtime/atomic_file.h"
#include "runtime/error.h"

namespace bp {
namespace {

// Far beyond any weight or statistic a trained model holds, far below what reading damaged bytes
// as floats produces.
constexpr double kLargestSaneValue = 1e10;

std::string tensorShapeText(c10::IntArrayRef sizes) {
  std::string text = "[";
  for (std::size_t i = 0; i < sizes.size(); ++i) text += (i ? ", " : "") + std::to_string(sizes[i]);
  return text + "]";
}

}  // namespace

void writeArchiveFile(const std::filesystem::path& path, torch::serialize::OutputArchive& archive) {
  std::ostringstream bytes;
  try {
    archive.save_to(bytes);
  } catch (const c10::Error& error) {
    throw FileError(path.string(), std::string("cannot serialize: ") + error.what_without_backtrace());
  }
  writeFileAtomically(path, bytes.str());
}

void readArchiveFile(const std::filesystem::path& path, torch::serialize::InputArchive& archive,
                     const torch::Device& device) {
  requireRegularFile(path);
  try {
    archive.load_from(path.string(), device);
  } catch (const c10::Error& error) {
    throw FileError(path.string(), std::string("not a readable LibTorch archive: ") + error.what_without_backtrace());
  }
}

void loadModuleChecked(torch::nn::Module& module, torch::serialize::InputArchive& archive,
                       const std::filesystem::path& path) {
  std::map<std::string, std::vector<std::int64_t>> declared;
  for (const auto& item : module.named_parameters()) declared[item.key()] = item.value().sizes().vec();
  for (const auto& item : module.named_buffers()) declared[item.key()] = item.value().sizes().vec();
  try {
    module.load(archive);
  } catch (const c10::Error& error) {
    throw FileError(path.string(),
                    std::string("weights do not match the model config: ") + error.what_without_backtrace());
  }
  const auto check = [&](const std::string& name, const torch::Tensor& tensor) {
    const auto found = declared.find(name);
    if (found != declared.end() && tensor.sizes().vec() != found->second)
      throw FileError(path.string(), "tensor '" + name + "' has shape " + tensorShapeText(tensor.sizes()) +
                                         " where the model config needs " + tensorShapeText(found->second) +
                                         " (a damaged or edited file)");
    if (!tensor.is_floating_point() || tensor.numel() == 0) return;
    const torch::NoGradGuard noGrad;
    const torch::Tensor values = tensor.detach().to(torch::kDouble);
    if (!torch::isfinite(values).all().item<bool>() || values.abs().max().item<double>() > kLargestSaneValue)
      throw FileError(path.string(), "tensor '" + name + "' holds values that are not finite or beyond 1e10 "
                                     "(a damaged or edited file)");
  };
  for (const auto& item : module.named_parameters()) check(item.key(), item.value());
  for (const auto& item : module.named_buffers()) check(item.key(), item.value());
}

void writePythonStateDict(const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                          const std::filesystem::path& path) {
  c10::Dict<std::string, torch::Tensor> dictionary;
  for (const auto& [name, tensor] : tensors) dictionary.insert(name, tensor.detach().to(torch::kCPU).contiguous());
  std::vector<char> bytes;
  try {
    bytes = torch::pickle_save(dictionary);
  } catch (const c10::Error& error) {
    throw FileError(path.string(), std::string("cannot serialize: ") + error.what_without_backtrace());
  }
  writeFileAtomically(path, std::string(bytes.begin(), bytes.end()));
}

}  // namespace bp
