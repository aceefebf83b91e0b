#pragma once
// Batch norm over the whole data-parallel batch. Each rank holds a share of a step's images; with
// statistics of its share alone, the ranks would train a different model from one process with the
// whole batch, and differently for each world size. In training, inside a DataParallelScope, the
// mean and variance are summed over the ranks (one small all-reduce forward, one backward), so a
// run gives the same weights whatever the number of workers; elsewhere (or with per-worker batch
// norm, ClassifierTrainingConfig::batchNorm) it is norm.forward.
#include <torch/nn/modules/batchnorm.h>
#include <torch/types.h>

namespace bp {

torch::Tensor batchNorm(torch::nn::BatchNorm2dImpl& norm, const torch::Tensor& input);

}  // namespace bp
