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
  const torch::Tensor values = features.features.front().to(torch::kFloat).contiguous();
  FeatureMatrix matrix;
  matrix.rows = values.size(0);
  matrix.cols = values.size(1);
  matrix.values.assign(values.data_ptr<float>(), values.data_ptr<float>() + values.numel());
  matrix.imageIds = std::move(neural.imageIds);
  matrix.labels = std::move(neural.labels);
  matrix.source = "layer " + layer + " of " + modelName + " (pooled " +
                  (poolSize > 0 ? std::to_string(poolSize) + " x " + std::to_string(poolSize) : std::string("none")) +
                  ") on the images of " + neural.source;
  matrix.validate();
  return matrix;
}

}  // namespace bp
