#include "data/static_hdf5.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <limits>

#include "data/hdf5_file.h"
#include "runtime/atomic_file.h"
#include "runtime/error.h"
#include "runtime/log.h"

namespace bp {
namespace {

constexpr const char* nameAttribute = "brainprior_name";
constexpr const char* missingTrialIdsKey = "brainprior/missing_trial_ids";
constexpr const char* statisticsGroup = "statistics";
constexpr const char* allTrialsGroup = "all";
constexpr const char* stimulusFrameGroup = "stimulus_frame";

// Shuffle + gzip level 1 shrinks float images and responses nearly as much as higher levels at a
// fraction of the time.
constexpr int savedGzipLevel = 1;
// Bulk arrays move in blocks of about this size, between which jobs report progress and poll cancel.
constexpr std::int64_t blockBytes = 4 << 20;
// Compressed chunks of about this size stay in HDF5's default 1 MiB chunk cache.
constexpr std::int64_t chunkBytes = 256 << 10;

// The per-neuron integer arrays of the `neurons/` group, by key.
std::vector<std::pair<const char*, std::vector<std::int64_t> NeuronInfo::*>> neuronIntegerKeys() {
  return {{"neurons/unit_ids", &NeuronInfo::unitIds},
          {"neurons/animal_ids", &NeuronInfo::animalIds},
          {"neurons/sessions", &NeuronInfo::sessions},
          {"neurons/scan_idx", &NeuronInfo::scanIdx}};
}

std::vector<std::pair<const char*, std::vector<std::string> NeuronInfo::*>> neuronStringKeys() {
  return {{"neurons/area", &NeuronInfo::area}, {"neurons/layer", &NeuronInfo::layer}};
}

std::vector<std::pair<const char*, std::map<std::string, std::vector<float>> KeyStatistics::*>> statisticsSubsets() {
  return {{allTrialsGroup, &KeyStatistics::all}, {stimulusFrameGroup, &KeyStatistics::stimulusFrame}};
}

// ---- reading ----

class StaticFileReader {
 public:
  explicit StaticFileReader(const std::filesystem::path& file) : file_(file), h5_(Hdf5File::openForReading(file)) {}

  [[noreturn]] void fail(const std::string& problem) const { throw FileError(file_.string(), problem); }

  bool has(const std::string& key) const { return h5_.isDataset(key); }

  Hdf5Shape requiredShape(const std::string& key) const {
    if (!has(key)) fail("missing required dataset '" + key + "'");
    return h5_.shape(key);
  }

  // Fails unless `key` has exactly `expected` shape; `meaning` names the dimensions for the message.
  void requireShape(const std::string& key, const Hdf5Shape& expected, const std::string& meaning) const {
    const auto actual = h5_.shape(key);
    if (actual != expected)
      fail("'" + key + "' has shape " + describeShape(actual) + ", expected " + describeShape(expected) + " " +
           meaning);
  }

  // Reads a float dataset of `rows` rows in blocks, reporting progress and polling cancel between them.
  std::vector<float> readFloatRows(const std::string& key, std::int64_t rows, std::int64_t rowSize,
                                   const Job& job) const {
    std::vector<float> values(static_cast<std::size_t>(rows * rowSize));
    if (values.empty()) return values;
    const auto rowBytes = rowSize * static_cast<std::int64_t>(sizeof(float));
    const auto blockRows = std::max<std::int64_t>(1, blockBytes / rowBytes);
    for (std::int64_t first = 0; first < rows; first += blockRows) {
      job.throwIfCancelled();
      const auto count = std::min(blockRows, rows - first);
      h5_.readRows<float>(key, first, count, values.data() + first * rowSize);
      job.progress(static_cast<double>(first + count) / static_cast<double>(rows), "Reading " + key);
    }
    return values;
  }

  template <class T>
  std::vector<T> readVector(const std::string& key, std::int64_t expectedLength, const std::string& meaning) const {
    requireShape(key, {expectedLength}, meaning);
    return h5_.readDataset<T>(key);
  }

  std::vector<std::string> readStringVector(const std::string& key, std::int64_t expectedLength,
                                            const std::string& meaning) const {
    requireShape(key, {expectedLength}, meaning);
    return h5_.readStrings(key);
  }

  const Hdf5File& h5() const { return h5_; }

