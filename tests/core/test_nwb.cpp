// NWB 2 two-photon files: files laid out as the 2.7.0 specification says (tests/support/nwb_fixture.h),
// read into trial responses whose every value is checked against a brute-force window mean; both
// image links, timestamps and rates, unconventional names, the choice among several series, tiers
// from the trials table or by rule, and the bad files a user meets.
#include <QtTest>
#include <map>
#include <set>
#include <nlohmann/json.hpp>

#include "data/dataset_io.h"
#include "data/nwb.h"
#include "data/static_hdf5.h"
#include "nwb_fixture.h"
#include "runtime/error.h"
#include "test_registry.h"
#include "test_support.h"

namespace {

using bp::FileError;
using bp::NeuralDataset;
using bp::NwbReadOptions;
using bp::Tier;
using bp::test::NwbFixture;

// Every response, image and id of `dataset` against what `fixture` stored.
void compareWithFixture(const NeuralDataset& dataset, const NwbFixture& fixture, const NwbReadOptions& options) {
  const auto presentations = static_cast<std::int64_t>(fixture.shown.size());
  QCOMPARE(dataset.trialCount(), presentations);
  QCOMPARE(dataset.neuronCount, static_cast<std::int64_t>(fixture.rois));
  QCOMPARE(dataset.channels, 1);
  QCOMPARE(dataset.height, fixture.height);
  QCOMPARE(dataset.width, fixture.width);
  for (std::int64_t k = 0; k < presentations; ++k) {
    const int image = fixture.shown[static_cast<std::size_t>(k)];
    for (int roi = 0; roi < fixture.rois; ++roi) {
      const float expected =
          fixture.expectedResponse(static_cast<int>(k), roi, options.windowStart, options.windowLength);
      QVERIFY2(std::abs(dataset.response(k)[roi] - expected) <= 1e-4f * std::max(1.0f, std::abs(expected)),
               qPrintable(QStringLiteral("presentation %1, ROI %2: %3, expected %4")
                              .arg(k)
                              .arg(roi)
                              .arg(dataset.response(k)[roi])
                              .arg(expected)));
    }
    for (int y = 0; y < fixture.height; ++y)
      for (int x = 0; x < fixture.width; ++x)
        QCOMPARE(dataset.image(k)[y * fixture.width + x], fixture.pixel(image, y, x));
  }
  // Repeats share an id; different images do not.
  for (std::int64_t a = 0; a < presentations; ++a)
    for (std::int64_t b = 0; b < presentations; ++b)
      QCOMPARE(dataset.imageIds[static_cast<std::size_t>(a)] == dataset.imageIds[static_cast<std::size_t>(b)],
               fixture.shown[static_cast<std::size_t>(a)] == fixture.shown[static_cast<std::size_t>(b)]);
  QCOMPARE(dataset.neurons.unitIds, (std::vector<std::int64_t>{102, 100, 103}));
  QCOMPARE(dataset.neurons.area, std::vector<std::string>(3, "VISp"));
}

void expectFileError(const std::filesystem::path& file, const NwbReadOptions& options,
                     const std::vector<std::string>& fragments) {
  try {
    bp::readNwb(file, options);
    QFAIL("readNwb accepted a bad file");
  } catch (const FileError& e) {
    QCOMPARE(e.path(), file.string());
    for (const auto& fragment : fragments)
      QVERIFY2(e.problem().find(fragment) != std::string::npos, e.what());
  }
}

}  // namespace

class NwbTest : public QObject {
  Q_OBJECT

 private slots:
  void readsIndexedImagesTimedByRate() {
    bp::test::ScratchDir scratch;
    const NwbFixture fixture;
    const auto file = scratch / "session.nwb";
    fixture.write(file);
    QVERIFY(bp::looksLikeNwb(file));
    const NwbReadOptions options;
    const auto dataset = bp::readNwb(file, options);
    compareWithFixture(dataset, fixture, options);
    QCOMPARE(dataset.name, std::string("session"));
    QCOMPARE(dataset.sourcePath, file.string());
    // Tiers from the trials table's tier column.
    for (std::size_t k = 0; k < fixture.shown.size(); ++k)
      QCOMPARE(bp::tierName(dataset.tiers[k]), NwbFixture::tableTier(k, fixture.shown[k]));
  }

  void aWindowAfterOnsetAveragesOnlyItsSamples() {
    bp::test::ScratchDir scratch;
    const NwbFixture fixture;
    const auto file = scratch / "session.nwb";
    fixture.write(file);
    NwbReadOptions late;
    late.windowStart = 0.3;
    late.windowLength = 0.15;
    const auto dataset = bp::readNwb(file, late);
    compareWithFixture(dataset, fixture, late);
    // Only the 3x part: ROI 1 shown image 0 holds 3 (stored) -> 3 * 2 + 0.5.
    QCOMPARE(dataset.response(0)[1], 6.5f);
  }

