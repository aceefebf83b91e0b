#include "distributed/synchronized_batch_norm.h"

#include "distributed/data_parallel_group.h"

namespace bp {

torch::Tensor batchNorm(torch::nn::BatchNorm2dImpl& norm, const torch::Tensor& input) {
  DataParallelGroup* group = batchNormDataParallelGroup();
  if (group == nullptr || !norm.is_training()) return norm.forward(input);
  const std::int64_t channels = input.size(1);
  const std::vector<std::int64_t> reduced{0, 2, 3};
  const double localCount = channels > 0 ? static_cast<double>(input.numel() / channels) : 0.0;
  // One exchange forward (and one backward): the sums of x and x^2 and the count together. Summed
  // in double precision, so that E[x^2] - E[x]^2 loses no digits a float two-pass variance keeps.
  const torch::Tensor sums = allReduceSumWithGrad(
      *group, torch::cat({input.sum(reduced, /*keepdim=*/false, torch::kDouble),
                          input.pow(2).sum(reduced, /*keepdim=*/false, torch::kDouble),
                          torch::full({1}, localCount, input.options().dtype(torch::kDouble))}));
  const torch::Tensor count = sums.narrow(0, 2 * channels, 1).detach();
  const torch::Tensor wideMean = sums.narrow(0, 0, channels) / count;
  const torch::Tensor mean = wideMean.to(input.scalar_type());
  const torch::Tensor variance =
      (sums.narrow(0, channels, channels) / count - wideMean.pow(2)).clamp_min(0.0).to(input.scalar_type());
  const torch::Tensor centred = input - mean.view({1, -1, 1, 1});
  torch::Tensor output = centred * torch::rsqrt(variance + norm.options.eps()).view({1, -1, 1, 1});
  if (norm.options.affine()) output = output * norm.weight.view({1, -1, 1, 1}) + norm.bias.view({1, -1, 1, 1});
  if (norm.options.track_running_stats()) {
    torch::NoGradGuard noGrad;
    norm.num_batches_tracked.add_(1);
    // PyTorch's rule: a fixed momentum, or without one the cumulative average.
    const double momentum = norm.options.momentum().has_value()
                                ? *norm.options.momentum()
                                : 1.0 / static_cast<double>(norm.num_batches_tracked.item<std::int64_t>());
    const double total = count.item<double>();
    const double unbiased = total > 1.0 ? total / (total - 1.0) : 1.0;
    norm.running_mean.mul_(1.0 - momentum).add_(mean.detach(), momentum);
    norm.running_var.mul_(1.0 - momentum).add_(variance.detach() * unbiased, momentum);
  }
  return output;
}

}  // namespace bp
