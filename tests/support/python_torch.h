#pragma once
// What tests that compare BrainPrior with Python PyTorch share: finding a Python with torch and
// torchvision (such tests skip, saying why, without one), tensors through .npy files both ways, and
// the difference measure they hold to 1e-5.
// LibTorch comes before Qt: Qt's `slots` macro would break LibTorch headers that use the word.
#include <torch/types.h>

#include <QProcess>
#include <QString>
#include <QStringList>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <vector>

#include "data/npy.h"

namespace bp::test {

// BRAINPRIOR_PYTHON, else python3 on the PATH, else Debian's /usr/bin/python3: the first that
// imports torch and torchvision.
inline std::optional<QString> pythonWithTorchvision() {
  QStringList candidates = {"python3", "/usr/bin/python3"};
  const QString chosen = qEnvironmentVariable("BRAINPRIOR_PYTHON");
  if (!chosen.isEmpty()) candidates = {chosen};
  for (const QString& python : candidates) {
    QProcess process;
    process.start(python, {"-c", "import torch, torchvision"});
    if (process.waitForFinished(120000) && process.exitStatus() == QProcess::NormalExit && process.exitCode() == 0)
      return python;
  }
  return std::nullopt;
}

inline const char* kNoPythonWithTorchvision =
    "no Python with torch and torchvision (Debian: python3-torchvision; or set BRAINPRIOR_PYTHON)";

inline torch::Tensor readNpyTensor(const std::filesystem::path& file) {
  const NpyArray array = readNpy(file);
  return torch::tensor(array.toFloat()).view(array.shape);
}

inline void writeNpyTensor(const std::filesystem::path& file, const torch::Tensor& tensor) {
  const torch::Tensor values = tensor.detach().to(torch::kCPU, torch::kFloat).contiguous();
  writeNpy(file, makeNpy(std::vector<float>(values.data_ptr<float>(), values.data_ptr<float>() + values.numel()),
                         values.sizes().vec()));
}

// The largest absolute difference, relative to the reference's largest magnitude (at least 1).
inline double relativeDifference(const torch::Tensor& value, const torch::Tensor& reference) {
  return (value - reference).abs().max().item<double>() / std::max(1.0, reference.abs().max().item<double>());
}

}  // namespace bp::test
