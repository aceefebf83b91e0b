#pragma once
// What a classifier run trains and evaluates on: the images of its splits as tensors, the
// validation split held out of the train images, the regularizer's target or importance maps, and
// the per-batch augmentation (random crop and horizontal flip).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <torch/types.h>

#include "classifiers/classifier_training_config.h"
#include "classifiers/regularization_target.h"
#include "runtime/job.h"
#include "runtime/random.h"

namespace bp {

// Everything a run trains and evaluates on, as CPU tensors of images in [0, 1].
struct ClassifierTrainingData {
  torch::Tensor trainImages;  // N x C x H x W
  torch::Tensor trainLabels;  // N, int64
  // Per train image, its index in the train split as loadImageDataset reads it (file order): the
  // index that importance maps are keyed by.
  std::vector<std::int64_t> trainSourceIndices;
  torch::Tensor validationImages;  // may hold 0 images
  torch::Tensor validationLabels;
  torch::Tensor testImages;
  torch::Tensor testLabels;
  std::vector<std::string> classNames;
  std::string trainSource;                       // the dataset's path and split, for the log
  std::optional<RegularizationTarget> target;    // neural_similarity only
  std::optional<ImportanceMaps> importanceMaps;  // harmonization only: one row per train image
};

// Reads the images, draws the subsets and the validation split, and loads the regularizer's target
// or importance maps. `runSeed` seeds what depends on the run (a shuffled target's permutation).
ClassifierTrainingData loadClassifierTrainingData(const ClassifierTrainingConfig& config, std::uint64_t runSeed,
                                                  const Job& job = {});

// Random crop (zero padding) and horizontal flip of each image of a batch (N x C x H x W), drawn
// from `random`; `maps` (N x H x W), when defined, get the same crop and flip as their images.
// Nothing changes when the augmentation is disabled.
void augmentImages(torch::Tensor& images, torch::Tensor& maps, const AugmentationConfig& config, RandomStream& random);

}  // namespace bp
