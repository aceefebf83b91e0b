// neuralpredictors static HDF5 files and the HDF5 wrapper under them: exact round trips of every
// field, files as h5py writes them (variable-length strings), and malformed files.
#include <hdf5.h>

#include <QtTest>
#include <cmath>
#include <memory>

#include "data/hdf5_file.h"
#include "data/static_hdf5.h"
#include "runtime/error.h"
#include "runtime/log.h"
#include "test_registry.h"
#include "seed_recording.h"
#include "test_support.h"

namespace {

using bp::FileError;
using bp::Hdf5File;
using bp::NeuralDataset;
using bp::Tier;

// Distinct, non-round values so that any lost bit or misplaced element shows.
std::vector<float> ramp(std::size_t count, float start, float step) {
  std::vector<float> values(count);
  for (std::size_t i = 0; i < count; ++i)
    values[i] = start + step * static_cast<float>(i) + 1e-3f / static_cast<float>(i + 3);
  return values;
}

NeuralDataset fullDataset() {
  NeuralDataset dataset;
  dataset.name = "scan 20457-5-9 \xC2\xB5 synthetic";  // UTF-8 on purpose
  dataset.channels = 2;
  dataset.height = 3;
  dataset.width = 4;
  dataset.neuronCount = 3;
  const std::size_t trials = 5;
  dataset.images = ramp(trials * 24, -3.0f, 0.37f);
  dataset.responses = ramp(trials * 3, 0.0f, 1.13f);
  dataset.behavior = ramp(trials * 3, 4.0f, -0.21f);
  dataset.pupilCenter = ramp(trials * 2, 10.0f, 0.5f);
  dataset.noiseFreeRates = ramp(trials * 3, 0.5f, 0.77f);
  dataset.tiers = {Tier::Train, Tier::Test, Tier::Validation, Tier::Test, Tier::Train};
  dataset.imageIds = {7, 8, 9, 8, 1234567890123};
  dataset.trialIds = {0, 1, 2, 4, 6};
  dataset.imageClasses = {"imagenet", "imagenet", "", "gabor", "imagenet"};
  dataset.neurons.unitIds = {1, 2, 65535};
  dataset.neurons.animalIds = {20457, 20457, 20457};
  dataset.neurons.sessions = {5, 5, 5};
  dataset.neurons.scanIdx = {9, 9, 9};
  dataset.neurons.area = {"V1", "LM", "V1"};
  dataset.neurons.layer = {"L2/3", "L4", ""};
  dataset.neurons.cellMotorCoordinates = {1.5, -2.25, 300.125, 0.1, 0.2, 0.3, -7.0, 8.0, 9.000001};
  dataset.statistics["images"].all = {{"mean", {1.5f, 2.5f}}, {"std", {0.125f, 0.3f}}};
  dataset.statistics["images"].stimulusFrame = {{"mean", {1.25f}}, {"max", {255.0f}}};
  dataset.statistics["responses"].all = {{"median", {0.1f, 0.2f, 0.3f}}, {"empty", {}}};
  dataset.statistics["behavior"] = {};
  dataset.missingTrialIds = {3, 5};
  return dataset;
}

void compareStatistics(const std::map<std::string, std::vector<float>>& actual,
                       const std::map<std::string, std::vector<float>>& expected) {
  QCOMPARE(actual.size(), expected.size());
  for (const auto& [name, values] : expected) {
    QVERIFY2(actual.count(name) == 1, name.c_str());
    QVERIFY2(actual.at(name) == values, name.c_str());
  }
}

void compareDatasets(const NeuralDataset& actual, const NeuralDataset& expected) {
  QCOMPARE(actual.name, expected.name);
  QCOMPARE(actual.channels, expected.channels);
  QCOMPARE(actual.height, expected.height);
  QCOMPARE(actual.width, expected.width);
  QCOMPARE(actual.neuronCount, expected.neuronCount);
  QVERIFY(actual.images == expected.images);
  QVERIFY(actual.responses == expected.responses);
  QVERIFY(actual.behavior == expected.behavior);
  QVERIFY(actual.pupilCenter == expected.pupilCenter);
  QVERIFY(actual.noiseFreeRates == expected.noiseFreeRates);
  QVERIFY(actual.tiers == expected.tiers);
  QVERIFY(actual.imageIds == expected.imageIds);
  QVERIFY(actual.trialIds == expected.trialIds);
  QVERIFY(actual.imageClasses == expected.imageClasses);
  QVERIFY(actual.neurons.unitIds == expected.neurons.unitIds);
  QVERIFY(actual.neurons.animalIds == expected.neurons.animalIds);
  QVERIFY(actual.neurons.sessions == expected.neurons.sessions);
  QVERIFY(actual.neurons.scanIdx == expected.neurons.scanIdx);
  QVERIFY(actual.neurons.area == expected.neurons.area);
  QVERIFY(actual.neurons.layer == expected.neurons.layer);
  QVERIFY(actual.neurons.cellMotorCoordinates == expected.neurons.cellMotorCoordinates);
  QCOMPARE(actual.statistics.size(), expected.statistics.size());
  for (const auto& [key, statistics] : expected.statistics) {
    QVERIFY2(actual.statistics.count(key) == 1, key.c_str());
    compareStatistics(actual.statistics.at(key).all, statistics.all);
    compareStatistics(actual.statistics.at(key).stimulusFrame, statistics.stimulusFrame);
  }
  QVERIFY(actual.missingTrialIds == expected.missingTrialIds);
}

// A valid file with `trials` image rows; each part can be changed to make it malformed.
struct StaticFileParts {
  std::int64_t trials = 4;
  std::int64_t responseRows = 4;
  bool withResponses = true;
  std::vector<std::string> tiers = {"train", "validation", "test", "train"};
};

void writeStaticFile(const std::filesystem::path& file, const StaticFileParts& parts) {
  auto h5 = Hdf5File::create(file);
  h5.writeDataset<std::uint8_t>("images", std::vector<std::uint8_t>(static_cast<std::size_t>(parts.trials * 6), 7),
                                {parts.trials, 1, 2, 3});
  if (parts.withResponses)
    h5.writeDataset<double>("responses", std::vector<double>(static_cast<std::size_t>(parts.responseRows * 2), 0.5),
                            {parts.responseRows, 2});
  h5.writeStrings("tiers", parts.tiers);
  h5.close();
}

void expectReadFails(const std::filesystem::path& file, const std::string& problemFragment) {
  try {
    bp::readStaticHdf5(file);
    QFAIL("readStaticHdf5 accepted a malformed file");
  } catch (const FileError& e) {
    QCOMPARE(e.path(), file.string());
    QVERIFY2(e.problem().find(problemFragment) != std::string::npos, e.what());
  }
}

// Raw C API, as h5py writes Python str arrays: variable-length strings.
void writeVariableLengthStrings(hid_t file, const char* name, const std::vector<std::string>& values, H5T_cset_t cset) {
  const hid_t type = H5Tcopy(H5T_C_S1);
  H5Tset_size(type, H5T_VARIABLE);
  H5Tset_cset(type, cset);
  const hsize_t count = values.size();
  const hid_t space = H5Screate_simple(1, &count, nullptr);
  const hid_t linkProperties = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(linkProperties, 1);
  const hid_t dataset = H5Dcreate2(file, name, type, space, linkProperties, H5P_DEFAULT, H5P_DEFAULT);
  std::vector<const char*> pointers;
  for (const auto& value : values) pointers.push_back(value.c_str());
  QVERIFY(H5Dwrite(dataset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, pointers.data()) >= 0);
  H5Dclose(dataset);
  H5Pclose(linkProperties);
  H5Sclose(space);
  H5Tclose(type);
}

bool isVariableLengthString(const std::filesystem::path& file, const char* name) {
  const std::lock_guard<std::recursive_mutex> lock(bp::hdf5Mutex());
  const hid_t h5 = H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const hid_t dataset = H5Dopen2(h5, name, H5P_DEFAULT);
  const hid_t type = H5Dget_type(dataset);
  const bool variable = H5Tis_variable_str(type) > 0;
  H5Tclose(type);
  H5Dclose(dataset);
  H5Fclose(h5);
  return variable;
}

std::vector<std::filesystem::path> folderContents(const std::filesystem::path& folder) {
  std::vector<std::filesystem::path> entries;
  for (const auto& entry : std::filesystem::directory_iterator(folder)) entries.push_back(entry.path().filename());
  std::sort(entries.begin(), entries.end());
  return entries;
}

}  // namespace