  void readsTheOlderIndexedTimeseriesWithTimestampsAndUnconventionalNames() {
    bp::test::ScratchDir scratch;
    NwbFixture fixture;
    fixture.conventionalNames = false;
    fixture.timestamps = true;
    fixture.indexedTimeseries = true;
    fixture.trialsTable = false;
    const auto file = scratch / "renamed.nwb";
    fixture.write(file);
    const NwbReadOptions options;
    const auto dataset = bp::readNwb(file, options);
    compareWithFixture(dataset, fixture, options);
    // No tier column: images shown more than once (0 and 2) are the test tier.
    for (std::size_t k = 0; k < fixture.shown.size(); ++k)
      QCOMPARE(dataset.tiers[k] == Tier::Test, fixture.shown[k] == 0 || fixture.shown[k] == 2);
    QVERIFY(!dataset.trialsOf(Tier::Train).empty());
  }

  void tiersFollowTheStatedRuleWhenTheFileHasNone() {
    bp::test::ScratchDir scratch;
    NwbFixture fixture;
    fixture.trialsTable = false;
    fixture.images = 10;
    fixture.shown.clear();
    for (int repeat = 0; repeat < 2; ++repeat)
      for (int image = 0; image < fixture.images; ++image) fixture.shown.push_back(image);
    const auto file = scratch / "repeated.nwb";
    fixture.write(file);
    const auto dataset = bp::readNwb(file);
    // Every image was shown twice: a fifth of them (2) are the test tier, a tenth of the rest (1) validation.
    std::map<Tier, std::set<std::int64_t>> imagesOf;
    for (std::int64_t k = 0; k < dataset.trialCount(); ++k)
      imagesOf[dataset.tiers[static_cast<std::size_t>(k)]].insert(dataset.imageIds[static_cast<std::size_t>(k)]);
    QCOMPARE(imagesOf[Tier::Test].size(), std::size_t(2));
    QCOMPARE(imagesOf[Tier::Validation].size(), std::size_t(1));
    QCOMPARE(imagesOf[Tier::Train].size(), std::size_t(7));
  }

  void readsAnImageSeriesOfFramesAndGroupsIdenticalFrames() {
    bp::test::ScratchDir scratch;
    NwbFixture fixture;
    fixture.imageSeriesShown = true;
    const auto file = scratch / "frames.nwb";
    fixture.write(file);
    const NwbReadOptions options;
    compareWithFixture(bp::readNwb(file, options), fixture, options);
  }

  void readsTheTrialsTableAsPresentations() {
    bp::test::ScratchDir scratch;
    NwbFixture fixture;
    const auto file = scratch / "trials.nwb";
    fixture.write(file);
    NwbReadOptions options;
    options.presentations = "/intervals/trials";
    const auto contents = bp::listNwbContents(file);
    QCOMPARE(contents.presentations.size(), std::size_t(2));
    compareWithFixture(bp::readNwb(file, options), fixture, options);
    options.imageColumn = "picture";
    expectFileError(file, options, {"/intervals/trials", "natural_scenes"});
  }

  void severalSeriesAreListedAndOneIsChosen() {
    bp::test::ScratchDir scratch;
    NwbFixture fixture;
    fixture.fluorescenceToo = true;
    const auto file = scratch / "two.nwb";
    fixture.write(file);
    const auto contents = bp::listNwbContents(file);
    QCOMPARE(contents.roiSeries.size(), std::size_t(2));
    std::map<std::string, std::string> descriptions;
    for (const auto& choice : contents.roiSeries) descriptions[choice.path] = choice.description;
    QVERIFY(descriptions.at(fixture.roiSeriesPath()).find("DfOverF") != std::string::npos);
    QVERIFY(descriptions.at(fixture.fluorescencePath()).find("Fluorescence") != std::string::npos);
    QVERIFY(descriptions.at(fixture.fluorescencePath()).find("3 ROIs") != std::string::npos);

    expectFileError(file, {}, {"several", fixture.roiSeriesPath(), fixture.fluorescencePath()});
    NwbReadOptions options;
    options.roiSeries = fixture.roiSeriesPath();
    compareWithFixture(bp::readNwb(file, options), fixture, options);
    options.roiSeries = fixture.fluorescencePath();
    const auto fluorescence = bp::readNwb(file, options);
    // Its traces are seven times the DfOverF ones, before conversion and offset.
    const float converted = fixture.expectedResponse(0, 1, 0.0, 0.5) - 0.5f;
    QVERIFY(std::abs(fluorescence.response(0)[1] - (7.0f * converted + 0.5f)) < 1e-4f);
    options.roiSeries = "/processing/ophys/nothing";
    expectFileError(file, options, {"no ROI traces", "nothing", fixture.fluorescencePath()});
  }

