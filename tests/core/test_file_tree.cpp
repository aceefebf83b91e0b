// The neuralpredictors file-tree reader against small trees written here with writeNpy: every
// field, missing trials, statistics, neuron metadata, each kind of broken tree, cancellation.
#include <QtTest>

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <zip.h>

#include "data/dataset_io.h"
#include "data/file_tree.h"
#include "data/npy.h"
#include "runtime/atomic_file.h"
#include "runtime/error.h"
#include "runtime/job.h"
#include "test_registry.h"
#include "test_support.h"

namespace fs = std::filesystem;

namespace {

// A tree of `declared` trials, 3 neurons and 1x4x5 images. Trial i's image pixel k is
// 100 i + k, its responses 10 i + n, behavior (i, -i, 2 i), pupil center (i, i + 0.5).
struct TreeSpec {
  int declared = 6;
  std::vector<int> absent = {2, 4};
  bool optionalKeys = true;  // behavior and pupil_center
  bool optionalMeta = true;  // trial_idx, frame_image_class, config.json
};

constexpr int kNeurons = 3;
constexpr int kImageSize = 1 * 4 * 5;

std::vector<std::string> tierCycle(int count) {
  static const char* names[] = {"train", "train", "validation", "test"};
  std::vector<std::string> tiers;
  for (int i = 0; i < count; ++i) tiers.push_back(names[i % 4]);
  return tiers;
}

void writeTrial(const fs::path& root, int i, bool optionalKeys) {
  const std::string file = std::to_string(i) + ".npy";
  std::vector<float> image(kImageSize);
  for (int k = 0; k < kImageSize; ++k) image[static_cast<std::size_t>(k)] = static_cast<float>(100 * i + k);
  bp::writeNpy(root / "data" / "images" / file, bp::makeNpy(image, {1, 4, 5}));
  std::vector<double> responses(kNeurons);
  for (int n = 0; n < kNeurons; ++n) responses[static_cast<std::size_t>(n)] = 10.0 * i + n;
  bp::writeNpy(root / "data" / "responses" / file, bp::makeNpy(responses, {kNeurons}));
  if (!optionalKeys) return;
  bp::writeNpy(root / "data" / "behavior" / file, bp::makeNpy(std::vector<double>{1.0 * i, -1.0 * i, 2.0 * i}, {3}));
  bp::writeNpy(root / "data" / "pupil_center" / file, bp::makeNpy(std::vector<double>{1.0 * i, i + 0.5}, {2}));
}

void writeTree(const fs::path& root, const TreeSpec& spec = {}) {
  const auto n = static_cast<std::int64_t>(spec.declared);
  const fs::path trials = root / "meta" / "trials";
  bp::writeNpy(trials / "tiers.npy", bp::makeNpy(tierCycle(spec.declared), {n}));
  std::vector<std::int64_t> imageIds, trialIdx;
  std::vector<std::string> classes;
  for (int i = 0; i < spec.declared; ++i) {
    imageIds.push_back(1000 + i / 2);  // pairs of trials repeat one image
    trialIdx.push_back(500 - i);       // deliberately not the file index
    classes.push_back(i % 2 ? "imagenet" : "gabor");
  }
  bp::writeNpy(trials / "frame_image_id.npy", bp::makeNpy(imageIds, {n}));
  if (spec.optionalMeta) {
    bp::writeNpy(trials / "trial_idx.npy", bp::makeNpy(trialIdx, {n}));
    bp::writeNpy(trials / "frame_image_class.npy", bp::makeNpy(classes, {n}));
    bp::writeFileAtomically(root / "config.json", R"({"links": {"targets": "responses", "inputs": "images"}})");
  }

  const fs::path neurons = root / "meta" / "neurons";
  bp::writeNpy(neurons / "unit_ids.npy", bp::makeNpy(std::vector<std::int64_t>{7, 8, 9}, {kNeurons}));
  bp::writeNpy(neurons / "animal_ids.npy", bp::makeNpy(std::vector<std::int64_t>{20457, 20457, 20457}, {kNeurons}));
  bp::writeNpy(neurons / "sessions.npy", bp::makeNpy(std::vector<std::int64_t>{5, 5, 5}, {kNeurons}));
  bp::writeNpy(neurons / "scan_idx.npy", bp::makeNpy(std::vector<std::int64_t>{9, 9, 9}, {kNeurons}));
  bp::writeNpy(neurons / "area.npy", bp::makeNpy(std::vector<std::string>{"V1", "V1", "LM"}, {kNeurons}));
  bp::writeNpy(neurons / "layer.npy", bp::makeNpy(std::vector<std::string>{"L2/3", "L2/3", "L4"}, {kNeurons}));
  bp::writeNpy(neurons / "cell_motor_coordinates.npy",
               bp::makeNpy(std::vector<double>{1, 2, 3, 4, 5, 6, 7, 8, 9}, {kNeurons, 3}));

  const fs::path statistics = root / "meta" / "statistics";
  bp::writeNpy(statistics / "images" / "all" / "mean.npy", bp::makeNpy(std::vector<float>{113.5f}, {}));
  bp::writeNpy(statistics / "images" / "all" / "std.npy", bp::makeNpy(std::vector<float>{60.25f}, {}));
  bp::writeNpy(statistics / "responses" / "all" / "mean.npy", bp::makeNpy(std::vector<float>{0.5f, 1, 2}, {3}));
  bp::writeNpy(statistics / "responses" / "stimulus_frame" / "max.npy", bp::makeNpy(std::vector<double>{4, 5, 6}, {3}));

  for (int i = 0; i < spec.declared; ++i)
    if (std::find(spec.absent.begin(), spec.absent.end(), i) == spec.absent.end())
      writeTrial(root, i, spec.optionalKeys);
}

// Every file under `folder` into a new zip archive, named `prefix` + its path in the folder.
void zipFolder(const fs::path& folder, const std::string& prefix, const fs::path& archive) {
  int error = 0;
  zip_t* zip = zip_open(archive.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &error);
  QVERIFY(zip != nullptr);
  for (const auto& entry : fs::recursive_directory_iterator(folder)) {
    if (!entry.is_regular_file()) continue;
    const std::string name = prefix + fs::relative(entry.path(), folder).generic_string();
    zip_source_t* source = zip_source_file(zip, entry.path().c_str(), 0, -1);
    QVERIFY(source != nullptr && zip_file_add(zip, name.c_str(), source, ZIP_FL_ENC_UTF_8) >= 0);
  }
  QCOMPARE(zip_close(zip), 0);
}

// The folders zipped trees are unpacked into that exist now.
std::vector<fs::path> temporaryUnpackFolders() {
  std::vector<fs::path> folders;
  for (const auto& entry : fs::directory_iterator(fs::temp_directory_path()))
    if (entry.path().filename().string().rfind("brainprior-zip-", 0) == 0) folders.push_back(entry.path());
  std::sort(folders.begin(), folders.end());
  return folders;
}

// Runs readFileTree expecting a FileError whose message names `file` and mentions `problem`.
void expectFileError(const fs::path& root, const fs::path& file, const QString& problem) {
  try {
    bp::readFileTree(root);
    QFAIL("readFileTree accepted a broken tree");
  } catch (const bp::FileError& e) {
    const QString message = QString::fromStdString(e.what());
    QVERIFY2(message.startsWith(QString::fromStdString(file.string())), qPrintable(message));
    QVERIFY2(message.contains(problem), qPrintable(message));
  }
}

}  // namespace

