#pragma once
// A labelled image fixture the classifier tests train on: an IDX split ("<split>-images-idx3-ubyte"
// and "<split>-labels-idx1-ubyte", as Fashion-MNIST) of three classes, side x side pixels.
// Class 0: horizontal stripes, 1: vertical, 2: diagonal; random phase and pixel noise. Stripes
// survive crops and flips, so augmentation keeps the classes apart and a small ResNet learns them in
// an epoch or two.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <random>
#include <string>

#include <nlohmann/json.hpp>

#include "test_support.h"

namespace bp::test {

inline std::string bigEndian32(std::uint32_t value) {
  return {static_cast<char>(value >> 24), static_cast<char>((value >> 16) & 0xFF),
          static_cast<char>((value >> 8) & 0xFF), static_cast<char>(value & 0xFF)};
}

inline void writeStripedIdxSplit(const std::filesystem::path& folder, const std::string& split, int count,
                                 unsigned seed, int side = 12) {
  std::mt19937 random(seed);
  std::uniform_int_distribution<int> phase(0, 3);
  std::uniform_int_distribution<int> noise(-40, 40);
  const auto sideBytes = static_cast<std::uint32_t>(side);
  std::string images =
      bigEndian32(0x803) + bigEndian32(static_cast<std::uint32_t>(count)) + bigEndian32(sideBytes) + bigEndian32(sideBytes);
  std::string labels = bigEndian32(0x801) + bigEndian32(static_cast<std::uint32_t>(count));
  for (int i = 0; i < count; ++i) {
    const int label = i % 3;
    const int offset = phase(random);
    for (int y = 0; y < side; ++y)
      for (int x = 0; x < side; ++x) {
        const int coordinate = label == 0 ? y : label == 1 ? x : x + y;
        const int value = ((coordinate + offset) / 2) % 2 == 0 ? 200 : 55;
        images += static_cast<char>(std::clamp(value + noise(random), 0, 255));
      }
    labels += static_cast<char>(label);
  }
  writeBytes(folder / (split + "-images-idx3-ubyte"), images);
  writeBytes(folder / (split + "-labels-idx1-ubyte"), labels);
}

// The training config every classifier test starts from (the engine's JSON, classifier_trainer.h):
// a width-4 small ResNet on the striped images in `folder`, 3 classes, SGD at 0.05 with a constant
// rate, batch 32, crops padded by 2, no validation split, one epoch, seed 1. Tests change what they
// are about.
inline nlohmann::json stripedTrainingConfig(const std::filesystem::path& folder, const std::string& name = "stripes") {
  return {{"name", name},
          {"data", {{"path", folder.string()}, {"validation_fraction", 0.0}, {"augmentation", {{"crop_padding", 2}}}}},
          {"model",
           {{"architecture", "small_resnet"}, {"width", 4}, {"class_count", 3}, {"image_mean", {0.5}}, {"image_std", {0.25}}}},
          {"optimizer", {{"learning_rate", 0.05}}},
          {"schedule", {{"kind", "constant"}}},
          {"epochs", 1},
          {"batch_size", 32},
          {"seed", 1}};
}

}  // namespace bp::test
