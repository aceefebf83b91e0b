#pragma once
// The input of representational similarity: an images x units feature matrix (neurons, or a
// network layer's flattened activations), with the identity of each row's image.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "data/neural_dataset.h"

namespace bp {

struct FeatureMatrix {
  std::int64_t rows = 0;  // images
  std::int64_t cols = 0;  // units
  std::vector<float> values;            // rows x cols, row-major
  std::vector<std::int64_t> imageIds;   // per row
  std::vector<std::string> labels;      // per row (class name), or empty
  std::string source;                   // what the features are, for provenance ("responses of <dataset>, test tier")

  const float* row(std::int64_t r) const { return values.data() + r * cols; }
  void validate() const;  // throws bp::Error on inconsistent sizes
};

enum class ResponseSource { Responses, NoiseFreeRates };

// Which trials of a neural dataset become rows.
struct FeatureSelection {
  ResponseSource source = ResponseSource::Responses;
  std::optional<Tier> tier;         // restrict to one tier; nullopt = all trials
  bool averageRepeats = true;       // one row per image (mean over its repeats) ...
  std::optional<int> repeatIndex;   // ... or, when set, the repeatIndex-th trial of each image
                                    // (images with fewer repeats are dropped): single-trial features
};

// One unit's value for every row (e.g. a neuron's response to each image), for orderByValues.
// Throws bp::Error when `unit` is out of range.
std::vector<float> unitColumn(const FeatureMatrix& features, std::int64_t unit);

// Rows in order of each image's first trial. Throws bp::Error for an empty selection or when
// noise-free rates are requested from a dataset that has none.
FeatureMatrix featuresFromDataset(const NeuralDataset& dataset, const FeatureSelection& selection = {});

// A features file: a 2-D float .npy (images x units), or an HDF5 file with a 2-D dataset
// "features" and optional "image_ids" and "labels".
FeatureMatrix readFeatureMatrix(const std::filesystem::path& path);

}  // namespace bp
