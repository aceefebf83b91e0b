#include "rsa/features.h"

#include <algorithm>
#include <array>
#include <fstream>
#include <numeric>
#include <unordered_map>

#include "data/hdf5_file.h"
#include "data/npy.h"
#include "runtime/error.h"
#include "runtime/job.h"

namespace bp {

void FeatureMatrix::validate() const {
  const std::string what = source.empty() ? std::string("feature matrix") : "features (" + source + ")";
  if (rows < 0 || cols < 0)
    throw Error(what + ": negative shape " + std::to_string(rows) + " x " + std::to_string(cols));
  if (static_cast<std::int64_t>(values.size()) != rows * cols)
    throw Error(what + ": " + std::to_string(values.size()) + " values do not fill " + std::to_string(rows) +
                " images x " + std::to_string(cols) + " units");
  if (static_cast<std::int64_t>(imageIds.size()) != rows)
    throw Error(what + ": " + std::to_string(imageIds.size()) + " image ids for " + std::to_string(rows) + " images");
  if (!labels.empty() && static_cast<std::int64_t>(labels.size()) != rows)
    throw Error(what + ": " + std::to_string(labels.size()) + " labels for " + std::to_string(rows) + " images");
}

namespace {

// The selected trials of each image, images in order of their first selected trial.
struct ImageTrials {
  std::int64_t imageId;
  std::vector<std::int64_t> trials;
};

std::vector<ImageTrials> groupTrialsByImage(const NeuralDataset& dataset, const std::optional<Tier>& tier) {
  std::vector<ImageTrials> images;
  std::unordered_map<std::int64_t, std::size_t> indexOfImage;
  for (std::int64_t t = 0; t < dataset.trialCount(); ++t) {
    if (tier && dataset.tiers[static_cast<std::size_t>(t)] != *tier) continue;
    const auto id = dataset.imageIds[static_cast<std::size_t>(t)];
    const auto [found, inserted] = indexOfImage.emplace(id, images.size());
    if (inserted) images.push_back({id, {}});
    images[found->second].trials.push_back(t);
  }
  return images;
}

std::string describeSelection(const NeuralDataset& dataset, const FeatureSelection& selection) {
  std::string text = selection.source == ResponseSource::Responses ? "responses" : "noise-free rates";
  text += " of " + (dataset.name.empty() ? std::string("dataset") : dataset.name);
  text += selection.tier ? std::string(", ") + tierName(*selection.tier) + " tier" : std::string(", all tiers");
  if (selection.repeatIndex)
    text += ", repeat " + std::to_string(*selection.repeatIndex) + " of each image (single trials)";
  else if (selection.averageRepeats)
    text += ", mean over repeats";
  else
    text += ", every trial";
  return text;
}

}  // namespace

// Rows: with repeatIndex, the repeatIndex-th selected trial of each image; otherwise with
// averageRepeats one mean row per image; otherwise (neither) one row per selected trial, so an
// image shown k times gives k rows with the same id.
FeatureMatrix featuresFromDataset(const NeuralDataset& dataset, const FeatureSelection& selection) {
  dataset.validate();
  const std::string name = dataset.name.empty() ? std::string("dataset") : "dataset '" + dataset.name + "'";
  if (selection.source == ResponseSource::NoiseFreeRates && !dataset.hasNoiseFreeRates())
    throw Error(name + " has no noise-free rates (only synthetic data has them)");
  if (selection.repeatIndex && *selection.repeatIndex < 0)
    throw Error("repeat index must be 0 or more, got " + std::to_string(*selection.repeatIndex));
  const std::vector<float>& trialValues =
      selection.source == ResponseSource::Responses ? dataset.responses : dataset.noiseFreeRates;
  const auto units = dataset.neuronCount;
  const auto trialRow = [&](std::int64_t trial) { return trialValues.data() + trial * units; };
  const bool hasLabels = !dataset.imageClasses.empty();

  FeatureMatrix features;
  features.cols = units;
  features.source = describeSelection(dataset, selection);
  const auto appendRow = [&](std::int64_t imageId, std::int64_t labelTrial) {
    features.imageIds.push_back(imageId);
    if (hasLabels) features.labels.push_back(dataset.imageClasses[static_cast<std::size_t>(labelTrial)]);
    ++features.rows;
  };

  for (const auto& image : groupTrialsByImage(dataset, selection.tier)) {
    if (selection.repeatIndex) {
      const auto k = static_cast<std::size_t>(*selection.repeatIndex);
      if (k >= image.trials.size()) continue;
      const float* row = trialRow(image.trials[k]);
      features.values.insert(features.values.end(), row, row + units);
      appendRow(image.imageId, image.trials[k]);
    } else if (selection.averageRepeats) {
      // Accumulate in double: some images are shown tens of times.
      std::vector<double> sum(static_cast<std::size_t>(units), 0.0);
      for (const auto t : image.trials) {
        const float* row = trialRow(t);
        for (std::int64_t u = 0; u < units; ++u) sum[static_cast<std::size_t>(u)] += row[u];
      }
      const double count = static_cast<double>(image.trials.size());
      for (const double s : sum) features.values.push_back(static_cast<float>(s / count));
      appendRow(image.imageId, image.trials.front());
    } else {
      for (const auto t : image.trials) {
        const float* row = trialRow(t);
        features.values.insert(features.values.end(), row, row + units);
        appendRow(image.imageId, t);
      }
    }
  }
  if (features.rows == 0)
    throw Error(name + ": no trials selected (" + features.source + ")" +
                (selection.repeatIndex ? "; no image has that many repeats" : ""));
  return features;
}

namespace {

FeatureMatrix readNpyFeatures(const std::filesystem::path& path) {
  const auto array = readNpy(path);
  if (array.shape.size() != 2)
    throw FileError(path.string(), "features must be a 2-D array (images x units), found " +
                                       std::to_string(array.shape.size()) + " dimensions");
  if (array.kind == NpyKind::UnicodeString || array.kind == NpyKind::ByteString)
    throw FileError(path.string(), "features must be numbers, found strings");
  FeatureMatrix features;
  features.rows = array.shape[0];
  features.cols = array.shape[1];
  features.values = array.toFloat();
  features.imageIds.resize(static_cast<std::size_t>(features.rows));
  std::iota(features.imageIds.begin(), features.imageIds.end(), std::int64_t{0});
  return features;
}

FeatureMatrix readUnrehearsedHdf5Features(const std::filesystem::path& path) {
  const auto file = Hdf5File::openForReading(path);
  if (!file.isDataset("features"))
    throw FileError(path.string(), "no 'features' dataset (expected a 2-D images x units array)");
  const auto shape = file.shape("features");
  if (shape.size() != 2)
    throw FileError(path.string(), "'features' must be 2-D (images x units), found shape " + describeShape(shape));
  FeatureMatrix features;
  features.rows = shape[0];
  features.cols = shape[1];
  features.values = file.readDataset<float>("features");
  if (file.exists("image_ids")) {
    features.imageIds = file.readDataset<std::int64_t>("image_ids");
  } else {
    features.imageIds.resize(static_cast<std::size_t>(features.rows));
    std::iota(features.imageIds.begin(), features.imageIds.end(), std::int64_t{0});
  }
  if (file.exists("labels")) features.labels = file.readStrings("labels");
  return features;
}

FeatureMatrix readHdf5Features(const std::filesystem::path& path) {
  return readRehearsed(path, "features", Job{}, [&path](const Job&) { return readUnrehearsedHdf5Features(path); });
}

}  // namespace

FeatureMatrix readFeatureMatrix(const std::filesystem::path& path) {
  // Recognise the format by its signature, not the file name: users rename files.
  std::array<char, 8> signature{};
  {
    std::ifstream in(path, std::ios::binary);
    if (!in)
      throw FileError(path.string(), std::filesystem::exists(path) ? "cannot open the file" : "file does not exist");
    in.read(signature.data(), signature.size());
  }
  const std::string start(signature.data(), signature.size());
  FeatureMatrix features;
  if (start.compare(0, 6, "\x93NUMPY") == 0)
    features = readNpyFeatures(path);
  else if (start == std::string("\x89HDF\r\n\x1a\n", 8))
    features = readHdf5Features(path);
  else
    throw FileError(path.string(),
                    "not a features file: expected a .npy array or an HDF5 file with a 'features' dataset");
  try {
    features.validate();
  } catch (const Error& e) {
    throw FileError(path.string(), e.what());
  }
  features.source = "features from " + path.string();
  return features;
}

std::vector<float> unitColumn(const FeatureMatrix& features, std::int64_t unit) {
  if (unit < 0 || unit >= features.cols)
    throw Error("unit " + std::to_string(unit) + " is out of range: the features have " +
                std::to_string(features.cols) + " units");
  std::vector<float> column(static_cast<std::size_t>(features.rows));
  for (std::int64_t r = 0; r < features.rows; ++r) column[static_cast<std::size_t>(r)] = features.row(r)[unit];
  return column;
}

}  // namespace bp
