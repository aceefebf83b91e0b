// The real Lurz et al. 2021 mouse V1 scan (../shared/data/mouse-v1-lurz2021/static20457-5-9-preproc0)
// read with the file-tree reader. Skips when the shared data folder is absent (a user's machine).
#include <QtTest>

#include <algorithm>
#include <map>
#include <set>
#include <string>

#include "data/file_tree.h"
#include "data/npy.h"
#include "test_registry.h"
#include "test_support.h"

namespace fs = std::filesystem;

namespace {

const char* const kScan = "mouse-v1-lurz2021/static20457-5-9-preproc0";

std::optional<fs::path> scanFolder() {
  const auto shared = bp::test::sharedDataDir();
  if (!shared || !fs::is_directory(*shared / kScan)) return std::nullopt;
  return *shared / kScan;
}

// File indices i of data/<key>/<i>.npy present on disk.
std::set<std::int64_t> trialFilesIn(const fs::path& folder) {
  std::set<std::int64_t> indices;
  for (const auto& entry : fs::directory_iterator(folder))
    if (entry.path().extension() == ".npy") indices.insert(std::stoll(entry.path().stem().string()));
  return indices;
}

}  // namespace

class TestLurzFileTree : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void readsEveryMetadataFileOfTheScan() {
    const auto root = scanFolder();
    if (!root) QSKIP("shared data folder with the Lurz 2021 scan is absent");
    int files = 0;
    for (const auto& entry : fs::recursive_directory_iterator(*root / "meta")) {
      if (entry.path().extension() != ".npy") continue;
      const bp::NpyArray array = bp::readNpy(entry.path());
      if (array.kind == bp::NpyKind::UnicodeString)
        QCOMPARE(static_cast<std::int64_t>(array.toStrings().size()), array.elementCount());
      else
        QCOMPARE(static_cast<std::int64_t>(array.toDouble().size()), array.elementCount());
      ++files;
    }
    QCOMPARE(files, 59);
  }

  void loadsTheScanWithItsMissingTrainTrials() {
    const auto root = scanFolder();
    if (!root) QSKIP("shared data folder with the Lurz 2021 scan is absent");
    QVERIFY(bp::looksLikeFileTree(*root));
    const bp::NeuralDataset dataset = bp::readFileTree(*root);

    QCOMPARE(dataset.name, std::string("static20457-5-9-preproc0"));
    QCOMPARE(dataset.neuronCount, std::int64_t{5335});
    QCOMPARE(dataset.declaredTrialCount(), std::int64_t{5993});
    const auto present = trialFilesIn(*root / "data" / "responses");
    QCOMPARE(dataset.trialCount(), static_cast<std::int64_t>(present.size()));
    QCOMPARE(static_cast<std::int64_t>(dataset.missingTrialIds.size()), 5993 - dataset.trialCount());

    // Tier counts of the present trials, from meta/trials/tiers.npy and the files on disk.
    const auto tierNames = bp::readNpy(*root / "meta" / "trials" / "tiers.npy").toStrings();
    std::map<std::string, std::int64_t> expected;
    for (const auto index : present) ++expected[tierNames[static_cast<std::size_t>(index)]];
    std::map<std::string, std::int64_t> found;
    for (const auto tier : dataset.tiers) ++found[bp::tierName(tier)];
    QCOMPARE(found, expected);
    QVERIFY(found["test"] > 0 && found["validation"] > 0 && found["train"] > 0);
    for (const auto& [name, count] : expected) QVERIFY2(bp::parseTier(name).has_value(), name.c_str());

    QCOMPARE(dataset.channels, 1);
    QCOMPARE(dataset.height, 36);
    QCOMPARE(dataset.width, 64);
    const auto [lowest, highest] = std::minmax_element(dataset.images.begin(), dataset.images.end());
    QVERIFY(*lowest >= 0.0f);
    QVERIFY(*highest <= 255.0f);
    QVERIFY(dataset.hasBehavior());
    QVERIFY(dataset.hasPupilCenter());

    // Values checked with numpy: data/responses/0.npy, data/images/0.npy and meta/trials/*[0].
    QCOMPARE(dataset.trialIds[0], std::int64_t{4821});
    QCOMPARE(dataset.imageIds[0], std::int64_t{1301});
    QCOMPARE(dataset.tiers[0], bp::Tier::Validation);
    QCOMPARE(dataset.response(0)[0], static_cast<float>(1.7835842607392551e-07));
    QCOMPARE(dataset.response(0)[5334], static_cast<float>(4.15758777096865e-09));
    QCOMPARE(dataset.image(0)[0], 76.0f);
    QCOMPARE(dataset.image(0)[36 * 64 - 1], 59.0f);
    QCOMPARE(dataset.imageClasses[0], std::string("imagenet"));

    QCOMPARE(dataset.neurons.unitIds.size(), std::size_t{5335});
    QCOMPARE(dataset.neurons.unitIds[2], std::int64_t{3});
    QCOMPARE(dataset.neurons.area[0], std::string("V1"));
    QCOMPARE(dataset.neurons.layer[0], std::string("L2/3"));
    QCOMPARE(dataset.neurons.cellMotorCoordinates[0], -301.0);
    QCOMPARE(dataset.statistics.size(), std::size_t{4});
    QCOMPARE(dataset.statistics.at("images").all.at("mean"), std::vector<float>{111.30036f});
    QCOMPARE(dataset.statistics.at("responses").stimulusFrame.at("std").size(), std::size_t{5335});
  }
};

BRAINPRIOR_TEST_CLASS(TestLurzFileTree)
#include "test_lurz_file_tree.moc"