  void opensThroughTheFrontDoorAndConvertsExactly() {
    bp::test::ScratchDir scratch;
    const NwbFixture fixture;
    const auto file = scratch / "session.nwb";
    fixture.write(file);
    QCOMPARE(bp::detectDatasetFormat(file), std::optional(bp::DatasetFormat::NeuralNwb));
    QVERIFY(bp::isNeuralFormat(bp::DatasetFormat::NeuralNwb));
    NwbReadOptions options;
    options.windowLength = 0.25;
    const auto dataset = bp::loadNeuralDataset(file, {}, options);
    compareWithFixture(dataset, fixture, options);
    // A static HDF5 file is not NWB.
    bp::writeStaticHdf5(dataset, scratch / "static.h5");
    QCOMPARE(bp::detectDatasetFormat(scratch / "static.h5"), std::optional(bp::DatasetFormat::NeuralStaticHdf5));
    QVERIFY(!bp::looksLikeNwb(scratch / "static.h5"));
    QVERIFY_THROWS_EXCEPTION(FileError, bp::readNwb(scratch / "static.h5"));
  }

  void optionsRoundTripThroughJsonAndBadOnesAreNamed() {
    NwbReadOptions options;
    options.roiSeries = "/processing/ophys/DfOverF/RoiResponseSeries";
    options.presentations = "/intervals/trials";
    options.imageColumn = "frame";
    options.windowStart = 0.1;
    options.windowLength = 0.75;
    QVERIFY(bp::nwbReadOptionsFromJson(bp::toJson(options)) == options);
    QVERIFY(bp::nwbReadOptionsFromJson(nlohmann::json::object()) == NwbReadOptions());
    for (const auto& bad : {nlohmann::json{{"window_length", 0}}, nlohmann::json{{"window_length", -1}},
                            nlohmann::json{{"window", 1}}, nlohmann::json{{"roi_series", 3}}}) {
      try {
        bp::nwbReadOptionsFromJson(bad);
        QFAIL(qPrintable(QString::fromStdString("accepted " + bad.dump())));
      } catch (const bp::Error& e) {
        QVERIFY2(std::string(e.what()).find(bad.begin().key()) != std::string::npos, e.what());
      }
    }
  }

  void badFilesGetClearErrors() {
    bp::test::ScratchDir scratch;
    {  // Presentations after the recording ends.
      NwbFixture fixture;
      fixture.shown = {0, 1, 2, 3};
      const auto file = scratch / "late.nwb";
      fixture.write(file);
      NwbReadOptions options;
      options.windowStart = 5.0;
      expectFileError(file, options, {"presentation 0", "outside the traces", "cover"});
      options.windowStart = -2.0;
      expectFileError(file, options, {"outside the traces"});
    }
    {  // rois that name more ROIs than the data has.
      NwbFixture fixture;
      fixture.roiRows = {2, 0, 3, 1};
      const auto file = scratch / "rois.nwb";
      fixture.write(file);
      expectFileError(file, {}, {"names 4 ROIs", "3 columns"});
    }
    {  // rois pointing past the PlaneSegmentation.
      NwbFixture fixture;
      fixture.roiRows = {2, 0, 9};
      const auto file = scratch / "rows.nwb";
      fixture.write(file);
      expectFileError(file, {}, {"row 9", "4 rows"});
    }
    {  // An index beyond the templates.
      NwbFixture fixture;
      fixture.images = 3;
      const auto file = scratch / "index.nwb";
      fixture.write(file);
      expectFileError(file, {}, {"image 3", "holds 3 images"});
    }
    {  // No ROI traces at all.
      const auto file = scratch / "empty.nwb";
      auto h5 = bp::Hdf5File::create(file);
      h5.writeStringAttribute("/", "nwb_version", "2.7.0");
      h5.createGroup("/processing/ophys");
      h5.close();
      expectFileError(file, {}, {"no ROI traces"});
      QCOMPARE(bp::listNwbContents(file).roiSeries.size(), std::size_t(0));
    }
    {  // Not HDF5, and not there.
      const auto file = scratch / "text.nwb";
      bp::test::writeBytes(file, "not an HDF5 file");
      expectFileError(file, {}, {"not an HDF5 file"});
      QVERIFY(!bp::looksLikeNwb(file));
      expectFileError(scratch / "absent.nwb", {}, {"does not exist"});
    }
    {  // A window of no length.
      const NwbFixture fixture;
      const auto file = scratch / "window.nwb";
      fixture.write(file);
      NwbReadOptions options;
      options.windowLength = 0;
      expectFileError(file, options, {"positive length"});
    }
  }
};

BRAINPRIOR_TEST_CLASS(NwbTest)
#include "test_nwb.moc"