class TestFileTree : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void readsSensoriumTreesWithWithheldTiersAndTheirZipArchives() {
    bp::test::ScratchDir scratch;
    const fs::path root = scratch / "static-sensorium";
    TreeSpec spec;
    spec.absent = {};
    writeTree(root, spec);
    // Sensorium's tiers: a final_test tier whose responses the competition scans publish as zeros.
    bp::writeNpy(root / "meta" / "trials" / "tiers.npy",
                 bp::makeNpy(std::vector<std::string>{"train", "validation", "train", "test", "final_test", "final_test"}, {6}));
    for (const int trial : {4, 5})
      bp::writeNpy(root / "data" / "responses" / (std::to_string(trial) + ".npy"),
                   bp::makeNpy(std::vector<double>(kNeurons, 0.0), {kNeurons}));
    const bp::NeuralDataset read = bp::readFileTree(root);
    QCOMPARE(read.trialCount(), std::int64_t(4));
    QCOMPARE(read.missingTrialIds, (std::vector<std::int64_t>{496, 495}));
    QCOMPARE(read.trialsOf(bp::Tier::Test), std::vector<std::int64_t>{3});
    QCOMPARE(read.behavior.size(), std::size_t(4 * 3));
    QCOMPARE(read.image(3)[0], 300.0f);
    // With its responses, final_test is more test trials.
    bp::writeNpy(root / "data" / "responses" / "5.npy", bp::makeNpy(std::vector<double>{1, 0, 0}, {kNeurons}));
    QCOMPARE(bp::readFileTree(root).trialsOf(bp::Tier::Test), (std::vector<std::int64_t>{3, 4, 5}));

