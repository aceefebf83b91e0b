#include "data/default_data.h"

#include <cstdlib>

#include "data/dataset_io.h"
#include "runtime/build_info.h"
#include "runtime/error.h"

namespace bp {

std::filesystem::path defaultImageSourcePath() {
  if (const char* overridden = std::getenv("BRAINPRIOR_FASHION_MNIST")) return overridden;
  return kFashionMnistDir;
}

SyntheticV1Result generateDefaultDataset(const SyntheticV1Config& config, const Job& job) {
  const auto source = defaultImageSourcePath();
  if (!std::filesystem::exists(source))
    throw FileError(source.string(),
                    "the default images are missing: install the Debian package dataset-fashion-mnist "
                    "(packaging/install-deps.sh does)");
  ImageLoadOptions options;
  options.maxImages = config.trainImages + config.validationImages + config.testImages;
  auto images = loadImageDataset(source, options, "train", job.subJob(0.0, 0.3));
  auto result = generateSyntheticV1(images, config, job.subJob(0.3, 1.0));
  result.dataset.name = "synthetic-v1 (Fashion-MNIST)";
  return result;
}

NeuralDataset loadNeuralOrDefault(const std::string& path, const Job& job, const NwbReadOptions& nwb) {
  return path == "default" ? generateDefaultDataset({}, job).dataset : loadNeuralDataset(path, job, nwb);
}

}  // namespace bp
