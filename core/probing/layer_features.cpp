#include "probing/layer_features.h"

#include <algorithm>
#include <map>

#include <torch/nn/functional/pooling.h>

#include "classifiers/image_shape.h"
#include "classifiers/scripted_classifier.h"
#include "runtime/error.h"

namespace bp {

torch::Tensor pooledFeatures(const torch::Tensor& tap, int poolSize) {
  namespace F = torch::nn::functional;
  if (tap.dim() == 4 && poolSize > 0) return F::adaptive_avg_pool2d(tap, F::AdaptiveAvgPool2dFuncOptions(poolSize)).flatten(1);
  return tap.flatten(1);
}

LayerFeatures layerFeatures(const TrainedClassifier& trained, const torch::Tensor& images,
                            const std::vector<std::string>& layers, int poolSize, std::int64_t batchSize,
                            const Job& job) {
  Classifier model = trained.model;
  const std::vector<std::size_t> chosen = tapIndices(*model, layers);
  const std::vector<std::string> names = model->tapNames();
  const bool wasTraining = model->is_training();
  model->eval();
  std::vector<std::vector<torch::Tensor>> batches(chosen.size());
  const std::int64_t count = images.size(0);
  {
    torch::NoGradGuard noGrad;
    for (std::int64_t begin = 0; begin < count; begin += batchSize) {
      job.throwIfCancelled();
      const std::int64_t end = std::min(count, begin + batchSize);
      const torch::Tensor batch =
          imagesInShape(images.slice(0, begin, end), trained.imageShape, "layer features").to(model->device());
      const ClassifierOutput output = model->forwardWithTaps(batch);
      for (std::size_t i = 0; i < chosen.size(); ++i)
        batches[i].push_back(pooledFeatures(output.taps[chosen[i]], poolSize).to(torch::kCPU, torch::kDouble));
      job.progress(static_cast<double>(end) / static_cast<double>(count), "layer features");
    }
  }
  model->train(wasTraining);
  LayerFeatures features;
  for (std::size_t i = 0; i < chosen.size(); ++i) {
    features.layers.push_back(names[chosen[i]]);
    features.features.push_back(torch::cat(batches[i], 0));
  }
  return features;
}

namespace {

FeatureMatrix featureMatrixOf(const torch::Tensor& features, std::vector<std::int64_t> imageIds,
                              std::vector<std::string> labels, std::string source) {
  const torch::Tensor values = features.to(torch::kFloat).contiguous();
  FeatureMatrix matrix;
  matrix.rows = values.size(0);
  matrix.cols = values.size(1);
  matrix.values.assign(values.data_ptr<float>(), values.data_ptr<float>() + values.numel());
  matrix.imageIds = std::move(imageIds);
  matrix.labels = std::move(labels);
  matrix.source = std::move(source);
  matrix.validate();
  return matrix;
}

std::string layerSource(const std::string& layer, const std::string& modelName, int poolSize,
                        const std::string& images) {
  return "layer " + layer + " of " + modelName + " (pooled " +
         (poolSize > 0 ? std::to_string(poolSize) + " x " + std::to_string(poolSize) : std::string("none")) + ") on " +
         images;
}

}  // namespace

torch::Tensor datasetImages(const NeuralDataset& dataset, const std::vector<std::int64_t>& trials) {
  const auto [lowest, highest] = std::minmax_element(dataset.images.begin(), dataset.images.end());
  double low = dataset.images.empty() ? 0.0 : *lowest;
  double high = dataset.images.empty() ? 1.0 : *highest;
  if (low >= 0.0 && high <= 1.0) {
    low = 0.0;
    high = 1.0;
  }
  const double span = high > low ? high - low : 1.0;
  torch::Tensor images =
      torch::empty({static_cast<std::int64_t>(trials.size()), dataset.channels, dataset.height, dataset.width});
  for (std::size_t i = 0; i < trials.size(); ++i)
    images[static_cast<std::int64_t>(i)].copy_(
        (torch::from_blob(const_cast<float*>(dataset.image(trials[i])), {dataset.channels, dataset.height, dataset.width},
                          torch::kFloat) -
         low) /
        span);
  return images;
}

FeatureMatrix layerFeatureMatrix(const TrainedClassifier& trained, const std::string& modelName,
                                 const NeuralDataset& dataset, const FeatureSelection& selection,
                                 const std::string& layer, int poolSize, std::int64_t batchSize, const Job& job) {
  FeatureMatrix neural = featuresFromDataset(dataset, selection);
  std::map<std::int64_t, std::int64_t> firstTrial;
  for (std::int64_t trial = 0; trial < dataset.trialCount(); ++trial)
    firstTrial.emplace(dataset.imageIds[static_cast<std::size_t>(trial)], trial);
  std::vector<std::int64_t> trials;
  for (const std::int64_t id : neural.imageIds) trials.push_back(firstTrial.at(id));
  const LayerFeatures features =
      layerFeatures(trained, datasetImages(dataset, trials), {layer}, poolSize, batchSize, job);
  return featureMatrixOf(features.features.front(), std::move(neural.imageIds), std::move(neural.labels),
                         layerSource(layer, modelName, poolSize, "the images of " + neural.source));
}

FeatureMatrix layerFeatureMatrix(const TrainedClassifier& trained, const std::string& modelName,
                                 const ImageDataset& images, const std::string& layer, int poolSize,
                                 std::int64_t batchSize, const Job& job) {
  const std::int64_t count = images.imageCount();
  const torch::Tensor pixels =
      torch::from_blob(const_cast<float*>(images.pixels.data()), {count, images.channels, images.height, images.width},
                       torch::kFloat);
  const LayerFeatures features = layerFeatures(trained, pixels, {layer}, poolSize, batchSize, job);
  std::vector<std::int64_t> ids(static_cast<std::size_t>(count));
  std::vector<std::string> labels;
  for (std::int64_t i = 0; i < count; ++i) {
    ids[static_cast<std::size_t>(i)] = i;
    const std::int32_t label = images.labels[static_cast<std::size_t>(i)];
    labels.push_back(label >= 0 && label < static_cast<std::int32_t>(images.classNames.size())
                         ? images.classNames[static_cast<std::size_t>(label)]
                         : std::to_string(label));
  }
  return featureMatrixOf(features.features.front(), std::move(ids), std::move(labels),
                         layerSource(layer, modelName, poolSize, images.sourcePath));
}

}  // namespace bp
