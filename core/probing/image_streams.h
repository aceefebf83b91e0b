#pragma once
// Random numbers per image for the corruptions and attacks: image i of a set draws from
// RandomStream(seed, stream(purpose, i)), so its numbers do not depend on the batch it is in, and
// different purposes (a corruption, an attack's random start in restart r) are independent.
#include <cstdint>
#include <vector>

#include <torch/types.h>

namespace bp {

// The stream of image `imageIndex` for `purpose` (any number naming a use, e.g. a corruption kind).
std::uint64_t imageStream(std::uint64_t purpose, std::int64_t imageIndex);

enum class ImageNoise { Normal, Uniform };  // N(0, 1); U[0, 1)

// One image of `shape` (e.g. C x H x W) per entry of `imageIndices`, on the CPU (float): row j holds
// the numbers of image imageIndices[j]'s stream.
torch::Tensor imageNoise(ImageNoise distribution, const std::vector<std::int64_t>& imageIndices,
                         const std::vector<std::int64_t>& shape, std::uint64_t seed, std::uint64_t purpose);
// The indices first, first + 1, ..., first + count - 1.
std::vector<std::int64_t> indexRange(std::int64_t first, std::int64_t count);

}  // namespace bp
