#pragma once
// A trained classifier as the probe, the predictivity readouts and the GUI use it: the network, its
// class names and image shape, its file (one LibTorch archive plus a JSON description) and its
// accuracy on labelled images.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <torch/types.h>

#include "classifiers/resnet.h"
#include "runtime/job.h"

namespace bp {

// A classifier with what is needed to use it on new images.
struct TrainedClassifier {
  Classifier model{nullptr};
  std::vector<std::string> classNames;
  std::vector<std::int64_t> imageShape;  // channels, height, width of the images it was trained on
};

// Fraction of `images` (N x C x H x W in [0, 1], any device) that the model classifies as `labels`,
// in evaluation mode without gradients, batch by batch (the job is checked every batch). NaN for
// no images.
double classifierAccuracy(Classifier& model, const torch::Tensor& images, const torch::Tensor& labels,
                          const Job& job = {}, std::int64_t batchSize = 256);

// One LibTorch archive with the weights, the classifier config, the class names and the image
// shape (written atomically), and `<path>.json` with the same description for people and scripts.
void saveClassifierModel(const TrainedClassifier& trained, const std::filesystem::path& path);
// Loads onto the CPU whatever device it was saved from, in evaluation mode. FileError when unreadable.
TrainedClassifier loadClassifierModel(const std::filesystem::path& path);

}  // namespace bp
