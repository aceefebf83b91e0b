#pragma once
// Images brought to the shape a classifier takes: grey repeated to three channels or colour turned
// to luminance (ITU-R BT.601), and the size changed by bilinear interpolation (align_corners false,
// as torchvision's Resize on tensors). Differentiable, so attacks through it stay in image units.
#include <cstdint>
#include <string>
#include <vector>

#include <torch/types.h>

namespace bp {

// `images` (batch x channels x height x width) in `shape` (channels, height, width). bp::Error naming
// `who` for channel counts that neither rule converts (e.g. 2 to 3).
torch::Tensor imagesInShape(const torch::Tensor& images, const std::vector<std::int64_t>& shape,
                            const std::string& who);

}  // namespace bp
