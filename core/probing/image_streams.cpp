#include "probing/image_streams.h"

#include <algorithm>
#include <numeric>

#include "runtime/random.h"

namespace bp {

std::uint64_t imageStream(std::uint64_t purpose, std::int64_t imageIndex) {
  return splitMix64(purpose) ^ static_cast<std::uint64_t>(imageIndex);
}

torch::Tensor imageNoise(ImageNoise distribution, const std::vector<std::int64_t>& imageIndices,
                         const std::vector<std::int64_t>& shape, std::uint64_t seed, std::uint64_t purpose) {
  const auto count = static_cast<std::int64_t>(imageIndices.size());
  std::vector<std::int64_t> fullShape = {count};
  fullShape.insert(fullShape.end(), shape.begin(), shape.end());
  torch::Tensor noise = torch::empty(fullShape, torch::kFloat);
  const std::int64_t perImage = count > 0 ? noise.numel() / count : 0;
  float* values = noise.data_ptr<float>();
  for (std::int64_t image = 0; image < count; ++image) {
    RandomStream random(seed, imageStream(purpose, imageIndices[static_cast<std::size_t>(image)]));
    float* imageValues = values + image * perImage;
    for (std::int64_t k = 0; k < perImage; ++k)
      imageValues[k] = static_cast<float>(distribution == ImageNoise::Normal ? random.normal() : random.uniform());
  }
  return noise;
}

std::vector<std::int64_t> indexRange(std::int64_t first, std::int64_t count) {
  std::vector<std::int64_t> indices(static_cast<std::size_t>(std::max<std::int64_t>(count, 0)));
  std::iota(indices.begin(), indices.end(), first);
  return indices;
}

}  // namespace bp
