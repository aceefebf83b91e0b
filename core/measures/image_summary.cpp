#include "measures/image_summary.h"

#include <algorithm>

namespace bp {

nlohmann::json describeImageDataset(const ImageDataset& dataset) {
  std::vector<std::int64_t> perClass(dataset.classNames.size(), 0);
  for (const auto label : dataset.labels) ++perClass.at(static_cast<std::size_t>(label));
  nlohmann::json classes = nlohmann::json::object();
  for (std::size_t c = 0; c < perClass.size(); ++c) classes[dataset.classNames[c]] = perClass[c];
  const auto [low, high] = std::minmax_element(dataset.pixels.begin(), dataset.pixels.end());
  return {
      {"kind", "images"},
      {"name", dataset.name},
      {"source", dataset.sourcePath},
      {"images", dataset.imageCount()},
      {"image_shape", {dataset.channels, dataset.height, dataset.width}},
      {"value_range", dataset.pixels.empty() ? nlohmann::json(nullptr) : nlohmann::json({*low, *high})},
      {"classes", dataset.classNames.size()},
      {"images_per_class", classes},
  };
}

}  // namespace bp
