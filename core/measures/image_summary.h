#pragma once
// A description of a labelled image collection for `brainprior-cli info` and the GUI.
#include <nlohmann/json.hpp>

#include "data/image_dataset.h"

namespace bp {

// Image count, shape, value range, classes and images per class.
nlohmann::json describeImageDataset(const ImageDataset& dataset);

}  // namespace bp