 private:
  std::filesystem::path file_;
  Hdf5File h5_;
};

int imageDimension(const StaticFileReader& reader, std::int64_t value, const Hdf5Shape& shape) {
  if (value <= 0 || value > std::numeric_limits<int>::max())
    reader.fail("'images' has shape " + describeShape(shape) + ": every image dimension must be positive");
  return static_cast<int>(value);
}

std::vector<Tier> parseTiers(const StaticFileReader& reader, const std::vector<std::string>& names) {
  std::vector<Tier> tiers;
  tiers.reserve(names.size());
  for (std::size_t trial = 0; trial < names.size(); ++trial) {
    const auto tier = parseTier(names[trial]);
    if (!tier)
      reader.fail("'tiers' entry " + std::to_string(trial) + " is '" + names[trial] +
                  "', expected train, validation or test");
    tiers.push_back(*tier);
  }
  return tiers;
}

std::vector<std::int64_t> countingIds(std::int64_t count) {
  std::vector<std::int64_t> ids(static_cast<std::size_t>(count));
  for (std::int64_t i = 0; i < count; ++i) ids[static_cast<std::size_t>(i)] = i;
  return ids;
}

NeuronInfo readNeurons(const StaticFileReader& reader, std::int64_t neurons) {
  NeuronInfo info;
  const std::string perNeuron = "(one per neuron)";
  for (const auto& [key, field] : neuronIntegerKeys())
    if (reader.has(key)) info.*field = reader.readVector<std::int64_t>(key, neurons, perNeuron);
  for (const auto& [key, field] : neuronStringKeys())
    if (reader.has(key)) info.*field = reader.readStringVector(key, neurons, perNeuron);
  const std::string coordinatesKey = "neurons/cell_motor_coordinates";
  if (reader.has(coordinatesKey)) {
    reader.requireShape(coordinatesKey, {neurons, 3}, "(neurons, xyz)");
    info.cellMotorCoordinates = reader.h5().readDataset<double>(coordinatesKey);
  }
  return info;
}

std::map<std::string, KeyStatistics> readStatistics(const StaticFileReader& reader) {
  std::map<std::string, KeyStatistics> statistics;
  const auto& h5 = reader.h5();
  if (!h5.isGroup(statisticsGroup)) return statistics;
  for (const auto& key : h5.members(statisticsGroup)) {
    const std::string keyGroup = std::string(statisticsGroup) + "/" + key;
    if (!h5.isGroup(keyGroup)) continue;  // neuralpredictors keeps only groups here
    auto& keyStatistics = statistics[key];
    for (const auto& [subset, field] : statisticsSubsets()) {
      const std::string subsetGroup = keyGroup + "/" + subset;
      if (!h5.isGroup(subsetGroup)) continue;
      for (const auto& statistic : h5.members(subsetGroup)) {
        const std::string statisticKey = subsetGroup + "/" + statistic;
        if (h5.isDataset(statisticKey)) (keyStatistics.*field)[statistic] = h5.readDataset<float>(statisticKey);
      }
    }
  }
  return statistics;
}

// ---- writing ----

// Creates a compressed float dataset and fills it in blocks of whole chunks, reporting progress and
// polling cancel between blocks.
void writeFloatRows(Hdf5File& h5, const std::string& key, const Hdf5Shape& shape, const std::vector<float>& values,
                    const Job& job) {
  const std::int64_t rows = shape[0];
  const std::int64_t rowSize = elementCount(Hdf5Shape(shape.begin() + 1, shape.end()));
  const auto rowBytes = std::max<std::int64_t>(1, rowSize * static_cast<std::int64_t>(sizeof(float)));
  const auto chunkRows = std::max<std::int64_t>(1, chunkBytes / rowBytes);
  Hdf5DatasetOptions compressed;
  compressed.gzipLevel = savedGzipLevel;
  compressed.chunkRows = chunkRows;
  h5.createDataset<float>(key, shape, compressed);
  if (rows * rowSize == 0) return;
  const auto blockRows = chunkRows * std::max<std::int64_t>(1, blockBytes / (chunkRows * rowBytes));
  for (std::int64_t first = 0; first < rows; first += blockRows) {
    job.throwIfCancelled();
    const auto count = std::min(blockRows, rows - first);
    h5.writeRows<float>(key, first, count, values.data() + first * rowSize);
    job.progress(static_cast<double>(first + count) / static_cast<double>(rows), "Saving " + key);
  }
}

// What validate() does not check but the reader requires, so a save never makes an unreadable file.
void requireSavable(const NeuralDataset& dataset, const std::filesystem::path& file) {
  const auto fail = [&](const std::string& problem) {
    throw FileError(file.string(), "cannot save an inconsistent dataset: " + problem);
  };
  try {
    dataset.validate();
  } catch (const Error& e) {
    fail(e.what());
  }
  for (const auto& [key, field] : neuronIntegerKeys()) {
    const auto size = static_cast<std::int64_t>((dataset.neurons.*field).size());
    if (size != 0 && size != dataset.neuronCount)
      fail(std::string(key) + " has " + std::to_string(size) + " values, expected " +
           std::to_string(dataset.neuronCount));
  }
  for (const auto& [key, statistics] : dataset.statistics) {
    if (key.empty() || key.find('/') != std::string::npos || key == ".")
      fail("statistics key '" + key + "' cannot name an HDF5 group");
    for (const auto& [subset, field] : statisticsSubsets())
      for (const auto& entry : statistics.*field)
        if (entry.first.empty() || entry.first.find('/') != std::string::npos || entry.first == ".")
          fail("statistic '" + entry.first + "' of '" + key + "' cannot name an HDF5 dataset");
  }
}

void writeContents(const NeuralDataset& dataset, Hdf5File& h5, const Job& job) {
  const std::int64_t trials = dataset.trialCount();
  const std::int64_t neurons = dataset.neuronCount;
  h5.writeStringAttribute("/", nameAttribute, dataset.name);

  writeFloatRows(h5, "images", {trials, dataset.channels, dataset.height, dataset.width}, dataset.images,
                 job.subJob(0.0, 0.5));
  writeFloatRows(h5, "responses", {trials, neurons}, dataset.responses, job.subJob(0.5, 0.75));
  if (dataset.hasNoiseFreeRates())
    writeFloatRows(h5, "noise_free_rates", {trials, neurons}, dataset.noiseFreeRates, job.subJob(0.75, 0.95));
  job.throwIfCancelled();
  if (dataset.hasBehavior()) h5.writeDataset<float>("behavior", dataset.behavior, {trials, 3});
  if (dataset.hasPupilCenter()) h5.writeDataset<float>("pupil_center", dataset.pupilCenter, {trials, 2});

  std::vector<std::string> tierNames;
  tierNames.reserve(dataset.tiers.size());
  for (const auto tier : dataset.tiers) tierNames.emplace_back(tierName(tier));
  h5.writeStrings("tiers", tierNames);
  h5.writeDataset<std::int64_t>("item_info/frame_image_id", dataset.imageIds, {trials});
  h5.writeDataset<std::int64_t>("item_info/trial_idx", dataset.trialIds, {trials});
  if (!dataset.imageClasses.empty()) h5.writeStrings("item_info/frame_image_class", dataset.imageClasses);

  for (const auto& [key, field] : neuronIntegerKeys())
    if (!(dataset.neurons.*field).empty()) h5.writeDataset<std::int64_t>(key, dataset.neurons.*field, {neurons});
  for (const auto& [key, field] : neuronStringKeys())
    if (!(dataset.neurons.*field).empty()) h5.writeStrings(key, dataset.neurons.*field);
  if (!dataset.neurons.cellMotorCoordinates.empty())
    h5.writeDataset<double>("neurons/cell_motor_coordinates", dataset.neurons.cellMotorCoordinates, {neurons, 3});

  for (const auto& [key, statistics] : dataset.statistics) {
    const std::string keyGroup = std::string(statisticsGroup) + "/" + key;
    h5.createGroup(keyGroup);
    for (const auto& [subset, field] : statisticsSubsets())
      for (const auto& [statistic, values] : statistics.*field)
        h5.writeDataset<float>(keyGroup + "/" + subset + "/" + statistic, values,
                               {static_cast<std::int64_t>(values.size())});
  }
  if (!dataset.missingTrialIds.empty())
    h5.writeDataset<std::int64_t>(missingTrialIdsKey, dataset.missingTrialIds,
                                  {static_cast<std::int64_t>(dataset.missingTrialIds.size())});
  job.throwIfCancelled();
}

}  // namespace

bool looksLikeHdf5(const std::filesystem::path& file) {
  static constexpr char signature[8] = {'\x89', 'H', 'D', 'F', '\r', '\n', '\x1a', '\n'};
  std::error_code ec;
  const auto size = std::filesystem::file_size(file, ec);
  if (ec) return false;
  std::ifstream in(file, std::ios::binary);
  // The superblock sits at offset 0 or, after a user block, at 512, 1024, 2048, ...
  for (std::uintmax_t offset = 0; in && offset + sizeof(signature) <= size; offset = offset ? offset * 2 : 512) {
    char bytes[sizeof(signature)];
    if (!in.seekg(static_cast<std::streamoff>(offset)) || !in.read(bytes, sizeof(bytes))) return false;
    if (std::memcmp(bytes, signature, sizeof(signature)) == 0) return true;
  }
  return false;
}

namespace {

NeuralDataset readUnrehearsedStaticHdf5(const std::filesystem::path& file, const Job& job) {
  const StaticFileReader reader(file);
  const auto& h5 = reader.h5();

  // Every shape is checked before the bulk arrays are read, so a bad file fails at once.
  const auto imageShape = reader.requiredShape("images");
  const auto responseShape = reader.requiredShape("responses");
  reader.requiredShape("tiers");
  if (imageShape.size() != 3 && imageShape.size() != 4)
    reader.fail("'images' has shape " + describeShape(imageShape) +
                ", expected (trials, channels, height, width) or (trials, height, width)");
  NeuralDataset dataset;
  dataset.name =
      h5.hasAttribute("/", nameAttribute) ? h5.readStringAttribute("/", nameAttribute) : file.stem().string();
  dataset.sourcePath = file.string();
  const std::int64_t trials = imageShape[0];
  dataset.channels = imageShape.size() == 4 ? imageDimension(reader, imageShape[1], imageShape) : 1;
  dataset.height = imageDimension(reader, imageShape[imageShape.size() - 2], imageShape);
  dataset.width = imageDimension(reader, imageShape.back(), imageShape);
  if (responseShape.size() != 2 || responseShape[0] != trials)
    reader.fail("'responses' has shape " + describeShape(responseShape) + ", expected (" + std::to_string(trials) +
                ", neurons): one row per trial of 'images'");
  const std::int64_t neurons = responseShape[1];
  dataset.neuronCount = neurons;
  const std::string perTrial = "(one per trial)";
  if (reader.has("behavior")) reader.requireShape("behavior", {trials, 3}, "(trials, 3)");
  if (reader.has("pupil_center")) reader.requireShape("pupil_center", {trials, 2}, "(trials, 2)");
  if (reader.has("noise_free_rates")) reader.requireShape("noise_free_rates", responseShape, "(as 'responses')");

  dataset.tiers = parseTiers(reader, reader.readStringVector("tiers", trials, perTrial));
  if (reader.has("item_info/frame_image_id")) {
    dataset.imageIds = reader.readVector<std::int64_t>("item_info/frame_image_id", trials, perTrial);
  } else {
    dataset.imageIds = countingIds(trials);
    logWarning(file.string() +
               ": no item_info/frame_image_id; treating every trial as a distinct image, so no "
               "repeats are available for oracle measures");
  }
  dataset.trialIds = reader.has("item_info/trial_idx")
                         ? reader.readVector<std::int64_t>("item_info/trial_idx", trials, perTrial)
                         : countingIds(trials);
  if (reader.has("item_info/frame_image_class"))
    dataset.imageClasses = reader.readStringVector("item_info/frame_image_class", trials, perTrial);
  dataset.neurons = readNeurons(reader, neurons);
  dataset.statistics = readStatistics(reader);
  if (reader.has(missingTrialIdsKey)) dataset.missingTrialIds = h5.readDataset<std::int64_t>(missingTrialIdsKey);

  dataset.images = reader.readFloatRows("images", trials, dataset.imageSize(), job.subJob(0.0, 0.55));
  dataset.responses = reader.readFloatRows("responses", trials, neurons, job.subJob(0.55, 0.8));
  if (reader.has("noise_free_rates"))
    dataset.noiseFreeRates = reader.readFloatRows("noise_free_rates", trials, neurons, job.subJob(0.8, 0.95));
  job.throwIfCancelled();
  if (reader.has("behavior")) dataset.behavior = h5.readDataset<float>("behavior");
  if (reader.has("pupil_center")) dataset.pupilCenter = h5.readDataset<float>("pupil_center");

  try {
    dataset.validate();
  } catch (const Error& e) {
    reader.fail(e.what());
  }
  job.progress(1.0, "Read " + file.filename().string());
  return dataset;
}

}  // namespace

NeuralDataset readStaticHdf5(const std::filesystem::path& file, const Job& job) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) throw FileError(file.string(), "file does not exist");
  if (!looksLikeHdf5(file)) throw FileError(file.string(), "not an HDF5 file (no HDF5 signature)");
  return readRehearsed(file, "static recording", job,
                       [&file](const Job& read) { return readUnrehearsedStaticHdf5(file, read); });
}

void writeStaticHdf5(const NeuralDataset& dataset, const std::filesystem::path& file, const Job& job) {
  requireSavable(dataset, file);
  job.throwIfCancelled();
  writeAtomically(file, [&](const std::filesystem::path& temporary) {
    try {
      auto h5 = Hdf5File::create(temporary);
      writeContents(dataset, h5, job);
      h5.close();
    } catch (const FileError& e) {
      // Users know the file they asked for, not our temporary name.
      if (e.path() == temporary.string()) throw FileError(file.string(), e.problem());
      throw;
    }
  });
  job.progress(1.0, "Saved " + file.filename().string());
}

}  // namespace bp
