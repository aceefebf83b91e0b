// Similarity matrix files: round trips, block and downsampled reads, CSV export, broken files.
#include <QProcess>
#include <QtTest>

#include <cmath>
#include <fstream>
#include <functional>
#include <memory>
#include <random>
#include <sstream>
#include <vector>

#include "data/hdf5_file.h"
#include "rsa/matrix_file.h"
#include "rsa/similarity.h"
#include "runtime/error.h"
#include "test_registry.h"
#include "test_support.h"

using namespace bp;

namespace {

FeatureMatrix randomFeatures(std::int64_t rows, std::int64_t cols, unsigned seed) {
  std::mt19937 generator(seed);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  FeatureMatrix features;
  features.rows = rows;
  features.cols = cols;
  features.values.resize(static_cast<std::size_t>(rows * cols));
  for (auto& v : features.values) v = uniform(generator);
  for (std::int64_t r = 0; r < rows; ++r) features.imageIds.push_back(1000 + 3 * r);
  features.source = "random";
  return features;
}

SimilarityMatrix randomMatrix(std::int64_t size, unsigned seed) {
  auto features = randomFeatures(size, 6, seed);
  for (std::int64_t r = 0; r < size; ++r) features.labels.push_back(r % 2 ? "odd image" : "even image");
  SimilarityConfig config;
  config.measure = SimilarityMeasure::Pearson;
  config.unitWeights = {1, 0.5f, 2, 1, 1, 3};
  config.blockSize = 64;
  return computeSimilarity(features, config);
}

// Mean of s over rows [r0, r1) x columns [c0, c1), in double.
double blockMean(const SimilarityMatrix& s, std::int64_t r0, std::int64_t r1, std::int64_t c0, std::int64_t c1) {
  double sum = 0.0;
  for (std::int64_t i = r0; i < r1; ++i)
    for (std::int64_t j = c0; j < c1; ++j) sum += s.at(i, j);
  return sum / static_cast<double>((r1 - r0) * (c1 - c0));
}

void expectFileError(const std::function<void()>& call, const std::filesystem::path& file,
                     const std::string& fragment) {
  try {
    call();
    QFAIL("no FileError");
  } catch (const FileError& e) {
    QCOMPARE(e.path(), file.string());
    QVERIFY2(e.problem().find(fragment) != std::string::npos, e.what());
  }
}

}  // namespace

class MatrixFileTest : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void roundTripKeepsValuesAndMetadata() {
    bp::test::ScratchDir scratch;
    const auto file = scratch / "matrix.h5";
    const auto matrix = randomMatrix(300, 1);
    writeSimilarityMatrix(matrix, file);
    const auto back = readSimilarityMatrix(file);
    QCOMPARE(back.size, matrix.size);
    QCOMPARE(back.values, matrix.values);
    QCOMPARE(back.imageIds, matrix.imageIds);
    QCOMPARE(back.labels, matrix.labels);
    QCOMPARE(toJson(back.config), toJson(matrix.config));
    QCOMPARE(back.provenance, matrix.provenance);

