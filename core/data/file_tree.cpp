#include "data/file_tree.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "data/npy.h"
#include "runtime/error.h"
#include "runtime/log.h"
#include "runtime/parallel.h"

namespace bp {
namespace {

namespace fs = std::filesystem;

constexpr const char* kFinalTestTier = "final_test";

// Runs `convert` on data read from `path`, naming the file in any error it raises (NpyArray's
// conversions know nothing of files).
template <typename Convert>
auto aboutFile(const fs::path& path, Convert&& convert) -> decltype(convert()) {
  try {
    return convert();
  } catch (const FileError&) {
    throw;
  } catch (const Error& e) {
    throw FileError(path.string(), e.what());
  }
}

bool isFile(const fs::path& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec);
}

bool isFolder(const fs::path& path) {
  std::error_code ec;
  return fs::is_directory(path, ec);
}

// Data keys may be aliased by config.json's "links" (neuralpredictors resolves a key through
// links before looking for its folder).
std::map<std::string, std::string> readLinks(const fs::path& root) {
  const fs::path configPath = root / "config.json";
  std::map<std::string, std::string> links;
  if (!isFile(configPath)) return links;
  std::ifstream in(configPath, std::ios::binary);
  if (!in) throw FileError(configPath.string(), "cannot open");
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json config;
  try {
    config = nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::exception& e) {
    throw FileError(configPath.string(), std::string("not valid JSON: ") + e.what());
  }
  if (!config.is_object()) throw FileError(configPath.string(), "expected a JSON object");
  if (!config.contains("links")) return links;
  const auto& linkObject = config["links"];
  if (!linkObject.is_object()) throw FileError(configPath.string(), "\"links\" must be an object of strings");
  for (const auto& [key, value] : linkObject.items()) {
    if (!value.is_string())
      throw FileError(configPath.string(), "link \"" + key + "\" must be a string, found " + value.dump());
    links[key] = value.get<std::string>();
  }
  return links;
}

std::string folderNameFor(const std::map<std::string, std::string>& links, const std::string& key) {
  const auto link = links.find(key);
  return link == links.end() ? key : link->second;
}

// A per-trial or per-neuron metadata array: must be one-dimensional with `length` entries.
NpyArray readVector(const fs::path& path, std::int64_t length, const std::string& entryMeaning) {
  NpyArray array = readNpy(path);
  if (array.shape.size() != 1 || array.shape[0] != length)
    throw FileError(path.string(), "has shape " + shapeText(array.shape) + ", expected (" + std::to_string(length) +
                                       ",): " + entryMeaning);
  return array;
}

// One data key read per trial, e.g. images from data/images/<i>.npy.
struct TrialKey {
  std::string key;
  fs::path folder;
  std::vector<char> present;  // per declared trial: 1 when <i>.npy exists
  std::vector<std::int64_t> expectedShape;
  std::string expectedShapeReason;
  std::vector<float>* destination = nullptr;
  std::int64_t valuesPerTrial = 0;
};

// Marks which trials have a file in `key.folder`. Files that are not named <index>.npy are not
// trials and are ignored; an index past the declared trials is an error.
void listTrialFiles(TrialKey& key, std::int64_t declaredTrials, const fs::path& tiersPath) {
  key.present.assign(static_cast<std::size_t>(declaredTrials), 0);
  std::error_code ec;
  for (fs::directory_iterator entry(key.folder, ec), end; !ec && entry != end; entry.increment(ec)) {
    const std::string name = entry->path().filename().string();
    if (name.size() <= 4 || name.compare(name.size() - 4, 4, ".npy") != 0) continue;
    const std::string stem = name.substr(0, name.size() - 4);
    if (stem.size() > 18 || !std::all_of(stem.begin(), stem.end(), [](char c) { return c >= '0' && c <= '9'; }))
      continue;
    const std::int64_t index = std::stoll(stem);
    if (index >= declaredTrials)
      throw FileError(entry->path().string(), "trial " + std::to_string(index) + " is beyond the " +
                                                  std::to_string(declaredTrials) + " trials declared in " +
                                                  tiersPath.string());
    key.present[static_cast<std::size_t>(index)] = 1;
  }
  if (ec) throw FileError(key.folder.string(), "cannot list: " + ec.message());
}

// Reads every present trial's files into the dataset's buffers (trial `row` of `trials` into row
// `row`), one thread per core.
void readTrials(const std::vector<TrialKey>& keys, const std::vector<std::int64_t>& trials, const Job& job) {
  const auto readTrial = [&](std::size_t row, std::size_t /*worker*/) {
    const std::string fileName = std::to_string(trials[row]) + ".npy";
    for (const auto& key : keys) {
      const fs::path path = key.folder / fileName;
      const NpyArray array = readNpy(path);
      if (array.shape != key.expectedShape)
        throw FileError(path.string(), "has shape " + shapeText(array.shape) + " but " + key.expectedShapeReason);
      float* destination = key.destination->data() + static_cast<std::int64_t>(row) * key.valuesPerTrial;
      aboutFile(path, [&] { array.copyAsFloat(destination); });
    }
  };
  const auto describe = [](std::size_t done, std::size_t total) {
    return "Reading trial " + std::to_string(done) + " of " + std::to_string(total);
  };
  parallelFor(trials.size(), std::thread::hardware_concurrency(), job, describe, readTrial);
}

void readNeuronInfo(const fs::path& folder, std::int64_t neuronCount, NeuronInfo& neurons) {
  const std::string meaning = "one entry per neuron";
  const auto readIntegers = [&](const char* file, std::vector<std::int64_t>& into) {
    const fs::path path = folder / file;
    if (!isFile(path)) return;
    const NpyArray array = readVector(path, neuronCount, meaning);
    into = aboutFile(path, [&] { return array.toInt64(); });
  };
  const auto readStrings = [&](const char* file, std::vector<std::string>& into) {
    const fs::path path = folder / file;
    if (!isFile(path)) return;
    const NpyArray array = readVector(path, neuronCount, meaning);
    into = aboutFile(path, [&] { return array.toStrings(); });
  };
  readIntegers("unit_ids.npy", neurons.unitIds);
  readIntegers("animal_ids.npy", neurons.animalIds);
  readIntegers("sessions.npy", neurons.sessions);
  readIntegers("scan_idx.npy", neurons.scanIdx);
  readStrings("area.npy", neurons.area);
  readStrings("layer.npy", neurons.layer);
  const fs::path coordinatesPath = folder / "cell_motor_coordinates.npy";
  if (isFile(coordinatesPath)) {
    const NpyArray array = readNpy(coordinatesPath);
    if (array.shape != std::vector<std::int64_t>{neuronCount, 3})
      throw FileError(coordinatesPath.string(), "has shape " + shapeText(array.shape) + ", expected (" +
                                                    std::to_string(neuronCount) + ", 3): x, y, z per neuron");
    neurons.cellMotorCoordinates = aboutFile(coordinatesPath, [&] { return array.toDouble(); });
  }
}

// meta/statistics/<key>/{all,stimulus_frame}/<statistic>.npy, for whichever keys and statistics exist.
void readStatistics(const fs::path& folder, std::map<std::string, KeyStatistics>& statistics) {
  if (!isFolder(folder)) return;
  std::error_code ec;
  for (fs::directory_iterator keyEntry(folder, ec), end; !ec && keyEntry != end; keyEntry.increment(ec)) {
    if (!isFolder(keyEntry->path())) continue;
    KeyStatistics keyStatistics;
    const std::pair<const char*, std::map<std::string, std::vector<float>>*> groups[] = {
        {"all", &keyStatistics.all}, {"stimulus_frame", &keyStatistics.stimulusFrame}};
    for (const auto& [groupName, into] : groups) {
      const fs::path groupFolder = keyEntry->path() / groupName;
      if (!isFolder(groupFolder)) continue;
      std::error_code groupEc;
      for (fs::directory_iterator file(groupFolder, groupEc), fileEnd; !groupEc && file != fileEnd;
           file.increment(groupEc)) {
        if (file->path().extension() != ".npy") continue;
        const NpyArray array = readNpy(file->path());
        (*into)[file->path().stem().string()] = aboutFile(file->path(), [&] { return array.toFloat(); });
      }
      if (groupEc) throw FileError(groupFolder.string(), "cannot list: " + groupEc.message());
    }
    statistics[keyEntry->path().filename().string()] = std::move(keyStatistics);
  }
  if (ec) throw FileError(folder.string(), "cannot list: " + ec.message());
}

// Keeps the trials (rows) marked in `keep` of every per-trial field.
void keepTrials(NeuralDataset& dataset, const std::vector<char>& keep) {
  const auto filter = [&](auto& values, std::int64_t perTrial) {
    if (values.empty()) return;
    std::size_t kept = 0;
    for (std::size_t trial = 0; trial < keep.size(); ++trial) {
      if (!keep[trial]) continue;
      std::copy_n(values.begin() + static_cast<std::ptrdiff_t>(trial * perTrial), perTrial,
                  values.begin() + static_cast<std::ptrdiff_t>(kept * perTrial));
      ++kept;
    }
    values.resize(kept * static_cast<std::size_t>(perTrial));
  };
  filter(dataset.images, dataset.imageSize());
  filter(dataset.responses, dataset.neuronCount);
  filter(dataset.behavior, 3);
  filter(dataset.pupilCenter, 2);
  filter(dataset.tiers, 1);
  filter(dataset.imageIds, 1);
  filter(dataset.trialIds, 1);
  filter(dataset.imageClasses, 1);
}

// A tier whose every trial's responses are exactly zero was withheld, as the Sensorium 2022
// competition scans publish their test and final_test tiers: those trials are absent, not data (a
// model scored on them would be scored against silence). `tierOfRow` names each row's tier as
// tiers.npy spells it.
void dropWithheldTiers(NeuralDataset& dataset, const std::vector<std::string>& tierOfRow, const fs::path& root) {
  std::map<std::string, bool> silent;
  for (std::int64_t row = 0; row < dataset.trialCount(); ++row) {
    const float* response = dataset.response(row);
    const bool zero = std::all_of(response, response + dataset.neuronCount, [](float value) { return value == 0.0f; });
    const auto [entry, inserted] = silent.emplace(tierOfRow[static_cast<std::size_t>(row)], zero);
    if (!inserted) entry->second = entry->second && zero;
  }
  std::vector<char> keep(static_cast<std::size_t>(dataset.trialCount()), 1);
  for (const auto& [tier, withheld] : silent) {
    if (!withheld) continue;
    std::int64_t count = 0;
    for (std::int64_t row = 0; row < dataset.trialCount(); ++row)
      if (tierOfRow[static_cast<std::size_t>(row)] == tier) {
        keep[static_cast<std::size_t>(row)] = 0;
        dataset.missingTrialIds.push_back(dataset.trialIds[static_cast<std::size_t>(row)]);
        ++count;
      }
    logWarning(root.string() + ": the responses of all " + std::to_string(count) + " trials of the '" + tier +
               "' tier are zero, so they were withheld (as in the Sensorium competition scans); those trials "
               "are treated as absent");
  }
  if (std::find(keep.begin(), keep.end(), 0) != keep.end()) keepTrials(dataset, keep);
}

std::string datasetName(const fs::path& root) {
  fs::path normal = fs::absolute(root).lexically_normal();
  if (normal.filename().empty()) normal = normal.parent_path();
  return normal.filename().string();
}

// What meta/trials/ declares for every trial, present or not.
struct DeclaredTrials {
  fs::path tiersPath;
  std::int64_t count = 0;
  std::vector<Tier> tiers;
  std::vector<std::string> tierNames;  // as tiers.npy spells them (Sensorium's final_test among them)
  std::vector<std::int64_t> imageIds;
  std::vector<std::int64_t> trialIds;     // trial_idx.npy, or the file indices
  std::vector<std::string> imageClasses;  // empty without frame_image_class.npy
};

DeclaredTrials readDeclaredTrials(const fs::path& folder) {
  DeclaredTrials declared;
  declared.tiersPath = folder / "tiers.npy";
  const NpyArray tiersArray = readNpy(declared.tiersPath);
  if (tiersArray.shape.size() != 1)
    throw FileError(declared.tiersPath.string(),
                    "has shape " + shapeText(tiersArray.shape) + ", expected one tier per trial");
  declared.count = tiersArray.shape[0];
  declared.tierNames = aboutFile(declared.tiersPath, [&] { return tiersArray.toStrings(); });
  for (std::size_t i = 0; i < declared.tierNames.size(); ++i) {
    const std::string& name = declared.tierNames[i];
    // The Sensorium 2022 recordings add a second test tier, final_test: more repeated test images.
    const auto tier = name == kFinalTestTier ? std::optional(Tier::Test) : parseTier(name);
    if (!tier)
      throw FileError(declared.tiersPath.string(), "trial " + std::to_string(i) + " has tier '" + name +
                                                       "', expected train, validation, test or final_test");
    declared.tiers.push_back(*tier);
  }

  const std::string perTrial = "one entry per trial declared in tiers.npy";
  const fs::path imageIdPath = folder / "frame_image_id.npy";
  declared.imageIds =
      aboutFile(imageIdPath, [&] { return readVector(imageIdPath, declared.count, perTrial).toInt64(); });
  const fs::path trialIdxPath = folder / "trial_idx.npy";
  if (isFile(trialIdxPath)) {
    declared.trialIds =
        aboutFile(trialIdxPath, [&] { return readVector(trialIdxPath, declared.count, perTrial).toInt64(); });
  } else {
    for (std::int64_t i = 0; i < declared.count; ++i) declared.trialIds.push_back(i);
  }
  const fs::path classPath = folder / "frame_image_class.npy";
  if (isFile(classPath))
    declared.imageClasses =
        aboutFile(classPath, [&] { return readVector(classPath, declared.count, perTrial).toStrings(); });
  return declared;
}

// The data keys whose folders exist: images and responses (required), behavior and
// pupil_center (optional), each with the trials that have a file there.
std::vector<TrialKey> listTrialKeys(const fs::path& root, const DeclaredTrials& declared) {
  const auto links = readLinks(root);
  std::vector<TrialKey> keys;
  for (const char* key : {"images", "responses", "behavior", "pupil_center"}) {
    TrialKey trialKey;
    trialKey.key = key;
    trialKey.folder = root / "data" / folderNameFor(links, key);
    const bool required = trialKey.key == "images" || trialKey.key == "responses";
    if (!isFolder(trialKey.folder)) {
      if (required) throw FileError(trialKey.folder.string(), "missing: a file tree keeps one .npy per trial here");
      continue;
    }
    listTrialFiles(trialKey, declared.count, declared.tiersPath);
    keys.push_back(std::move(trialKey));
  }
  return keys;
}

// File indices of the trials with every key's file; trials with none are added to `missingIds`,
// trials with only some throw.
std::vector<std::int64_t> findPresentTrials(const std::vector<TrialKey>& keys, const DeclaredTrials& declared,
                                            std::vector<std::int64_t>& missingIds) {
  std::vector<std::int64_t> present;
  for (std::int64_t i = 0; i < declared.count; ++i) {
    const auto index = static_cast<std::size_t>(i);
    const auto withFile = std::find_if(keys.begin(), keys.end(), [&](const TrialKey& k) { return k.present[index]; });
    const auto withoutFile =
        std::find_if(keys.begin(), keys.end(), [&](const TrialKey& k) { return !k.present[index]; });
    if (withFile == keys.end()) {
      missingIds.push_back(declared.trialIds[index]);
    } else if (withoutFile != keys.end()) {
      const std::string fileName = std::to_string(i) + ".npy";
      throw FileError((withoutFile->folder / fileName).string(),
                      "missing, but trial " + std::to_string(i) + " has " + (withFile->folder / fileName).string());
    } else {
      present.push_back(i);
    }
  }
  return present;
}

// Channels, height and width from the first trial's image, whose shape every trial must share.
std::vector<std::int64_t> readImageGeometry(const fs::path& firstImagePath, NeuralDataset& dataset) {
  const NpyArray firstImage = readNpy(firstImagePath);
  const auto& shape = firstImage.shape;
  if (shape.size() != 2 && shape.size() != 3)
    throw FileError(firstImagePath.string(),
                    "has shape " + shapeText(shape) + ", expected (height, width) or (channels, height, width)");
  constexpr std::int64_t kMaxSide = 1 << 16;
  if (std::any_of(shape.begin(), shape.end(), [](std::int64_t side) { return side <= 0 || side > kMaxSide; }))
    throw FileError(firstImagePath.string(), "has an image shape " + shapeText(shape) + " with an empty or huge side");
  dataset.channels = shape.size() == 3 ? static_cast<int>(shape[0]) : 1;
  dataset.height = static_cast<int>(shape[shape.size() - 2]);
  dataset.width = static_cast<int>(shape[shape.size() - 1]);
  return shape;
}

// The neuron count from meta/neurons/unit_ids.npy, or else from the first trial's responses.
// Returns where the count came from, for errors about response files of another length.
std::string readNeuronCount(const fs::path& unitIdsPath, const fs::path& firstResponsePath, NeuralDataset& dataset) {
  const bool fromUnitIds = isFile(unitIdsPath);
  const fs::path& source = fromUnitIds ? unitIdsPath : firstResponsePath;
  const NpyArray array = readNpy(source);
  if (array.shape.size() != 1 || array.shape[0] <= 0)
    throw FileError(source.string(), "has shape " + shapeText(array.shape) + ", expected one entry per neuron");
  dataset.neuronCount = array.shape[0];
  const std::string count = std::to_string(dataset.neuronCount) + " neurons";
  return fromUnitIds ? source.string() + " lists " + count : "the first trial's " + source.string() + " has " + count;
}

// Sizes the dataset's per-trial buffers and tells each key its file shape and destination.
void prepareTrialKeys(std::vector<TrialKey>& keys, const std::vector<std::int64_t>& imageShape,
                      const std::string& imageShapeReason, const std::string& neuronCountReason,
                      std::int64_t trialCount, NeuralDataset& dataset) {
  for (auto& key : keys) {
    if (key.key == "images") {
      key.expectedShape = imageShape;
      key.expectedShapeReason = imageShapeReason;
      key.destination = &dataset.images;
      key.valuesPerTrial = dataset.imageSize();
    } else if (key.key == "responses") {
      key.expectedShape = {dataset.neuronCount};
      key.expectedShapeReason = neuronCountReason;
      key.destination = &dataset.responses;
      key.valuesPerTrial = dataset.neuronCount;
    } else if (key.key == "behavior") {
      key.expectedShape = {3};
      key.expectedShapeReason = "behavior holds (3,): pupil dilation, its derivative and running speed";
      key.destination = &dataset.behavior;
      key.valuesPerTrial = 3;
    } else {
      key.expectedShape = {2};
      key.expectedShapeReason = "pupil_center holds (2,): x and y";
      key.destination = &dataset.pupilCenter;
      key.valuesPerTrial = 2;
    }
    key.destination->resize(static_cast<std::size_t>(trialCount * key.valuesPerTrial));
  }
}

}  // namespace