    // The same tree zipped in its folder, as Sensorium publishes it: read through the front door,
    // unpacked into a temporary folder that is gone afterwards.
    const fs::path archive = scratch / "static-sensorium.zip";
    zipFolder(root, "static-sensorium/", archive);
    QVERIFY(bp::looksLikeZippedFileTree(archive));
    QCOMPARE(bp::detectDatasetFormat(archive), std::optional(bp::DatasetFormat::NeuralZippedTree));
    const auto before = temporaryUnpackFolders();
    const bp::NeuralDataset zipped = bp::loadNeuralDataset(archive);
    QCOMPARE(temporaryUnpackFolders(), before);
    QCOMPARE(zipped.sourcePath, archive.string());
    QCOMPARE(zipped.name, std::string("static-sensorium"));
    QCOMPARE(zipped.trialCount(), std::int64_t(6));
    QVERIFY(zipped.images == bp::readFileTree(root).images);

    // An entry that would land outside the unpacking folder is refused, and a zip without a tree.
    const fs::path evil = scratch / "evil.zip";
    {
      int error = 0;
      zip_t* zip = zip_open(evil.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &error);
      const std::string text = "x";
      for (const char* name : {"tree/meta/trials/tiers.npy", "tree/../../escaped.npy"})
        zip_file_add(zip, name, zip_source_buffer(zip, text.data(), text.size(), 0), ZIP_FL_ENC_UTF_8);
      QCOMPARE(zip_close(zip), 0);
    }
    try {
      bp::readZippedFileTree(evil);
      QFAIL("an entry outside the folder was unpacked");
    } catch (const bp::FileError& e) {
      QVERIFY2(QString::fromStdString(e.what()).contains("outside"), e.what());
    }
    QVERIFY(!fs::exists(fs::temp_directory_path() / "escaped.npy"));
    const fs::path empty = scratch / "empty.zip";
    zipFolder(root / "data" / "images", "", empty);
    QVERIFY(!bp::looksLikeZippedFileTree(empty));
    QVERIFY_THROWS_EXCEPTION(bp::FileError, bp::readZippedFileTree(empty));
  }

  void recognisesFileTrees() {
    bp::test::ScratchDir scratch;
    QVERIFY(!bp::looksLikeFileTree(scratch.path()));
    QVERIFY(!bp::looksLikeFileTree(scratch / "absent"));
    TreeSpec spec;
    spec.optionalMeta = false;  // no config.json: data/ and meta/trials/tiers.npy suffice
    writeTree(scratch.path(), spec);
    QVERIFY(bp::looksLikeFileTree(scratch.path()));
  }

  void loadsFileTreeWithMissingTrials() {
    bp::test::ScratchDir scratch;
    const fs::path root = scratch / "static-tiny";
    writeTree(root);
    const bp::NeuralDataset dataset = bp::readFileTree(root);

    QCOMPARE(dataset.name, std::string("static-tiny"));
    QCOMPARE(dataset.sourcePath, root.string());
    QCOMPARE(dataset.channels, 1);
    QCOMPARE(dataset.height, 4);
    QCOMPARE(dataset.width, 5);
    QCOMPARE(dataset.neuronCount, std::int64_t{3});
    QCOMPARE(dataset.trialCount(), std::int64_t{4});
    QCOMPARE(dataset.declaredTrialCount(), std::int64_t{6});
    // Missing trials are reported as their trial_idx values, like trialIds.
    QCOMPARE(dataset.missingTrialIds, (std::vector<std::int64_t>{498, 496}));

    const std::vector<int> present = {0, 1, 3, 5};
    QCOMPARE(dataset.trialIds, (std::vector<std::int64_t>{500, 499, 497, 495}));
    QCOMPARE(dataset.imageIds, (std::vector<std::int64_t>{1000, 1000, 1001, 1002}));
    QCOMPARE(dataset.imageClasses, (std::vector<std::string>{"gabor", "imagenet", "imagenet", "imagenet"}));
    QCOMPARE(dataset.tiers, (std::vector<bp::Tier>{bp::Tier::Train, bp::Tier::Train, bp::Tier::Test, bp::Tier::Train}));
    for (std::size_t row = 0; row < present.size(); ++row) {
      const int i = present[row];
      const auto r = static_cast<std::int64_t>(row);
      for (int k = 0; k < kImageSize; ++k) QCOMPARE(dataset.image(r)[k], static_cast<float>(100 * i + k));
      for (int n = 0; n < kNeurons; ++n) QCOMPARE(dataset.response(r)[n], static_cast<float>(10 * i + n));
      QCOMPARE(dataset.behavior[row * 3 + 0], static_cast<float>(i));
      QCOMPARE(dataset.behavior[row * 3 + 1], static_cast<float>(-i));
      QCOMPARE(dataset.behavior[row * 3 + 2], static_cast<float>(2 * i));
      QCOMPARE(dataset.pupilCenter[row * 2 + 0], static_cast<float>(i));
      QCOMPARE(dataset.pupilCenter[row * 2 + 1], static_cast<float>(i + 0.5));
    }
    QVERIFY(dataset.noiseFreeRates.empty());

    QCOMPARE(dataset.neurons.unitIds, (std::vector<std::int64_t>{7, 8, 9}));
    QCOMPARE(dataset.neurons.animalIds, (std::vector<std::int64_t>{20457, 20457, 20457}));
    QCOMPARE(dataset.neurons.sessions, (std::vector<std::int64_t>{5, 5, 5}));
    QCOMPARE(dataset.neurons.scanIdx, (std::vector<std::int64_t>{9, 9, 9}));
    QCOMPARE(dataset.neurons.area, (std::vector<std::string>{"V1", "V1", "LM"}));
    QCOMPARE(dataset.neurons.layer, (std::vector<std::string>{"L2/3", "L2/3", "L4"}));
    QCOMPARE(dataset.neurons.cellMotorCoordinates, (std::vector<double>{1, 2, 3, 4, 5, 6, 7, 8, 9}));

    QCOMPARE(dataset.statistics.size(), std::size_t{2});
    const auto& images = dataset.statistics.at("images");
    QCOMPARE(images.all.at("mean"), std::vector<float>{113.5f});
    QCOMPARE(images.all.at("std"), std::vector<float>{60.25f});
    QVERIFY(images.stimulusFrame.empty());
    const auto& responses = dataset.statistics.at("responses");
    QCOMPARE(responses.all.at("mean"), (std::vector<float>{0.5f, 1, 2}));
    QCOMPARE(responses.stimulusFrame.at("max"), (std::vector<float>{4, 5, 6}));
  }

  void loadsTreeWithoutOptionalKeysOrMetadata() {
    bp::test::ScratchDir scratch;
    TreeSpec spec;
    spec.optionalKeys = false;
    spec.optionalMeta = false;
    writeTree(scratch.path(), spec);
    fs::remove(scratch / "meta" / "neurons" / "unit_ids.npy");  // the first response file gives the count
    const auto dataset = bp::readFileTree(scratch.path());
    QCOMPARE(dataset.neuronCount, std::int64_t{3});
    QVERIFY(dataset.neurons.unitIds.empty());
    QVERIFY(!dataset.hasBehavior());
    QVERIFY(!dataset.hasPupilCenter());
    QVERIFY(dataset.imageClasses.empty());
    // Without trial_idx.npy the file indices are the trial ids.
    QCOMPARE(dataset.trialIds, (std::vector<std::int64_t>{0, 1, 3, 5}));
    QCOMPARE(dataset.missingTrialIds, (std::vector<std::int64_t>{2, 4}));
  }

  void followsConfigLinksToDataFolders() {
    bp::test::ScratchDir scratch;
    writeTree(scratch.path());
    fs::rename(scratch / "data" / "images", scratch / "data" / "frames");
    bp::writeFileAtomically(scratch / "config.json", R"({"links": {"images": "frames"}})");
    const auto dataset = bp::readFileTree(scratch.path());
    QCOMPARE(dataset.trialCount(), std::int64_t{4});
    QCOMPARE(dataset.image(1)[0], 100.0f);
  }

  void readsManyTrialsOnSeveralThreadsInOrder() {
    bp::test::ScratchDir scratch;
    TreeSpec spec;
    spec.declared = 60;  // several grabs of trials per thread (fixture writes are fsync'd, so few)
    spec.optionalKeys = false;
    spec.absent.clear();
    for (int i = 0; i < spec.declared; ++i)
      if (i % 7 == 3) spec.absent.push_back(i);
    writeTree(scratch.path(), spec);
    std::vector<double> fractions;
    const bp::Job job([&](double fraction, const std::string&) { fractions.push_back(fraction); }, nullptr);
    const auto dataset = bp::readFileTree(scratch.path(), job);
    QCOMPARE(dataset.missingTrialIds.size(), spec.absent.size());
    QCOMPARE(dataset.trialCount(), static_cast<std::int64_t>(spec.declared - static_cast<int>(spec.absent.size())));
    for (std::int64_t row = 0; row < dataset.trialCount(); ++row) {
      const std::int64_t i = 500 - dataset.trialIds[static_cast<std::size_t>(row)];
      QCOMPARE(dataset.image(row)[7], static_cast<float>(100 * i + 7));
      QCOMPARE(dataset.response(row)[2], static_cast<float>(10 * i + 2));
    }
    QVERIFY(!fractions.empty());
    QVERIFY(std::is_sorted(fractions.begin(), fractions.end()));
    QCOMPARE(fractions.back(), 1.0);
    QVERIFY(fractions.size() <= 110);  // at most about one report per percent
  }

  void rejectsTruncatedResponseFileNamingIt() {
    bp::test::ScratchDir scratch;
    writeTree(scratch.path());
    const fs::path file = scratch / "data" / "responses" / "3.npy";
    const std::string bytes = bp::test::readBytes(file);
    bp::test::writeBytes(file, bytes.substr(0, bytes.size() - 4));
    expectFileError(scratch.path(), file, "truncated data");
  }

  void rejectsImageOfAnotherShapeNamingIt() {
    bp::test::ScratchDir scratch;
    writeTree(scratch.path());
    const fs::path file = scratch / "data" / "images" / "5.npy";
    bp::writeNpy(file, bp::makeNpy(std::vector<float>(24, 1.0f), {1, 4, 6}));
    expectFileError(scratch.path(), file, "has shape (1, 4, 6)");
  }

  void rejectsResponsesNotMatchingTheNeuronCount() {
    bp::test::ScratchDir scratch;
    writeTree(scratch.path());
    const fs::path file = scratch / "data" / "responses" / "1.npy";
    bp::writeNpy(file, bp::makeNpy(std::vector<double>{1, 2, 3, 4}, {4}));
    expectFileError(scratch.path(), file, "unit_ids.npy lists 3 neurons");
  }

  void rejectsTrialWithOnlySomeOfItsFiles() {
    bp::test::ScratchDir scratch;
    writeTree(scratch.path());
    fs::remove(scratch / "data" / "behavior" / "3.npy");
    expectFileError(scratch.path(), scratch / "data" / "behavior" / "3.npy", "missing, but trial 3 has");
  }

  void rejectsTrialFilesBeyondTheDeclaredTrials() {
    bp::test::ScratchDir scratch;
    writeTree(scratch.path());
    const fs::path file = scratch / "data" / "images" / "6.npy";
    bp::writeNpy(file, bp::makeNpy(std::vector<float>(kImageSize, 0.0f), {1, 4, 5}));
    expectFileError(scratch.path(), file, "beyond the 6 trials");
  }

  void rejectsUnknownTierNamingTiersFile() {
    bp::test::ScratchDir scratch;
    writeTree(scratch.path());
    const fs::path file = scratch / "meta" / "trials" / "tiers.npy";
    bp::writeNpy(file,
                 bp::makeNpy(std::vector<std::string>{"train", "train", "holdout", "test", "test", "train"}, {6}));
    expectFileError(scratch.path(), file, "'holdout'");
  }

  void rejectsNeuronMetadataOfTheWrongLength() {
    bp::test::ScratchDir scratch;
    writeTree(scratch.path());
    const fs::path file = scratch / "meta" / "neurons" / "area.npy";
    bp::writeNpy(file, bp::makeNpy(std::vector<std::string>{"V1", "V1"}, {2}));
    expectFileError(scratch.path(), file, "has shape (2,), expected (3,): one entry per neuron");
  }

  void rejectsPerTrialMetadataOfTheWrongLength() {
    bp::test::ScratchDir scratch;
    writeTree(scratch.path());
    const fs::path file = scratch / "meta" / "trials" / "frame_image_id.npy";
    bp::writeNpy(file, bp::makeNpy(std::vector<std::int64_t>{1, 2, 3}, {3}));
    expectFileError(scratch.path(), file, "expected (6,): one entry per trial");
  }

  void rejectsStringArrayWhereNumbersBelong() {
    bp::test::ScratchDir scratch;
    writeTree(scratch.path());
    const fs::path file = scratch / "data" / "pupil_center" / "0.npy";
    bp::writeNpy(file, bp::makeNpy(std::vector<std::string>{"x", "y"}, {2}));
    expectFileError(scratch.path(), file, "as numbers");
  }

  void rejectsMalformedConfigJson() {
    bp::test::ScratchDir scratch;
    writeTree(scratch.path());
    bp::writeFileAtomically(scratch / "config.json", "{\"links\": ");
    expectFileError(scratch.path(), scratch / "config.json", "not valid JSON");
  }

  void rejectsTreeWithNoTrialData() {
    bp::test::ScratchDir scratch;
    TreeSpec spec;
    spec.absent = {0, 1, 2, 3, 4, 5};
    writeTree(scratch.path(), spec);
    fs::create_directories(scratch / "data" / "images");
    fs::create_directories(scratch / "data" / "responses");
    expectFileError(scratch.path(), scratch / "data", "all 6 trials");
  }

  void cancelsWhenTheTokenIsSet() {
    bp::test::ScratchDir scratch;
    writeTree(scratch.path());
    const auto token = std::make_shared<bp::CancelToken>();
    token->cancel();
    QVERIFY_EXCEPTION_THROWN(bp::readFileTree(scratch.path(), bp::Job(nullptr, token)), bp::CancelledError);
  }

  void cancelsWhileReadingTrials() {
    bp::test::ScratchDir scratch;
    TreeSpec spec;
    spec.declared = 40;
    spec.optionalKeys = false;
    spec.absent.clear();
    writeTree(scratch.path(), spec);
    const auto token = std::make_shared<bp::CancelToken>();
    // Cancel at the first report from the trial-reading phase (after the 0.0 "Reading metadata").
    const bp::Job job(
        [&](double fraction, const std::string&) {
          if (fraction > 0.0) token->cancel();
        },
        token);
    QVERIFY_EXCEPTION_THROWN(bp::readFileTree(scratch.path(), job), bp::CancelledError);
  }

  void passesOnAnErrorFromTheProgressCallback() {
    bp::test::ScratchDir scratch;
    writeTree(scratch.path());
    const bp::Job job(
        [](double fraction, const std::string&) {
          if (fraction > 0.0) throw std::runtime_error("progress sink failed");
        },
        nullptr);
    QVERIFY_EXCEPTION_THROWN(bp::readFileTree(scratch.path(), job), std::runtime_error);
  }
};

BRAINPRIOR_TEST_CLASS(TestFileTree)
#include "test_file_tree.moc"
