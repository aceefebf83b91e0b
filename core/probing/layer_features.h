#pragma once
// A classifier's layers as feature matrices (images x units), the one way neural predictivity and
// layer similarity read them: images brought to the model's input shape (image_shape.h), one forward
// pass per batch without gradients in evaluation mode, and each chosen layer's output pooled:
// a 4-D map adaptive-average-pooled to poolSize x poolSize and flattened (channels x poolSize^2
// units: 2,048 for a 512-channel stage at 2 x 2), so that early, wide layers stay cheap while keeping
// coarse spatial layout (poolSize 0: the whole map, unpooled); a batch x units output kept as it is.
#include <cstdint>
#include <string>
#include <vector>

#include <torch/types.h>

#include "classifiers/trained_classifier.h"
#include "data/image_dataset.h"
#include "data/neural_dataset.h"
#include "rsa/features.h"
#include "runtime/job.h"

namespace bp {

// One tap's output (batch x ...) as batch x units, pooled as above.
torch::Tensor pooledFeatures(const torch::Tensor& tap, int poolSize);

struct LayerFeatures {
  std::vector<std::string> layers;
  std::vector<torch::Tensor> features;  // per layer: images x units, double, on the CPU
};

// The chosen `layers` (empty: every tap, in tapNames() order) of `trained` over `images` (N x C x H x
// W in [0, 1], any size and 1 or 3 channels). bp::Error naming an absent layer; CancelledError.
LayerFeatures layerFeatures(const TrainedClassifier& trained, const torch::Tensor& images,
                            const std::vector<std::string>& layers, int poolSize, std::int64_t batchSize,
                            const Job& job = {});

// The images shown in `trials` of `dataset` (trials x channels x height x width), the pixels mapped
// linearly from the dataset's value range to [0, 1] (kept as they are when already inside [0, 1], so
// that a dataset of dark images is not brightened).
torch::Tensor datasetImages(const NeuralDataset& dataset, const std::vector<std::int64_t>& trials);

// `layer` of `trained` over the images of the rows that featuresFromDataset(dataset, selection)
// makes, in the same order and with the same image ids, so that the layer's similarity matrix
// compares cell by cell with the neural one. `modelName` goes into the matrix's source.
FeatureMatrix layerFeatureMatrix(const TrainedClassifier& trained, const std::string& modelName,
                                 const NeuralDataset& dataset, const FeatureSelection& selection,
                                 const std::string& layer, int poolSize, std::int64_t batchSize, const Job& job = {});

// `layer` of `trained` over every image of `images` (pixels in [0, 1]), one row per image in order:
// image ids are the images' indices, labels their class names.
FeatureMatrix layerFeatureMatrix(const TrainedClassifier& trained, const std::string& modelName,
                                 const ImageDataset& images, const std::string& layer, int poolSize,
                                 std::int64_t batchSize, const Job& job = {});

}  // namespace bp
