#include "classifiers/classifier_training_data.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "data/dataset_io.h"
#include "runtime/error.h"

namespace bp {

namespace {

// Streams of the data split (seeded by data.split_seed).
constexpr std::uint64_t kTrainSubsetStream = 0x5355425452ULL;
constexpr std::uint64_t kTestSubsetStream = 0x5355425445ULL;
constexpr std::uint64_t kValidationStream = 0x56414C4944ULL;

// Indices 0 .. available - 1, or a sorted random subset of `wanted` of them.
std::vector<std::int64_t> subsetIndices(std::int64_t available, std::int64_t wanted, bool random, std::uint64_t seed,
                                        std::uint64_t stream) {
  std::vector<std::int64_t> indices(static_cast<std::size_t>(available));
  std::iota(indices.begin(), indices.end(), std::int64_t{0});
  if (wanted <= 0 || wanted >= available) return indices;
  if (random) {
    RandomStream draw(seed, stream);
    draw.shuffle(indices);
  }
  indices.resize(static_cast<std::size_t>(wanted));
  std::sort(indices.begin(), indices.end());
  return indices;
}

torch::Tensor imagesTensor(const ImageDataset& dataset, const std::vector<std::int64_t>& indices) {
  torch::Tensor images =
      torch::empty({static_cast<std::int64_t>(indices.size()), dataset.channels, dataset.height, dataset.width});
  float* out = images.data_ptr<float>();
  const std::int64_t size = dataset.imageSize();
  for (std::size_t i = 0; i < indices.size(); ++i)
    std::copy_n(dataset.image(indices[i]), size, out + static_cast<std::int64_t>(i) * size);
  return images;
}

torch::Tensor labelsTensor(const ImageDataset& dataset, const std::vector<std::int64_t>& indices) {
  torch::Tensor labels = torch::empty({static_cast<std::int64_t>(indices.size())}, torch::kLong);
  auto* out = labels.data_ptr<std::int64_t>();
  for (std::size_t i = 0; i < indices.size(); ++i) out[i] = dataset.labels[static_cast<std::size_t>(indices[i])];
  return labels;
}

ImageDataset loadSplit(const ClassifierDataConfig& data, const std::string& path, const std::string& split,
                       std::int64_t maxImages, const Job& job) {
  ImageLoadOptions options;
  options.grayscale = data.grayscale;
  if (data.subset == "first") options.maxImages = maxImages;
  return loadImageDataset(path, options, split, job);
}

}  // namespace

ClassifierTrainingData loadClassifierTrainingData(const ClassifierTrainingConfig& config, std::uint64_t runSeed,
                                                  const Job& job) {
  validate(config);
  const ClassifierDataConfig& data = config.data;
  const bool random = data.subset == "random";
  ClassifierTrainingData result;

  const ImageDataset train = loadSplit(data, data.path, data.trainSplit, data.maxTrainImages, job.subJob(0.0, 0.4));
  std::vector<std::int64_t> trainIndices =
      subsetIndices(train.imageCount(), data.maxTrainImages, random, data.splitSeed, kTrainSubsetStream);
  std::vector<std::int64_t> validationIndices;
  if (data.validationFraction > 0.0) {
    const auto count = static_cast<std::int64_t>(trainIndices.size());
    const std::int64_t held = std::max<std::int64_t>(
        1, static_cast<std::int64_t>(std::llround(data.validationFraction * static_cast<double>(count))));
    if (held >= count)
      throw Error("classifier training: " + std::to_string(count) + " train images are too few to hold out " +
                  std::to_string(held) + " for validation");
    RandomStream draw(data.splitSeed, kValidationStream);
    draw.shuffle(trainIndices);
    validationIndices.assign(trainIndices.begin(), trainIndices.begin() + held);
    trainIndices.erase(trainIndices.begin(), trainIndices.begin() + held);
    std::sort(validationIndices.begin(), validationIndices.end());
    std::sort(trainIndices.begin(), trainIndices.end());
  }
  result.trainImages = imagesTensor(train, trainIndices);
  result.trainLabels = labelsTensor(train, trainIndices);
  result.trainSourceIndices = trainIndices;
  result.validationImages = imagesTensor(train, validationIndices);
  result.validationLabels = labelsTensor(train, validationIndices);
  result.classNames = train.classNames;
  result.trainSource = data.path + " (" + data.trainSplit + ")";
  job.throwIfCancelled();

  {
    const ImageDataset test = loadSplit(data, data.testPath.empty() ? data.path : data.testPath, data.testSplit,
                                        data.maxTestImages, job.subJob(0.4, 0.7));
    if (test.channels != train.channels || test.height != train.height || test.width != train.width)
      throw Error("classifier training: the " + data.testSplit + " images are " + std::to_string(test.channels) + "x" +
                  std::to_string(test.height) + "x" + std::to_string(test.width) + ", the " + data.trainSplit +
                  " images " + std::to_string(train.channels) + "x" + std::to_string(train.height) + "x" +
                  std::to_string(train.width));
    const std::vector<std::int64_t> testIndices =
        subsetIndices(test.imageCount(), data.maxTestImages, random, data.splitSeed, kTestSubsetStream);
    result.testImages = imagesTensor(test, testIndices);
    result.testLabels = labelsTensor(test, testIndices);
  }
  job.throwIfCancelled();

  const RegularizerConfig& regularizer = config.regularizer;
  if (regularizer.kind == RegularizerKind::NeuralSimilarity) {
    result.target =
        loadRegularizationTarget(regularizer.target, data.path, data.grayscale, runSeed, job.subJob(0.7, 1.0));
    if (result.target->images.size(1) != train.channels)
      throw Error("classifier training: the target images have " + std::to_string(result.target->images.size(1)) +
                  " channels, the train images " + std::to_string(train.channels));
  } else if (regularizer.kind == RegularizerKind::Harmonization) {
    const ImportanceMaps all =
        loadImportanceMaps(regularizer.harmonization.importanceMaps, regularizer.harmonization.hdf5Dataset,
                           train.imageCount(), train.height, train.width);
    const torch::Tensor rows = torch::tensor(trainIndices, torch::kLong);
    result.importanceMaps = ImportanceMaps{all.maps.index_select(0, rows), all.present.index_select(0, rows)};
  }
  job.progress(1.0, "loaded " + std::to_string(trainIndices.size()) + " train, " +
                        std::to_string(validationIndices.size()) + " validation and " +
                        std::to_string(result.testImages.size(0)) + " test images");
  return result;
}

void augmentImages(torch::Tensor& images, torch::Tensor& maps, const AugmentationConfig& config, RandomStream& random) {
  if (!config.enabled || (!config.randomCrop && !config.horizontalFlip)) return;
  const std::int64_t batch = images.size(0);
  const std::int64_t height = images.size(2);
  const std::int64_t width = images.size(3);
  const std::int64_t pad = config.randomCrop ? config.cropPadding : 0;
  const torch::Tensor padded = pad > 0 ? torch::constant_pad_nd(images, {pad, pad, pad, pad}) : images;
  const torch::Tensor paddedMaps =
      maps.defined() && pad > 0 ? torch::constant_pad_nd(maps, {pad, pad, pad, pad}) : maps;
  std::vector<torch::Tensor> out;
  std::vector<torch::Tensor> outMaps;
  for (std::int64_t i = 0; i < batch; ++i) {
    std::int64_t top = pad;
    std::int64_t left = pad;
    if (pad > 0) {
      top = static_cast<std::int64_t>(random.below(static_cast<std::uint64_t>(2 * pad + 1)));
      left = static_cast<std::int64_t>(random.below(static_cast<std::uint64_t>(2 * pad + 1)));
    }
    const bool flip = config.horizontalFlip && random.below(2) == 1;
    torch::Tensor image = padded[i].narrow(1, top, height).narrow(2, left, width);
    if (flip) image = image.flip({2});
    out.push_back(image);
    if (maps.defined()) {
      torch::Tensor map = paddedMaps[i].narrow(0, top, height).narrow(1, left, width);
      if (flip) map = map.flip({1});
      outMaps.push_back(map);
    }
  }
  images = torch::stack(out);
  if (maps.defined()) maps = torch::stack(outMaps);
}

}  // namespace bp