bool looksLikeFileTree(const fs::path& root) {
  if (!isFolder(root)) return false;
  return isFile(root / "config.json") || (isFolder(root / "data") && isFile(root / "meta" / "trials" / "tiers.npy"));
}

NeuralDataset readFileTree(const fs::path& root, const Job& job) {
  if (!isFolder(root)) throw FileError(root.string(), "not a folder");
  job.progress(0.0, "Reading metadata");
  NeuralDataset dataset;
  dataset.name = datasetName(root);
  dataset.sourcePath = root.string();
  const DeclaredTrials declared = readDeclaredTrials(root / "meta" / "trials");
  std::vector<TrialKey> keys = listTrialKeys(root, declared);
  const std::vector<std::int64_t> presentTrials = findPresentTrials(keys, declared, dataset.missingTrialIds);
  if (presentTrials.empty())
    throw FileError((root / "data").string(), "no trial has data: all " + std::to_string(declared.count) +
                                                  " trials declared in " + declared.tiersPath.string() +
                                                  " are missing");
  const fs::path neuronsFolder = root / "meta" / "neurons";

  const std::string firstName = std::to_string(presentTrials.front()) + ".npy";
  const fs::path firstImagePath = keys[0].folder / firstName;
  const auto imageShape = readImageGeometry(firstImagePath, dataset);
  const std::string neuronCountReason =
      readNeuronCount(neuronsFolder / "unit_ids.npy", keys[1].folder / firstName, dataset);
  prepareTrialKeys(keys, imageShape,
                   "the first trial's image " + firstImagePath.string() + " has " + shapeText(imageShape),
                   neuronCountReason, static_cast<std::int64_t>(presentTrials.size()), dataset);

  job.throwIfCancelled();
  readTrials(keys, presentTrials, job.subJob(0.02, 0.98));

  std::vector<std::string> tierOfRow;
  for (const auto trial : presentTrials) {
    const auto index = static_cast<std::size_t>(trial);
    tierOfRow.push_back(declared.tierNames[index]);
    dataset.tiers.push_back(declared.tiers[index]);
    dataset.imageIds.push_back(declared.imageIds[index]);
    dataset.trialIds.push_back(declared.trialIds[index]);
    if (!declared.imageClasses.empty()) dataset.imageClasses.push_back(declared.imageClasses[index]);
  }
  dropWithheldTiers(dataset, tierOfRow, root);
  if (dataset.trialCount() == 0)
    throw FileError((root / "data").string(), "every trial's responses are withheld (zero): there is nothing to read");
  readNeuronInfo(neuronsFolder, dataset.neuronCount, dataset.neurons);
  readStatistics(root / "meta" / "statistics", dataset.statistics);
  aboutFile(root, [&] { dataset.validate(); });
  job.progress(1.0, "Read " + std::to_string(presentTrials.size()) + " trials");
  return dataset;
}

}  // namespace bp