    const auto opened = SimilarityMatrixFile::open(file);
    QCOMPARE(opened.size(), std::int64_t(300));
    QCOMPARE(opened.path(), file);
    QCOMPARE(opened.config().measure, SimilarityMeasure::Pearson);
    QCOMPARE(opened.imageIds().front(), std::int64_t(1000));
    QCOMPARE(opened.labels().back(), std::string("odd image"));
    QCOMPARE(opened.provenance()["features"]["source"].get<std::string>(), std::string("random"));
  }

  void rsatoolboxFilesHoldTheUpperTriangleAsDissimilarities() {
    bp::test::ScratchDir scratch;
    const auto file = scratch / "rdm.hdf5";
    const auto matrix = randomMatrix(40, 3);  // Pearson similarities, weighted units, labels
    writeRsatoolboxFile(matrix, file);
    QVERIFY(isRsatoolboxFile(file));
    QVERIFY(!isSimilarityMatrixFile(file));
    QVERIFY(!isRsatoolboxFile(scratch / "absent.hdf5"));

    // The layout rsatoolbox's RDMs.save writes: one RDM, its upper triangle row by row, as 1 - r.
    const auto h5 = Hdf5File::openForReading(file);
    QCOMPARE(h5.readStringAttribute("/", "rsatoolbox_version"), std::string("0.0.1"));
    QCOMPARE(h5.readStringAttribute("/", "dissimilarity_measure"), std::string("correlation over weighted units"));
    QCOMPARE(h5.shape("dissimilarities"), (Hdf5Shape{1, 40 * 39 / 2}));
    const auto vector = h5.readDataset<double>("dissimilarities");
    std::size_t k = 0;
    for (std::int64_t i = 0; i < 40; ++i)
      for (std::int64_t j = i + 1; j < 40; ++j, ++k) QCOMPARE(vector[k], 1.0 - static_cast<double>(matrix.at(i, j)));
    QCOMPARE(h5.readDataset<std::int64_t>("pattern_descriptors/image_id"), matrix.imageIds);
    QCOMPARE(h5.readStrings("pattern_descriptors/label"), matrix.labels);
    QCOMPARE(h5.readDataset<std::int64_t>("rdm_descriptors/index"), std::vector<std::int64_t>{0});

    // Read back (directly, and through the matrix reader every command uses) as a Pearson dissimilarity.
    for (const auto& back : {readRsatoolboxFile(file), readSimilarityMatrix(file)}) {
      QCOMPARE(back.size, matrix.size);
      QCOMPARE(back.config.measure, SimilarityMeasure::Pearson);
      QVERIFY(back.config.dissimilarity);
      QCOMPARE(back.config.unitWeights, matrix.config.unitWeights);
      for (std::int64_t i = 0; i < 40; ++i)
        for (std::int64_t j = 0; j < 40; ++j)
          QCOMPARE(back.at(i, j), i == j ? 0.0f : static_cast<float>(1.0 - static_cast<double>(matrix.at(i, j))));
      QCOMPARE(back.imageIds, matrix.imageIds);
      QCOMPARE(back.labels, matrix.labels);
      QCOMPARE(back.provenance["rsatoolbox"]["dissimilarity_measure"].get<std::string>(),
               std::string("correlation over weighted units"));
    }
  }

  void rsatoolboxFilesWrittenByRsatoolboxOpen() {
    bp::test::ScratchDir scratch;
    const auto file = scratch / "from-python.hdf5";
    {  // As rsatoolbox writes two 4-image RDMs with a pattern descriptor of its own and no image ids.
      auto h5 = Hdf5File::create(file);
      h5.writeStringAttribute("/", "rsatoolbox_version", "0.0.1");
      h5.writeStringAttribute("/", "dissimilarity_measure", "crossnobis");
      h5.writeDataset<double>("dissimilarities", {1, 2, 3, 4, 5, 6, 10, 20, 30, 40, 50, 60}, {2, 6});
      h5.createGroup("descriptors");
      h5.writeDataset<std::int64_t>("rdm_descriptors/index", {0, 1}, {2});
      h5.writeDataset<std::int64_t>("pattern_descriptors/index", {0, 1, 2, 3}, {4});
      h5.writeStrings("pattern_descriptors/conds", {"a", "b", "c", "d"});
      h5.close();
    }
    const auto second = readRsatoolboxFile(file, 1);
    QCOMPARE(second.size, std::int64_t(4));
    // Pairs (0,1) (0,2) (0,3) (1,2) (1,3) (2,3).
    QCOMPARE(second.at(0, 1), 10.0f);
    QCOMPARE(second.at(3, 0), 30.0f);
    QCOMPARE(second.at(1, 2), 40.0f);
    QCOMPARE(second.at(3, 2), 60.0f);
    QCOMPARE(second.at(2, 2), 0.0f);
    QCOMPARE(second.imageIds, (std::vector<std::int64_t>{0, 1, 2, 3}));
    QVERIFY(second.labels.empty());
    QVERIFY(isDissimilarity(second.config));
    QCOMPARE(second.provenance["rsatoolbox"]["dissimilarity_measure"].get<std::string>(), std::string("crossnobis"));
    QCOMPARE(readSimilarityMatrix(file).at(0, 1), 1.0f);  // the first RDM

    expectFileError([&] { readRsatoolboxFile(file, 2); }, file, "has 2 RDMs");
    const auto notTriangle = scratch / "five.hdf5";
    {
      auto h5 = Hdf5File::create(notTriangle);
      h5.writeStringAttribute("/", "rsatoolbox_version", "0.0.1");
      h5.writeDataset<double>("dissimilarities", {1, 2, 3, 4, 5}, {1, 5});
      h5.close();
    }
    expectFileError([&] { readRsatoolboxFile(notTriangle); }, notTriangle, "no upper triangle");
    expectFileError([&] { readRsatoolboxFile(scratch / "matrix-less.h5"); }, scratch / "matrix-less.h5", "");
  }

  void rsatoolboxFilesReadInPythonAsRsatoolboxReadsThem() {
    // rsatoolbox is not packaged in Debian: its reader (h5py: the root attribute and the vector,
    // squared with the upper-triangle indices) is what this checks, with Debian's python3-h5py.
    QProcess probe;
    probe.start("/usr/bin/python3", {"-c", "import h5py, numpy"});
    if (!probe.waitForFinished(60000) || probe.exitCode() != 0) QSKIP("no /usr/bin/python3 with h5py and numpy");
    bp::test::ScratchDir scratch;
    const auto file = scratch / "rdm.hdf5";
    auto matrix = randomMatrix(12, 4);
    matrix.config.unitWeights.clear();
    writeRsatoolboxFile(matrix, file);
    const QString script = QStringLiteral(
        "import sys, h5py, numpy as np\n"
        "f = h5py.File(sys.argv[1], 'r')\n"
        "v = np.array(f['dissimilarities'])\n"
        "n = int(round((1 + np.sqrt(1 + 8 * v.shape[1])) / 2))\n"
        "m = np.zeros((n, n)); m[np.triu_indices(n, k=1)] = v[0]; m = m + m.T\n"
        "ids = np.array(f['pattern_descriptors/image_id'])\n"
        "labels = np.array(f['pattern_descriptors/label']).astype('U')\n"
        "print(f.attrs['dissimilarity_measure'], n, ids[3], labels[3], repr(float(m[2, 7])))\n");
    QProcess python;
    python.start("/usr/bin/python3", {"-c", script, QString::fromStdString(file.string())});
    QVERIFY(python.waitForFinished(60000));
    const QStringList printed = QString::fromUtf8(python.readAllStandardOutput()).trimmed().split(' ');
    QVERIFY2(python.exitCode() == 0, python.readAllStandardError().constData());
    QCOMPARE(printed.value(0), QStringLiteral("correlation"));
    QCOMPARE(printed.value(1).toInt(), 12);
    QCOMPARE(printed.value(2).toLongLong(), static_cast<qlonglong>(matrix.imageIds[3]));
    QCOMPARE(printed.value(4), QStringLiteral("image"));  // "odd image" split at its space
    QCOMPARE(printed.value(5).toDouble(), 1.0 - static_cast<double>(matrix.at(2, 7)));
  }

  void matrixWithoutLabelsRoundTrips() {
    bp::test::ScratchDir scratch;
    const auto file = scratch / "unlabelled.h5";
    auto matrix = randomMatrix(5, 2);
    matrix.labels.clear();
    writeSimilarityMatrix(matrix, file);
    QVERIFY(readSimilarityMatrix(file).labels.empty());
  }

  void readBlockMatchesTheMatrixAcrossChunks() {
    bp::test::ScratchDir scratch;
    const auto file = scratch / "matrix.h5";
    const auto matrix = randomMatrix(300, 3);
    writeSimilarityMatrix(matrix, file);
    const auto opened = SimilarityMatrixFile::open(file);
    // 40 x 50 at (17, 250): crosses the chunk boundary at column 256 and ends at the edge.
    const auto block = opened.readBlock(17, 250, 40, 50);
    QCOMPARE(block.size(), std::size_t(2000));
    for (std::int64_t i = 0; i < 40; ++i)
      for (std::int64_t j = 0; j < 50; ++j)
        QCOMPARE(block[static_cast<std::size_t>(i * 50 + j)], matrix.at(17 + i, 250 + j));
    expectFileError([&] { opened.readBlock(290, 0, 11, 1); }, file, "outside the 300 x 300 matrix");
  }

  void readDownsampledGivesBlockMeans() {
    bp::test::ScratchDir scratch;
    const auto file = scratch / "matrix.h5";
    // 1100 images: more than one 1024 x 1024 read tile in each direction.
    const auto matrix = randomMatrix(1100, 4);
    writeSimilarityMatrix(matrix, file);
    const auto opened = SimilarityMatrixFile::open(file);
    // maxSide 7 -> factor ceil(1100 / 7) = 158, side ceil(1100 / 158) = 7, last bin 1100 - 6 * 158 = 152 wide.
    std::int64_t side = 0;
    const auto small = opened.readDownsampled(7, &side);
    QCOMPARE(side, std::int64_t(7));
    QCOMPARE(small.size(), std::size_t(49));
    for (std::int64_t a = 0; a < 7; ++a)
      for (std::int64_t b = 0; b < 7; ++b) {
        const double expected = blockMean(matrix, a * 158, std::min<std::int64_t>(1100, (a + 1) * 158), b * 158,
                                          std::min<std::int64_t>(1100, (b + 1) * 158));
        QVERIFY2(std::abs(small[static_cast<std::size_t>(a * 7 + b)] - expected) < 1e-6,
                 qPrintable(QString("cell %1,%2").arg(a).arg(b)));
      }
    // No shrinking needed: the matrix itself.
    const auto whole = opened.readDownsampled(5000, &side);
    QCOMPARE(side, std::int64_t(1100));
    QCOMPARE(whole, matrix.values);
  }

  void refusesToReadHugeMatricesWhole() {
    bp::test::ScratchDir scratch;
    const auto file = scratch / "matrix.h5";
    writeSimilarityMatrix(randomMatrix(37, 5), file);
    expectFileError([&] { readSimilarityMatrix(file, {}, 36); }, file, "read it by blocks");
    QCOMPARE(readSimilarityMatrix(file, {}, 37).size, std::int64_t(37));
  }

  void csvExportOpensAndParses() {
    bp::test::ScratchDir scratch;
    const auto file = scratch / "matrix.csv";
    const auto matrix = randomMatrix(9, 6);
    exportSimilarityCsv(matrix, file);
    std::ifstream in(file);
    std::string line;
    std::vector<std::vector<std::string>> cells;
    while (std::getline(in, line)) {
      std::vector<std::string> row;
      std::stringstream stream(line);
      std::string cell;
      while (std::getline(stream, cell, ',')) row.push_back(cell);
      cells.push_back(row);
    }
    QCOMPARE(cells.size(), std::size_t(10));
    QCOMPARE(cells[0].size(), std::size_t(10));
    QCOMPARE(cells[0][0], std::string("image_id"));
    for (std::int64_t j = 0; j < 9; ++j)
      QCOMPARE(std::stoll(cells[0][static_cast<std::size_t>(j + 1)]), matrix.imageIds[static_cast<std::size_t>(j)]);
    for (std::int64_t i = 0; i < 9; ++i) {
      const auto& row = cells[static_cast<std::size_t>(i + 1)];
      QCOMPARE(row.size(), std::size_t(10));
      QCOMPARE(std::stoll(row[0]), matrix.imageIds[static_cast<std::size_t>(i)]);
      // Shortest round-trip form: every value reads back exactly.
      for (std::int64_t j = 0; j < 9; ++j) QCOMPARE(std::stof(row[static_cast<std::size_t>(j + 1)]), matrix.at(i, j));
    }
  }

  void brokenFilesNameTheFile() {
    bp::test::ScratchDir scratch;
    const auto file = scratch / "truncated.h5";
    writeSimilarityMatrix(randomMatrix(300, 7), file);
    const auto bytes = bp::test::readBytes(file);
    bp::test::writeBytes(file, bytes.substr(0, bytes.size() / 2));
    expectFileError([&] { SimilarityMatrixFile::open(file); }, file, "");
    expectFileError([&] { readSimilarityMatrix(file); }, file, "");

    const auto text = scratch / "text.h5";
    bp::test::writeBytes(text, "not hdf5 at all");
    expectFileError([&] { readSimilarityMatrix(text); }, text, "HDF5");

    const auto rectangular = scratch / "rectangular.h5";
    {
      auto h5 = Hdf5File::create(rectangular);
      h5.writeDataset<float>("similarity", std::vector<float>(12, 0.0f), {3, 4});
      h5.close();
    }
    expectFileError([&] { readSimilarityMatrix(rectangular); }, rectangular, "square matrix, found shape (3, 4)");

    const auto noMetadata = scratch / "no-metadata.h5";
    {
      auto h5 = Hdf5File::create(noMetadata);
      h5.writeDataset<float>("similarity", std::vector<float>(4, 0.0f), {2, 2});
      h5.close();
    }
    expectFileError([&] { readSimilarityMatrix(noMetadata); }, noMetadata, "no 'metadata' dataset");

    const auto wrongIds = scratch / "wrong-ids.h5";
    {
      auto h5 = Hdf5File::create(wrongIds);
      h5.writeDataset<float>("similarity", std::vector<float>(4, 0.0f), {2, 2});
      h5.writeDataset<std::int64_t>("image_ids", {1, 2, 3}, {3});
      h5.writeStrings("metadata", {R"({"format": "brainprior-similarity-matrix", "format_version": 1})"});
      h5.close();
    }
    expectFileError([&] { readSimilarityMatrix(wrongIds); }, wrongIds, "'image_ids' holds 3 ids for 2 images");
  }

  void refusesFutureFormatVersions() {
    bp::test::ScratchDir scratch;
    const auto file = scratch / "future.h5";
    {
      auto h5 = Hdf5File::create(file);
      h5.writeDataset<float>("similarity", std::vector<float>(4, 0.0f), {2, 2});
      h5.writeDataset<std::int64_t>("image_ids", {1, 2}, {2});
      h5.writeStrings("metadata", {R"({"format": "brainprior-similarity-matrix", "format_version": 2})"});
      h5.close();
    }
    expectFileError([&] { readSimilarityMatrix(file); }, file, "format version 2");
  }

  void failedWritesLeaveNoFile() {
    bp::test::ScratchDir scratch;
    const auto file = scratch / "matrix.h5";
    auto inconsistent = randomMatrix(5, 9);
    inconsistent.values.pop_back();
    QVERIFY_EXCEPTION_THROWN(writeSimilarityMatrix(inconsistent, file), Error);
    const auto token = std::make_shared<CancelToken>();
    token->cancel();
    QVERIFY_EXCEPTION_THROWN(writeSimilarityMatrix(randomMatrix(5, 9), file, Job({}, token)), CancelledError);
    QVERIFY(std::filesystem::is_empty(scratch.path()));
  }

  void hdf5BlocksRoundTripThroughTiledChunks() {
    // The wrapper's tile API that matrix files rely on.
    bp::test::ScratchDir scratch;
    const auto file = scratch / "tiles.h5";
    auto h5 = Hdf5File::create(file);
    Hdf5DatasetOptions options;
    options.chunkShape = {4, 4};
    h5.createDataset<float>("tiles", {6, 10}, options);
    std::vector<float> all(60);
    for (int i = 0; i < 60; ++i) all[static_cast<std::size_t>(i)] = static_cast<float>(i);
    h5.writeBlock<float>("tiles", {0, 0}, {6, 10}, all.data());
    const std::vector<float> patch = {-1, -2, -3, -4, -5, -6};
    h5.writeBlock<float>("tiles", {3, 7}, {2, 3}, patch.data());
    std::vector<float> read(6);
    h5.readBlock<float>("tiles", {3, 7}, {2, 3}, read.data());
    QCOMPARE(read, patch);
    std::vector<float> row(10);
    h5.readRows<float>("tiles", 4, 1, row.data());
    QCOMPARE(row, (std::vector<float>{40, 41, 42, 43, 44, 45, 46, -4, -5, -6}));
    expectFileError(
        [&] {
          h5.readBlock<float>("tiles", {5, 8}, {2, 2}, read.data());
        },
        file, "block at (5, 8) of size (2, 2) is outside its shape");
    expectFileError(
        [&] {
          h5.createDataset<float>("bad", {6, 10}, Hdf5DatasetOptions{0, 0, {4}});
        },
        file, "chunk shape (4,) does not match shape (6, 10)");
  }
};

BRAINPRIOR_TEST_CLASS(MatrixFileTest)
#include "test_matrix_file.moc"
