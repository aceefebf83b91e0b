#include "classifiers/regularization_target.h"

#include <ATen/ATen.h>
#include <algorithm>
#include <cmath>
#include <functional>
#include <nlohmann/json.hpp>
#include <numeric>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "classifiers/similarity_regularizer.h"
#include "data/dataset_io.h"
#include "data/hdf5_file.h"
#include "rsa/matrix_file.h"
#include "runtime/config_reader.h"
#include "runtime/error.h"
#include "runtime/number_format.h"
#include "runtime/job.h"

namespace bp {

namespace {

const char* targetSourceName(TargetSource source) {
  return source == TargetSource::Pixel ? "pixel" : "matrix_file";
}

// Rows `indices` of a dataset's images as an n x C x H x W tensor.
torch::Tensor gatherImages(const ImageDataset& images, const std::vector<std::int64_t>& indices) {
  torch::Tensor result =
      torch::empty({static_cast<std::int64_t>(indices.size()), images.channels, images.height, images.width});
  float* out = result.data_ptr<float>();
  const std::int64_t size = images.imageSize();
  for (std::size_t i = 0; i < indices.size(); ++i)
    std::copy_n(images.image(indices[i]), size, out + static_cast<std::int64_t>(i) * size);
  return result;
}

// A map as a float matrix of the requested size (a plain resize: area averaging when shrinking,
// bilinear when growing).
cv::Mat fitMap(const cv::Mat& map, int height, int width) {
  cv::Mat values;
  map.convertTo(values, CV_32F);
  if (values.rows == height && values.cols == width) return values;
  cv::Mat resized;
  const bool shrinking = values.rows * values.cols > height * width;
  cv::resize(values, resized, cv::Size(width, height), 0.0, 0.0, shrinking ? cv::INTER_AREA : cv::INTER_LINEAR);
  return resized;
}

void storeMap(ImportanceMaps& maps, std::int64_t index, const cv::Mat& map, int height, int width,
              const std::string& source) {
  const cv::Mat fitted = fitMap(map, height, width);
  const float* values = fitted.ptr<float>(0);
  for (std::int64_t i = 0; i < static_cast<std::int64_t>(height) * width; ++i)
    if (!std::isfinite(values[i]))
      throw FileError(source, "the map of image " + std::to_string(index) + " is not finite");
  std::copy_n(values, static_cast<std::size_t>(height) * static_cast<std::size_t>(width),
              maps.maps[index].data_ptr<float>());
  maps.present[index] = 1.0f;
}

std::optional<std::int64_t> indexFromStem(const std::string& stem) {
  if (stem.empty() || stem.size() > 15 ||
      !std::all_of(stem.begin(), stem.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  return std::stoll(stem);
}

}  // namespace

nlohmann::json toJson(const RegularizationTargetConfig& config) {
  return {{"source", targetSourceName(config.source)},
          {"matrix_file", config.matrixFile},
          {"images",
           {{"path", config.images.path}, {"split", config.images.split}, {"max_images", config.images.maxImages}}},
          {"shuffled", config.shuffled},
          {"shuffle_seed", config.shuffleSeed},
          {"threshold", config.threshold ? nlohmann::json(*config.threshold) : nlohmann::json()}};
}

RegularizationTargetConfig regularizationTargetConfigFromJson(const nlohmann::json& json) {
  RegularizationTargetConfig config;
  ConfigReader reader(json, "regularization target config");
  std::string source = targetSourceName(config.source);
  reader.read("source", source);
  if (source == "matrix_file") {
    config.source = TargetSource::MatrixFile;
  } else if (source == "pixel") {
    config.source = TargetSource::Pixel;
  } else {
    reader.fail("source", "must be \"matrix_file\" or \"pixel\"");
  }
  reader.read("matrix_file", config.matrixFile);
  if (const nlohmann::json* images = reader.find("images")) {
    ConfigReader imagesReader(*images, "regularization target config: images");
    imagesReader.read("path", config.images.path);
    imagesReader.read("split", config.images.split);
    imagesReader.read("max_images", config.images.maxImages);
    imagesReader.finish();
  }
  reader.read("shuffled", config.shuffled);
  reader.read("shuffle_seed", config.shuffleSeed);
  if (const nlohmann::json* threshold = reader.find("threshold"); threshold && !threshold->is_null()) {
    double value = 0.0;
    reader.read("threshold", value);
    config.threshold = value;
  }
  reader.finish();
  return config;
}

SimilarityMatrix pixelSimilarity(const ImageDataset& images, const Job& job) {
  FeatureMatrix features;
  features.rows = images.imageCount();
  features.cols = images.imageSize();
  features.values = images.pixels;
  features.imageIds.resize(static_cast<std::size_t>(features.rows));
  std::iota(features.imageIds.begin(), features.imageIds.end(), std::int64_t{0});
  features.source = "pixels of " + images.name;
  return computeSimilarity(features, SimilarityConfig{}, job);
}

RegularizationTarget makeRegularizationTarget(const SimilarityMatrix& matrix, const ImageDataset& images,
                                              const RegularizationTargetConfig& config, std::uint64_t runSeed) {
  if (isDissimilarity(matrix.config))
    throw Error("regularization target: the matrix holds dissimilarities (" +
                std::string(similarityMeasureName(matrix.config.measure)) +
                (matrix.config.dissimilarity ? ", 1 - s" : "") + "); the regularizer needs similarities in [-1, 1]");
  if (matrix.size < 2) throw Error("regularization target: the matrix needs at least 2 images");
  if (static_cast<std::int64_t>(matrix.values.size()) != matrix.size * matrix.size ||
      static_cast<std::int64_t>(matrix.imageIds.size()) != matrix.size)
    throw Error("regularization target: the matrix is inconsistent (values or image ids do not match its size)");
  for (const std::int64_t id : matrix.imageIds)
    if (id < 0 || id >= images.imageCount())
      throw Error("regularization target: image id " + std::to_string(id) + " is outside the " +
                  std::to_string(images.imageCount()) + " images of " + images.sourcePath +
                  "; give the target the image dataset (path, split, max_images) the matrix was made from");
  for (const float value : matrix.values)
    if (!std::isfinite(value)) throw Error("regularization target: the matrix holds values that are not finite");

  RegularizationTarget target;
  target.distribution = describeSimilarity(matrix);
  target.imageIndices = matrix.imageIds;
  target.images = gatherImages(images, matrix.imageIds);
  target.similarity = torch::from_blob(const_cast<float*>(matrix.values.data()), {matrix.size, matrix.size},
                                       torch::TensorOptions().dtype(torch::kFloat))
                          .clone();
  target.description = config.source == TargetSource::Pixel
                           ? "pixel similarity of " + std::to_string(matrix.size) + " images of " + images.sourcePath
                           : "matrix file " + config.matrixFile + " (" + std::to_string(matrix.size) + " images of " +
                                 images.sourcePath + ")";
  if (config.shuffled) {
    const std::uint64_t seed = config.shuffleSeed >= 0 ? static_cast<std::uint64_t>(config.shuffleSeed) : runSeed;
    target.similarity = permuteSimilarity(target.similarity, shuffledImageOrder(matrix.size, seed));
    target.description += ", shuffled with seed " + std::to_string(seed);
  }
  if (config.threshold) {
    target.similarity = thresholdSimilarity(target.similarity, *config.threshold);
    target.description += ", thresholded at " + formatCompact(*config.threshold);
  }
  return target;
}

RegularizationTarget loadRegularizationTarget(const RegularizationTargetConfig& config,
                                              const std::string& defaultImagesPath, bool grayscale,
                                              std::uint64_t runSeed, const Job& job) {
  const std::string imagesPath = config.images.path.empty() ? defaultImagesPath : config.images.path;
  if (imagesPath.empty()) throw Error("regularization target: no image dataset given ('images': {'path'})");
  ImageLoadOptions options;
  options.grayscale = grayscale;
  options.maxImages = config.images.maxImages;
  const ImageDataset images = loadImageDataset(imagesPath, options, config.images.split, job.subJob(0.0, 0.5));
  if (config.source == TargetSource::Pixel) {
    if (images.imageCount() > kInMemorySimilarityLimit)
      throw Error("regularization target: a pixel target over " + std::to_string(images.imageCount()) +
                  " images would need " + std::to_string(images.imageCount() * images.imageCount() * 4 / 1000000) +
                  " MB; set 'images': {'max_images'} to at most " + std::to_string(kInMemorySimilarityLimit));
    return makeRegularizationTarget(pixelSimilarity(images, job.subJob(0.5, 1.0)), images, config, runSeed);
  }
  if (config.matrixFile.empty()) throw Error("regularization target: source matrix_file needs 'matrix_file'");
  const SimilarityMatrix matrix = readSimilarityMatrix(config.matrixFile, job.subJob(0.5, 1.0));
  try {
    return makeRegularizationTarget(matrix, images, config, runSeed);
  } catch (const FileError&) {
    throw;
  } catch (const Error& error) {
    throw FileError(config.matrixFile, error.what());
  }
}

namespace {

// Each map of an HDF5 importance-map file whose image index is below `imageCount`, in file order.
void forEachHdf5Map(const std::filesystem::path& source, const std::string& hdf5Dataset, std::int64_t imageCount,
                    const std::function<void(std::int64_t index, const cv::Mat& map)>& use) {
  const std::string name = source.string();
  Hdf5File file = Hdf5File::openForReading(source);
  if (!file.isDataset(hdf5Dataset))
    throw FileError(name, "has no dataset '" + hdf5Dataset + "' (set 'hdf5_dataset' to the maps' dataset)");
  const Hdf5Shape shape = file.shape(hdf5Dataset);
  const bool withChannel = shape.size() == 4 && shape[1] == 1;
  if (shape.size() != 3 && !withChannel)
    throw FileError(name, "'" + hdf5Dataset + "' is " + describeShape(shape) +
                              "; importance maps must be maps x height x width (or maps x 1 x height x width)");
  const std::int64_t rows = shape[0];
  const int mapHeight = static_cast<int>(shape[shape.size() - 2]);
  const int mapWidth = static_cast<int>(shape[shape.size() - 1]);
  std::vector<std::int64_t> ids(static_cast<std::size_t>(rows));
  std::iota(ids.begin(), ids.end(), std::int64_t{0});
  if (file.isDataset("image_ids")) {
    ids = file.readDataset<std::int64_t>("image_ids");
    if (static_cast<std::int64_t>(ids.size()) != rows)
      throw FileError(
          name, "'image_ids' has " + std::to_string(ids.size()) + " entries for " + std::to_string(rows) + " maps");
  }
  std::vector<float> values(static_cast<std::size_t>(mapHeight) * static_cast<std::size_t>(mapWidth));
  for (std::int64_t r = 0; r < rows; ++r) {
    const std::int64_t index = ids[static_cast<std::size_t>(r)];
    if (index < 0 || index >= imageCount) continue;
    file.readRows(hdf5Dataset, r, 1, values.data());
    use(index, cv::Mat(mapHeight, mapWidth, CV_32F, values.data()));
  }
}

}  // namespace

ImportanceMaps loadImportanceMaps(const std::filesystem::path& source, const std::string& hdf5Dataset,
                                  std::int64_t imageCount, int height, int width) {
  if (imageCount < 1 || height < 1 || width < 1) throw Error("importance maps: need a positive image count and size");
  ImportanceMaps maps;
  maps.maps = torch::zeros({imageCount, height, width});
  maps.present = torch::zeros({imageCount});
  const std::string name = source.string();
  std::error_code ec;
  if (std::filesystem::is_directory(source, ec)) {
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(source)) files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
      std::string extension = file.extension().string();
      std::transform(extension.begin(), extension.end(), extension.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (extension != ".png" && extension != ".jpg" && extension != ".jpeg" && extension != ".bmp" &&
          extension != ".pgm" && extension != ".tif" && extension != ".tiff")
        continue;
      const auto index = indexFromStem(file.stem().string());
      if (!index || *index >= imageCount) continue;
      const cv::Mat map = cv::imread(file.string(), cv::IMREAD_GRAYSCALE | cv::IMREAD_ANYDEPTH);
      if (map.empty()) throw FileError(file.string(), "is not a readable image");
      storeMap(maps, *index, map, height, width, file.string());
    }
  } else {
    // Maps from another lab's file: the HDF5 part is rehearsed in a helper process (hdf5_file.h),
    // which stores nothing.
    rehearseReadInHelper(source, "importance maps", Job{}, [&](const Job&) {
      forEachHdf5Map(source, hdf5Dataset, imageCount, [](std::int64_t, const cv::Mat&) {});
    });
    forEachHdf5Map(source, hdf5Dataset, imageCount, [&](std::int64_t index, const cv::Mat& map) {
      storeMap(maps, index, map, height, width, name);
    });
  }
  if (maps.count() == 0)
    throw FileError(name, "holds no importance map for any of the " + std::to_string(imageCount) +
                              " images (maps are keyed by image index, from 0)");
  return maps;
}

}  // namespace bp
