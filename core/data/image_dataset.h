#pragma once
// A labelled image collection (Fashion-MNIST, CIFAR, a folder of class subfolders).
#include <cstdint>
#include <string>
#include <vector>

namespace bp {

struct ImageDataset {
  std::string name;
  std::string sourcePath;
  int channels = 0;
  int height = 0;
  int width = 0;
  std::vector<float> pixels;            // images x channels x height x width
  std::vector<std::int32_t> labels;     // per image, index into classNames
  std::vector<std::string> classNames;

  std::int64_t imageCount() const { return static_cast<std::int64_t>(labels.size()); }
  std::int64_t imageSize() const { return static_cast<std::int64_t>(channels) * height * width; }
  const float* image(std::int64_t index) const { return pixels.data() + index * imageSize(); }

  // Throws bp::Error describing the first inconsistency.
  void validate() const;
};

// How readers convert images. Pixel values are mapped linearly from the source's natural range
// (0..255 for 8-bit files) onto [rangeMin, rangeMax].
struct ImageLoadOptions {
  bool grayscale = false;     // convert colour to one luminance channel (ITU-R BT.601 weights)
  int resizeHeight = 0;       // 0 = keep
  int resizeWidth = 0;        // 0 = keep
  float rangeMin = 0.0f;
  float rangeMax = 1.0f;
  std::int64_t maxImages = 0;  // 0 = all; otherwise the first maxImages in file order
};

}  // namespace bp
