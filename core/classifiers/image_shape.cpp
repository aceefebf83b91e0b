#include "classifiers/image_shape.h"

#include <torch/nn/functional/upsampling.h>

#include "runtime/error.h"

namespace bp {

torch::Tensor imagesInShape(const torch::Tensor& images, const std::vector<std::int64_t>& shape,
                            const std::string& who) {
  namespace F = torch::nn::functional;
  torch::Tensor input = images;
  const std::int64_t channels = input.size(1);
  if (channels != shape[0]) {
    if (channels == 1) {
      input = input.expand({input.size(0), shape[0], input.size(2), input.size(3)});
    } else if (channels == 3 && shape[0] == 1) {
      input = (0.299 * input.select(1, 0) + 0.587 * input.select(1, 1) + 0.114 * input.select(1, 2)).unsqueeze(1);
    } else {
      throw Error(who + ": cannot feed " + std::to_string(channels) + "-channel images to a " +
                  std::to_string(shape[0]) + "-channel model");
    }
  }
  if (input.size(2) != shape[1] || input.size(3) != shape[2])
    input = F::interpolate(input, F::InterpolateFuncOptions()
                                      .size(std::vector<std::int64_t>{shape[1], shape[2]})
                                      .mode(torch::kBilinear)
                                      .align_corners(false));
  return input.contiguous();
}

}  // namespace bp
