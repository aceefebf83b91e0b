#pragma once
// The values of a tensor as plain floats on the CPU, row-major: how the sessions hand engine results
// to the panels, which never see a tensor. Included by the session .cpp files only.
#include <vector>

#include <torch/types.h>

namespace bp::app {

inline std::vector<float> tensorValues(const torch::Tensor& tensor) {
  const torch::Tensor flat = tensor.detach().to(torch::kCPU, torch::kFloat).contiguous().view(-1);
  return {flat.data_ptr<float>(), flat.data_ptr<float>() + flat.numel()};
}

}  // namespace bp::app