class StaticHdf5Test : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void wrapperRoundTripsNumbersStringsAndAttributes() {
    bp::test::ScratchDir scratch;
    const auto file = scratch / "wrapper.h5";
    {
      bp::Hdf5DatasetOptions compressed;
      compressed.gzipLevel = 4;
      auto h5 = Hdf5File::create(file);
      h5.createGroup("a/b/c");
      h5.createGroup("a/b");  // exists already: no error
      h5.writeDataset<std::int32_t>("a/b/numbers", {1, -2, 3, 4, 5, 6}, {2, 3}, compressed);
      h5.writeDataset<std::int64_t>("x/big", {std::int64_t{1} << 40}, {1});
      h5.writeDataset<double>("scalar", {2.5}, {});
      h5.writeDataset<std::uint8_t>("empty", {}, {0, 5}, compressed);
      h5.writeStrings("a/names", {"x", "longer name", ""});
      h5.writeStringAttribute("/", "title", "root title");
      h5.writeStringAttribute("a/b/numbers", "unit", "spikes");
      h5.writeStringAttribute("a/b/numbers", "unit", "events");  // replaces
      h5.writeScalarAttribute<double>("a", "rate", 30.5);
      h5.close();
    }
    const auto h5 = Hdf5File::openForReading(file);
    QVERIFY(h5.exists("a/b/c"));
    QVERIFY(h5.isGroup("a/b/c"));
    QVERIFY(h5.isDataset("a/b/numbers"));
    QVERIFY(!h5.exists("a/missing/deeper"));
    QVERIFY(!h5.exists("nothing"));
    QVERIFY((h5.members("/") == std::vector<std::string>{"a", "empty", "scalar", "x"}));
    QVERIFY((h5.members("a/b") == std::vector<std::string>{"c", "numbers"}));
    QVERIFY((h5.shape("a/b/numbers") == bp::Hdf5Shape{2, 3}));
    QVERIFY((h5.shape("scalar") == bp::Hdf5Shape{}));
    QVERIFY((h5.shape("empty") == bp::Hdf5Shape{0, 5}));
    // Reads convert from the stored type.
    QVERIFY((h5.readDataset<float>("a/b/numbers") == std::vector<float>{1, -2, 3, 4, 5, 6}));
    QVERIFY((h5.readDataset<double>("x/big") == std::vector<double>{1099511627776.0}));
    QVERIFY((h5.readDataset<std::int32_t>("scalar") == std::vector<std::int32_t>{2}));
    QVERIFY(h5.readDataset<float>("empty").empty());
    std::vector<std::int64_t> secondRow(3);
    h5.readRows<std::int64_t>("a/b/numbers", 1, 1, secondRow.data());
    QVERIFY((secondRow == std::vector<std::int64_t>{4, 5, 6}));
    QVERIFY((h5.readStrings("a/names") == std::vector<std::string>{"x", "longer name", ""}));
    QCOMPARE(h5.readStringAttribute("/", "title"), std::string("root title"));
    QCOMPARE(h5.readStringAttribute("a/b/numbers", "unit"), std::string("events"));
    QCOMPARE(h5.readScalarAttribute<float>("a", "rate"), 30.5f);
    QVERIFY(h5.hasAttribute("a", "rate"));
    QVERIFY(!h5.hasAttribute("a", "other"));
    QVERIFY(!h5.hasAttribute("missing", "rate"));
  }

  void wrapperErrorsNameFileAndObject() {
    bp::test::ScratchDir scratch;
    const auto file = scratch / "errors.h5";
    {
      auto h5 = Hdf5File::create(file);
      h5.writeStrings("words", {"a"});
      h5.writeDataset<float>("numbers", {1.0f}, {1});
      h5.close();
    }
    auto h5 = Hdf5File::openForWriting(file);
    const auto expectError = [&](const std::function<void()>& call, const std::string& fragment) {
      try {
        call();
        QFAIL("no FileError");
      } catch (const FileError& e) {
        QCOMPARE(e.path(), file.string());
        QVERIFY2(e.problem().find(fragment) != std::string::npos, e.what());
      }
    };
    expectError([&] { h5.readDataset<float>("group/missing"); }, "'group/missing'");
    expectError([&] { h5.readDataset<float>("words"); }, "'words' holds string values, expected numbers");
    expectError([&] { h5.readStrings("numbers"); }, "'numbers' holds floating-point values, expected strings");
    expectError([&] { h5.readStringAttribute("numbers", "unit"); }, "attribute 'unit' of 'numbers'");
    std::vector<float> row(1);
    expectError([&] { h5.readRows<float>("numbers", 1, 1, row.data()); }, "outside its shape");
    expectError([&] { h5.writeDataset<float>("two", {1.0f, 2.0f}, {3}); }, "2 values do not fill shape (3,)");
    expectError([&] { h5.writeDataset<float>("numbers", {1.0f}, {1}); }, "cannot create dataset 'numbers'");
  }

  void roundTripKeepsEveryField() {
    bp::test::ScratchDir scratch;
    const auto file = scratch / "full.h5";
    const auto expected = fullDataset();
    bp::writeStaticHdf5(expected, file);
    QVERIFY(bp::looksLikeHdf5(file));
    const auto actual = bp::readStaticHdf5(file);
    compareDatasets(actual, expected);
    QCOMPARE(actual.sourcePath, file.string());
    // Strings are stored as numpy `S` (fixed-length bytes), as neuralpredictors writes them.
    QVERIFY(!isVariableLengthString(file, "tiers"));
    QVERIFY(!isVariableLengthString(file, "neurons/area"));
    QCOMPARE(folderContents(scratch.path()), std::vector<std::filesystem::path>{"full.h5"});
  }

  void roundTripKeepsAbsentOptionalFields() {
    bp::test::ScratchDir scratch;
    const auto file = scratch / "minimal.h5";
    NeuralDataset expected;
    expected.name = "";
    expected.channels = 1;
    expected.height = 2;
    expected.width = 2;
    expected.neuronCount = 2;
    expected.images = {0, 1, 2, 3};
    expected.responses = {0.25f, 0.5f};
    expected.tiers = {Tier::Validation};
    expected.imageIds = {0};
    expected.trialIds = {42};
    bp::writeStaticHdf5(expected, file);
    compareDatasets(bp::readStaticHdf5(file), expected);
  }

  void readsVariableLengthStringsWrittenByTheCApi() {
    bp::test::ScratchDir scratch;
    const auto file = scratch / "static22564-2-13.h5";
    {
      const std::lock_guard<std::recursive_mutex> lock(bp::hdf5Mutex());
      const hid_t h5 = H5Fcreate(file.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
      // images as (trials, height, width) uint8 and responses as float64, as in older static files
      const hsize_t imageDims[3] = {3, 2, 2};
      const std::uint8_t pixels[12] = {0, 1, 2, 3, 10, 11, 12, 13, 250, 251, 252, 255};
      hid_t space = H5Screate_simple(3, imageDims, nullptr);
      hid_t dataset = H5Dcreate2(h5, "images", H5T_STD_U8LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
      H5Dwrite(dataset, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, pixels);
      H5Dclose(dataset);
      H5Sclose(space);
      const hsize_t responseDims[2] = {3, 2};
      const double responses[6] = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6};
      space = H5Screate_simple(2, responseDims, nullptr);
      dataset = H5Dcreate2(h5, "responses", H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
      H5Dwrite(dataset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, responses);
      H5Dclose(dataset);
      H5Sclose(space);
      writeVariableLengthStrings(h5, "tiers", {"test", "train", "validation"}, H5T_CSET_UTF8);
      writeVariableLengthStrings(h5, "neurons/area", {"V1", "LM"}, H5T_CSET_ASCII);
      writeVariableLengthStrings(h5, "item_info/frame_image_class", {"imagenet", "\xC3\xA9t\xC3\xA9", ""},
                                 H5T_CSET_UTF8);
      H5Fclose(h5);
    }
    std::vector<std::string> warnings;
    bp::setLogSink([&](bp::LogLevel level, const std::string& message) {
      if (level == bp::LogLevel::Warning) warnings.push_back(message);
    });
    const auto dataset = bp::readStaticHdf5(file);
    bp::setLogSink({});
    QCOMPARE(dataset.name, std::string("static22564-2-13"));
    QCOMPARE(dataset.channels, 1);
    QCOMPARE(dataset.height, 2);
    QCOMPARE(dataset.width, 2);
    QCOMPARE(dataset.images[11], 255.0f);
    QCOMPARE(dataset.images[4], 10.0f);
    QCOMPARE(dataset.responses[5], 0.6f);
    QVERIFY((dataset.tiers == std::vector<Tier>{Tier::Test, Tier::Train, Tier::Validation}));
    QVERIFY((dataset.neurons.area == std::vector<std::string>{"V1", "LM"}));
    QVERIFY((dataset.imageClasses == std::vector<std::string>{"imagenet", "\xC3\xA9t\xC3\xA9", ""}));
    // Without item_info/frame_image_id every trial is its own image, and the user is told.
    QVERIFY((dataset.imageIds == std::vector<std::int64_t>{0, 1, 2}));
    QVERIFY((dataset.trialIds == std::vector<std::int64_t>{0, 1, 2}));
    QCOMPARE(warnings.size(), std::size_t{1});
    QVERIFY(warnings.front().find("frame_image_id") != std::string::npos);
  }

  void missingRequiredKeyNamesFileAndKey() {
    bp::test::ScratchDir scratch;
    const auto file = scratch / "no-responses.h5";
    StaticFileParts parts;
    parts.withResponses = false;
    writeStaticFile(file, parts);
    expectReadFails(file, "missing required dataset 'responses'");
  }

  void mismatchedShapesNameFileAndKey() {
    bp::test::ScratchDir scratch;
    const auto file = scratch / "short-responses.h5";
    StaticFileParts parts;
    parts.responseRows = 3;
    writeStaticFile(file, parts);
    expectReadFails(file, "'responses' has shape (3, 2), expected (4, neurons)");

    const auto tiersFile = scratch / "short-tiers.h5";
    StaticFileParts shortTiers;
    shortTiers.tiers = {"train"};
    writeStaticFile(tiersFile, shortTiers);
    expectReadFails(tiersFile, "'tiers' has shape (1,), expected (4,)");
  }

  void unknownTierNamesFileAndEntry() {
    bp::test::ScratchDir scratch;
    const auto file = scratch / "odd-tier.h5";
    StaticFileParts parts;
    parts.tiers = {"train", "train", "training", "test"};
    writeStaticFile(file, parts);
    expectReadFails(file, "'tiers' entry 2 is 'training'");
  }

  void truncatedFileNamesFile() {
    bp::test::ScratchDir scratch;
    const auto file = scratch / "truncated.h5";
    auto dataset = fullDataset();
    bp::writeStaticHdf5(dataset, file);
    const auto bytes = bp::test::readBytes(file);
    bp::test::writeBytes(file, bytes.substr(0, bytes.size() / 2));
    QVERIFY(bp::looksLikeHdf5(file));
    expectReadFails(file, "truncated");
  }

  void aFileThatCrashesTheLibraryIsRefusedNotFatal() {
    // The fuzz harness's seed recording with byte 2,074 set to 0xE2: the
    // global-heap object of the variable-length attribute brainprior_name then claims a length past
    // its heap collection, and libhdf5 1.10's H5Aread copies out of bounds (SIGSEGV). Read in a
    // helper process first, it is refused by name and this process lives on.
    bp::test::ScratchDir scratch;
    const auto file = scratch / "recording.h5";
    const NeuralDataset dataset = bp::test::seedRecording();
    bp::writeStaticHdf5(dataset, file);
    auto bytes = bp::test::readBytes(file);
    QVERIFY(bytes.size() > 2074);
    bytes[2074] = '\xe2';
    bp::test::writeBytes(file, bytes);
    try {
      bp::readStaticHdf5(file);
      QFAIL("readStaticHdf5 accepted the corrupted recording");
    } catch (const FileError& e) {
      QCOMPARE(e.path(), file.string());
      // Other HDF5 versions may refuse the byte cleanly instead of crashing; 1.10 crashes.
      if (H5_VERSION_LE(1, 10, 99))
        QVERIFY2(e.problem().find("the HDF5 library crashed reading it") != std::string::npos, e.what());
    }
    // The same file again (the verdict is not cached) and an intact file after it.
    QVERIFY_THROWS_EXCEPTION(FileError, bp::readStaticHdf5(file));
    bp::writeStaticHdf5(dataset, scratch / "intact.h5");
    QCOMPARE(bp::readStaticHdf5(scratch / "intact.h5").responses, dataset.responses);
  }

  void notAnHdf5FileNamesFile() {
    bp::test::ScratchDir scratch;
    const auto file = scratch / "notes.h5";
    bp::test::writeBytes(file, "images,responses\n1,2\n");
    QVERIFY(!bp::looksLikeHdf5(file));
    expectReadFails(file, "not an HDF5 file");
    expectReadFails(scratch / "absent.h5", "does not exist");
  }

  void cancelledWriteLeavesNoFileAndKeepsTheOldOne() {
    bp::test::ScratchDir scratch;
    const auto file = scratch / "saved.h5";
    auto big = fullDataset();
    // Enough trials for several blocks, so the cancel lands in the middle of the images.
    const std::int64_t trials = 5000;
    big.channels = 1;
    big.height = 36;
    big.width = 64;
    big.neuronCount = 1;
    big.images = ramp(static_cast<std::size_t>(trials * 36 * 64), 0.0f, 0.01f);
    big.responses = ramp(static_cast<std::size_t>(trials), 0.0f, 1.0f);
    big.behavior.clear();
    big.pupilCenter.clear();
    big.noiseFreeRates.clear();
    big.tiers.assign(static_cast<std::size_t>(trials), Tier::Train);
    big.imageIds.assign(static_cast<std::size_t>(trials), 1);
    big.trialIds.assign(static_cast<std::size_t>(trials), 2);
    big.imageClasses.clear();
    big.neurons = {};

    auto token = std::make_shared<bp::CancelToken>();
    int reports = 0;
    const bp::Job cancelMidway(
        [&](double fraction, const std::string&) {
          ++reports;
          if (fraction > 0.1) token->cancel();
        },
        token);
    QVERIFY_THROWS_EXCEPTION(bp::CancelledError, bp::writeStaticHdf5(big, file, cancelMidway));
    QVERIFY(reports > 0);
    QVERIFY(folderContents(scratch.path()).empty());

    const auto original = fullDataset();
    bp::writeStaticHdf5(original, file);
    const auto originalBytes = bp::test::readBytes(file);
    auto secondToken = std::make_shared<bp::CancelToken>();
    const bp::Job cancelAgain(
        [&](double fraction, const std::string&) {
          if (fraction > 0.1) secondToken->cancel();
        },
        secondToken);
    QVERIFY_THROWS_EXCEPTION(bp::CancelledError, bp::writeStaticHdf5(big, file, cancelAgain));
    QCOMPARE(folderContents(scratch.path()), std::vector<std::filesystem::path>{"saved.h5"});
    QVERIFY(bp::test::readBytes(file) == originalBytes);
    compareDatasets(bp::readStaticHdf5(file), original);
  }

  void inconsistentDatasetIsNotSaved() {
    bp::test::ScratchDir scratch;
    const auto file = scratch / "bad.h5";
    auto dataset = fullDataset();
    dataset.neurons.sessions.pop_back();
    try {
      bp::writeStaticHdf5(dataset, file);
      QFAIL("an inconsistent dataset was saved");
    } catch (const FileError& e) {
      QCOMPARE(e.path(), file.string());
      QVERIFY2(e.problem().find("neurons/sessions") != std::string::npos, e.what());
    }
    QVERIFY(!std::filesystem::exists(file));
  }
};

BRAINPRIOR_TEST_CLASS(StaticHdf5Test)
#include "test_static_hdf5.moc"
