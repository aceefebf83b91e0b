// The similarity kernel against hand-computed matrices, its invariances, and the features it reads.
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <numeric>
#include <random>
#include <vector>

#include "data/hdf5_file.h"
#include "data/npy.h"
#include "hand_made_dataset.h"
#include "rsa/features.h"
#include "rsa/matrix_file.h"
#include "rsa/similarity.h"
#include "rsa/similarity_distribution.h"
#include "runtime/error.h"
#include "test_registry.h"
#include "test_support.h"

using namespace bp;

namespace {

FeatureMatrix makeFeatures(std::int64_t rows, std::int64_t cols, std::vector<float> values) {
  FeatureMatrix features;
  features.rows = rows;
  features.cols = cols;
  features.values = std::move(values);
  for (std::int64_t r = 0; r < rows; ++r) features.imageIds.push_back(100 + r);
  features.source = "hand-made";
  return features;
}

FeatureMatrix randomFeatures(std::int64_t rows, std::int64_t cols, unsigned seed) {
  std::mt19937 generator(seed);
  std::uniform_real_distribution<float> uniform(-1.0f, 3.0f);
  std::vector<float> values(static_cast<std::size_t>(rows * cols));
  for (auto& v : values) v = uniform(generator);
  return makeFeatures(rows, cols, std::move(values));
}

SimilarityConfig configFor(SimilarityMeasure measure, bool dissimilarity = false, std::int64_t blockSize = 2048) {
  SimilarityConfig config;
  config.measure = measure;
  config.dissimilarity = dissimilarity;
  config.blockSize = blockSize;
  return config;
}

double maxDifference(const SimilarityMatrix& a, const SimilarityMatrix& b) {
  if (a.values.size() != b.values.size()) return INFINITY;
  double worst = 0.0;
  for (std::size_t i = 0; i < a.values.size(); ++i)
    worst = std::max(worst, static_cast<double>(std::abs(a.values[i] - b.values[i])));
  return worst;
}

#define QVERIFY_NEAR(actual, expected, tolerance)                                                \
  QVERIFY2(std::abs(static_cast<double>(actual) - static_cast<double>(expected)) <= (tolerance), \
           qPrintable(QString("%1 = %2, expected %3")                                            \
                          .arg(#actual)                                                          \
                          .arg(static_cast<double>(actual), 0, 'g', 9)                           \
                          .arg(static_cast<double>(expected), 0, 'g', 9)))

#define QVERIFY_MATRICES_NEAR(a, b, tolerance)     \
  QVERIFY2(maxDifference((a), (b)) <= (tolerance), \
           qPrintable(QString("max difference %1").arg(maxDifference((a), (b)))))

const std::vector<SimilarityMeasure> kMeasures = {SimilarityMeasure::CentredCosine, SimilarityMeasure::Pearson,
                                                  SimilarityMeasure::Euclidean};

using bp::test::HandMadeTrial;
using bp::test::makeHandMadeDataset;


// Image 7 (test) shown 3 times, image 5 (test) twice, image 9 (train) once; trials interleaved.
NeuralDataset interleavedRecording() {
  return makeHandMadeDataset({{7, Tier::Test, {1, 10}, "cat"},
                      {5, Tier::Test, {2, 20}, "dog"},
                      {9, Tier::Train, {3, 30}, "owl"},
                      {7, Tier::Test, {4, 40}, "cat"},
                      {5, Tier::Test, {6, 60}, "dog"},
                      {7, Tier::Test, {7, 70}, "cat"}});
}

}  // namespace

class SimilarityTest : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void centredCosineMatchesHandComputation() {
    // X = [1 0; 0 1; 2 2]. Unit means (1, 1) -> centred rows (0,-1), (-1,0), (1,1) with norms 1, 1, sqrt2.
    // s01 = 0, s02 = -1/sqrt2, s12 = -1/sqrt2.
    const auto s = computeSimilarity(makeFeatures(3, 2, {1, 0, 0, 1, 2, 2}));
    QCOMPARE(s.size, std::int64_t(3));
    for (int i = 0; i < 3; ++i) QCOMPARE(s.at(i, i), 1.0f);
    QVERIFY_NEAR(s.at(0, 1), 0.0, 1e-7);
    QVERIFY_NEAR(s.at(0, 2), -1.0 / std::sqrt(2.0), 1e-6);
    QVERIFY_NEAR(s.at(1, 2), -1.0 / std::sqrt(2.0), 1e-6);
    QCOMPARE(s.imageIds, (std::vector<std::int64_t>{100, 101, 102}));
  }

  void weightedCentredCosineMatchesHandComputation() {
    // Same X, weights (2, 1): centred and weighted rows (0,-1), (-2,0), (2,1), norms 1, 2, sqrt5.
    // s01 = 0, s02 = -1/sqrt5, s12 = -4/(2 sqrt5) = -2/sqrt5.
    auto config = configFor(SimilarityMeasure::CentredCosine);
    config.unitWeights = {2, 1};
    const auto s = computeSimilarity(makeFeatures(3, 2, {1, 0, 0, 1, 2, 2}), config);
    QVERIFY_NEAR(s.at(0, 1), 0.0, 1e-7);
    QVERIFY_NEAR(s.at(0, 2), -1.0 / std::sqrt(5.0), 1e-6);
    QVERIFY_NEAR(s.at(1, 2), -2.0 / std::sqrt(5.0), 1e-6);
  }

  void pearsonMatchesHandComputation() {
    // Rows over units: (1,2,3) centred (-1,0,1), norm sqrt2; (3,2,1) -> (1,0,-1);
    // (1,2,4) mean 7/3 -> (-4/3,-1/3,5/3), norm sqrt(42)/3.
    // r01 = -1; r02 = (4/3 + 5/3) / (sqrt2 sqrt42 / 3) = 9/sqrt84 = 9/(2 sqrt21); r12 = -r02.
    const auto s =
        computeSimilarity(makeFeatures(3, 3, {1, 2, 3, 3, 2, 1, 1, 2, 4}), configFor(SimilarityMeasure::Pearson));
    const double r02 = 9.0 / (2.0 * std::sqrt(21.0));
    QVERIFY_NEAR(s.at(0, 1), -1.0, 1e-6);
    QVERIFY_NEAR(s.at(0, 2), r02, 1e-6);
    QVERIFY_NEAR(s.at(1, 2), -r02, 1e-6);
    for (int i = 0; i < 3; ++i) QCOMPARE(s.at(i, i), 1.0f);
  }

  void euclideanMatchesHandComputation() {
    // (0,0), (3,4), (1,1): d01 = 5, d02 = sqrt2, d12 = sqrt(2^2 + 3^2) = sqrt13; diagonal 0.
    const auto s = computeSimilarity(makeFeatures(3, 2, {0, 0, 3, 4, 1, 1}), configFor(SimilarityMeasure::Euclidean));
    QVERIFY_NEAR(s.at(0, 1), 5.0, 1e-5);
    QVERIFY_NEAR(s.at(0, 2), std::sqrt(2.0), 1e-5);
    QVERIFY_NEAR(s.at(1, 2), std::sqrt(13.0), 1e-5);
    for (int i = 0; i < 3; ++i) QCOMPARE(s.at(i, i), 0.0f);
    // Far from the origin |x|^2 + |y|^2 - 2 x.y would cancel in float; centring the units first keeps it exact.
    const auto far = computeSimilarity(makeFeatures(3, 2, {1e4f, 1e4f, 1e4f + 3, 1e4f + 4, 1e4f + 1, 1e4f + 1}),
                                       configFor(SimilarityMeasure::Euclidean));
    QVERIFY_NEAR(far.at(0, 1), 5.0, 1e-4);
    QVERIFY_NEAR(far.at(1, 2), std::sqrt(13.0), 1e-4);
  }

  void matricesAreSymmetricWithExactDiagonalAndBoundedValues() {
    const auto features = randomFeatures(61, 17, 1);
    for (const auto measure : kMeasures)
      for (const bool dissimilarity : {false, true}) {
        const auto config = configFor(measure, dissimilarity, 16);
        const auto s = computeSimilarity(features, config);
        const float diagonal = isDissimilarity(config) ? 0.0f : 1.0f;
        for (std::int64_t i = 0; i < s.size; ++i) {
          QCOMPARE(s.at(i, i), diagonal);
          for (std::int64_t j = 0; j < s.size; ++j) {
            QCOMPARE(s.at(i, j), s.at(j, i));  // exactly: the lower triangle is a copy
            const float v = s.at(i, j);
            if (measure == SimilarityMeasure::Euclidean)
              QVERIFY(v >= 0.0f);
            else if (dissimilarity)
              QVERIFY(v >= 0.0f && v <= 2.0f);
            else
              QVERIFY(v >= -1.0f && v <= 1.0f);
          }
        }
      }
  }

  void dissimilarityIsOneMinusSimilarity() {
    const auto features = randomFeatures(40, 9, 2);
    for (const auto measure : {SimilarityMeasure::CentredCosine, SimilarityMeasure::Pearson}) {
      const auto s = computeSimilarity(features, configFor(measure, false, 16));
      const auto d = computeSimilarity(features, configFor(measure, true, 16));
      for (std::int64_t i = 0; i < s.size; ++i)
        for (std::int64_t j = 0; j < s.size; ++j) QCOMPARE(d.at(i, j), 1.0f - s.at(i, j));
    }
    // Euclidean is a distance whatever the flag.
    const auto e = computeSimilarity(features, configFor(SimilarityMeasure::Euclidean, false));
    const auto e1 = computeSimilarity(features, configFor(SimilarityMeasure::Euclidean, true));
    QCOMPARE(e.values, e1.values);
  }

  void centredCosineIgnoresUnitMeansAndOneCommonScale() {
    // The true invariances of the paper's measure: adding a constant to a unit (centring removes it)
    // and multiplying every value by one non-zero factor (row normalisation removes it; a negative
    // factor flips both rows of every pair).
    const auto features = randomFeatures(30, 8, 3);
    const auto reference = computeSimilarity(features);
    auto shifted = features;
    for (std::int64_t r = 0; r < shifted.rows; ++r) {
      shifted.values[static_cast<std::size_t>(r * 8 + 3)] += 5.0f;
      shifted.values[static_cast<std::size_t>(r * 8 + 6)] -= 2.0f;
    }
    QVERIFY_MATRICES_NEAR(computeSimilarity(shifted), reference, 1e-5);
    for (const float factor : {3.7f, -0.25f}) {
      auto scaled = features;
      for (auto& v : scaled.values) v *= factor;
      QVERIFY_MATRICES_NEAR(computeSimilarity(scaled), reference, 1e-5);
    }
  }

  void centredCosineDependsOnTheScaleOfOneUnit() {
    // Scaling one unit re-weights it (unit weights exist for that): not an invariance.
    const auto features = randomFeatures(30, 8, 4);
    auto scaled = features;
    for (std::int64_t r = 0; r < scaled.rows; ++r) scaled.values[static_cast<std::size_t>(r * 8 + 2)] *= 10.0f;
    QVERIFY(maxDifference(computeSimilarity(scaled), computeSimilarity(features)) > 1e-2);
  }

  void unitWeightsEqualScalingTheUnits() {
    const auto features = randomFeatures(33, 7, 5);
    const std::vector<float> weights = {0.5f, 2.0f, 1.0f, 0.0f, 3.0f, 1.5f, 0.25f};
    auto scaled = features;
    for (std::int64_t r = 0; r < scaled.rows; ++r)
      for (std::int64_t u = 0; u < 7; ++u)
        scaled.values[static_cast<std::size_t>(r * 7 + u)] *= weights[static_cast<std::size_t>(u)];
    for (const auto measure : kMeasures) {
      auto weighted = configFor(measure);
      weighted.unitWeights = weights;
      QVERIFY_MATRICES_NEAR(computeSimilarity(features, weighted), computeSimilarity(scaled, configFor(measure)), 1e-5);
    }
  }

  void pearsonIgnoresShiftAndPositiveScaleOfAnImage() {
    // Correlation centres and normalises each image's pattern: a row's offset and positive scale vanish.
    const auto features = randomFeatures(20, 11, 6);
    auto changed = features;
    for (std::int64_t u = 0; u < 11; ++u) {
      auto& v = changed.values[static_cast<std::size_t>(4 * 11 + u)];
      v = 2.5f * v + 7.0f;
    }
    const auto config = configFor(SimilarityMeasure::Pearson);
    QVERIFY_MATRICES_NEAR(computeSimilarity(changed, config), computeSimilarity(features, config), 1e-5);
  }

  void euclideanIgnoresUnitShifts() {
    const auto features = randomFeatures(25, 6, 7);
    auto shifted = features;
    for (std::int64_t r = 0; r < shifted.rows; ++r) shifted.values[static_cast<std::size_t>(r * 6 + 1)] += 50.0f;
    const auto config = configFor(SimilarityMeasure::Euclidean);
    QVERIFY_MATRICES_NEAR(computeSimilarity(shifted, config), computeSimilarity(features, config), 1e-4);
  }

  void imageWithTheMeanPatternHasZeroSimilarity() {
    // Row 1 equals the unit means (rows 0 and 2 are symmetric about it): centred, it is all zero.
    const auto features = makeFeatures(3, 2, {0, 2, 1, 1, 2, 0});
    const auto s = computeSimilarity(features);
    QCOMPARE(s.at(1, 1), 1.0f);
    QCOMPARE(s.at(0, 1), 0.0f);
    QCOMPARE(s.at(1, 2), 0.0f);
    QVERIFY_NEAR(s.at(0, 2), -1.0, 1e-6);
    const auto d = computeSimilarity(features, configFor(SimilarityMeasure::CentredCosine, true));
    QCOMPARE(d.at(1, 1), 0.0f);
    QCOMPARE(d.at(0, 1), 1.0f);
  }

  void blockSizesThatDoNotDivideTheImageCountGiveTheSameMatrix() {
    const auto small = randomFeatures(37, 13, 8);
    for (const auto measure : kMeasures)
      QVERIFY_MATRICES_NEAR(computeSimilarity(small, configFor(measure, false, 8)),
                            computeSimilarity(small, configFor(measure, false, 37)), 1e-6);
    // Above 256 images a diagonal block is computed as a triangle of sub-blocks.
    const auto larger = randomFeatures(600, 20, 9);
    QVERIFY_MATRICES_NEAR(computeSimilarity(larger, configFor(SimilarityMeasure::CentredCosine, false, 2048)),
                          computeSimilarity(larger, configFor(SimilarityMeasure::CentredCosine, false, 100)), 1e-6);
  }

  void streamedMatrixEqualsInMemoryMatrix() {
    bp::test::ScratchDir scratch;
    auto features = randomFeatures(37, 13, 10);
    for (std::int64_t r = 0; r < features.rows; ++r) features.labels.push_back("class " + std::to_string(r % 3));
    for (const auto measure : kMeasures) {
      const auto config = configFor(measure, false, 8);
      const auto file = scratch / (std::string(similarityMeasureName(measure)) + ".h5");
      std::vector<double> fractions;
      const Job job([&](double fraction, const std::string&) { fractions.push_back(fraction); }, nullptr);
      computeSimilarityToFile(features, config, file, job);
      const auto streamed = readSimilarityMatrix(file);
      const auto inMemory = computeSimilarity(features, config);
      QVERIFY_MATRICES_NEAR(streamed, inMemory, 1e-6);
      QCOMPARE(streamed.imageIds, features.imageIds);
      QCOMPARE(streamed.labels, features.labels);
      QCOMPARE(streamed.config.measure, measure);
      QCOMPARE(streamed.config.blockSize, std::int64_t(8));
      QCOMPARE(streamed.provenance["features"]["images"].get<std::int64_t>(), std::int64_t(37));
      // 5 blocks of 8 rows -> 15 block pairs, progress rising to 1.
      QCOMPARE(fractions.size(), std::size_t(15));
      QVERIFY(std::is_sorted(fractions.begin(), fractions.end()));
      QCOMPARE(fractions.back(), 1.0);
    }
  }

  void distributionOfAKnownMatrix() {
    // 101 images: 5,050 pairs whose similarities spread evenly over (-1, 1) in pair order.
    const std::int64_t n = 101;
    const double pairs = 5050.0;
    SimilarityMatrix matrix;
    matrix.size = n;
    matrix.values.assign(static_cast<std::size_t>(n * n), 1.0F);
    std::vector<double> values;
    for (std::int64_t i = 0, k = 0; i < n; ++i)
      for (std::int64_t j = i + 1; j < n; ++j, ++k) {
        const auto value = static_cast<float>(-1.0 + 2.0 * (static_cast<double>(k) + 0.5) / pairs);
        matrix.values[static_cast<std::size_t>(i * n + j)] = value;
        matrix.values[static_cast<std::size_t>(j * n + i)] = value;
        values.push_back(value);
      }
    for (std::int64_t i = 0; i < n; ++i) matrix.imageIds.push_back(i);
    const SimilarityDistribution d = describeSimilarity(matrix);
    QCOMPARE(d.pairs, std::int64_t(5050));
    QCOMPARE(d.undefinedPairs, std::int64_t(0));
    QVERIFY(d.bounded);
    QVERIFY_NEAR(d.mean, 0.0, 1e-6);
    for (std::size_t p = 0; p < d.percentiles.size(); ++p)
      QVERIFY_NEAR(d.percentiles[p], -1.0 + 2.0 * SimilarityDistribution::kPercentiles[p] / 100.0, 1e-3);
    // By hand: |s| > 0.9, |s| >= 0.999, and atanh of the clamped values.
    double nearOne = 0, atClamp = 0, squared = 0, nearOneSquared = 0;
    for (const double s : values) {
      const double a = std::pow(std::atanh(std::clamp(s, -0.999, 0.999)), 2);
      squared += a;
      if (std::abs(s) > 0.9) {
        ++nearOne;
        nearOneSquared += a;
      }
      if (std::abs(s) >= 0.999) ++atClamp;
    }
    QVERIFY_NEAR(d.nearOneShare, nearOne / pairs, 1e-12);
    QVERIFY_NEAR(d.atClampShare, atClamp / pairs, 1e-12);
    QVERIFY_NEAR(d.meanSquaredAtanh, squared / pairs, 1e-9);
    QVERIFY_NEAR(d.nearOneLossShare, nearOneSquared / squared, 1e-9);
    QCOMPARE(d.histogram.size(), std::size_t(kDistributionBins));
    QCOMPARE(d.histogramLow, -1.0);
    QCOMPARE(d.histogramHigh, 1.0);
    for (const auto count : d.histogram) QVERIFY2(count == 126 || count == 127, qPrintable(QString::number(count)));
    QCOMPARE(std::accumulate(d.histogram.begin(), d.histogram.end(), std::int64_t(0)), std::int64_t(5050));

    // The same matrix shown as a dissimilarity: the same similarities, the histogram over [0, 2].
    SimilarityMatrix distances = matrix;
    distances.config.dissimilarity = true;
    for (auto& value : distances.values) value = 1.0F - value;
    const SimilarityDistribution dd = describeSimilarity(distances);
    QVERIFY_NEAR(dd.nearOneLossShare, d.nearOneLossShare, 1e-6);
    QCOMPARE(dd.histogramLow, 0.0);
    QVERIFY_NEAR(dd.percentiles[2], 1.0, 1e-3);

    // From the file, read in blocks: exactly what the matrix in memory gives.
    bp::test::ScratchDir scratch;
    writeSimilarityMatrix(matrix, scratch / "known.h5");
    const SimilarityDistribution fromFile = describeSimilarity(SimilarityMatrixFile::open(scratch / "known.h5"));
    QCOMPARE(toJson(fromFile).dump(), toJson(d).dump());

    // Euclidean distances have no atanh figures.
    SimilarityMatrix euclidean = matrix;
    euclidean.config.measure = SimilarityMeasure::Euclidean;
    for (auto& value : euclidean.values) value = 3.0F * (value + 1.0F);
    const auto json = toJson(describeSimilarity(euclidean));
    QVERIFY(!json.contains("near_one_share"));
    QVERIFY_NEAR(json.at("percentiles").at("50").get<double>(), 3.0, 6.0 / 4000 + 1e-6);
    QCOMPARE(json.value("degenerate", std::string()), std::string());
  }

  void cancelledStreamLeavesNoFile() {
    bp::test::ScratchDir scratch;
    const auto file = scratch / "cancelled.h5";
    const auto token = std::make_shared<CancelToken>();
    const Job job([&](double, const std::string&) { token->cancel(); }, token);
    QVERIFY_EXCEPTION_THROWN(
        computeSimilarityToFile(randomFeatures(37, 5, 11), configFor(SimilarityMeasure::Pearson, false, 8), file, job),
        CancelledError);
    QVERIFY(!std::filesystem::exists(file));
    QVERIFY(std::filesystem::is_empty(scratch.path()));  // no temporary left behind either
  }

  void provenanceRecordsWhatMadeTheMatrix() {
    auto config = configFor(SimilarityMeasure::Pearson, true, 16);
    config.unitWeights = {1, 2, 3};
    const auto s = computeSimilarity(randomFeatures(5, 3, 12), config);
    QCOMPARE(s.provenance["measure"].get<std::string>(), std::string("pearson"));
    QCOMPARE(s.provenance["dissimilarity"].get<bool>(), true);
    QCOMPARE(s.provenance["features"]["source"].get<std::string>(), std::string("hand-made"));
    QCOMPARE(s.provenance["features"]["units"].get<std::int64_t>(), std::int64_t(3));
    QCOMPARE(s.provenance["config"], toJson(config));
    QVERIFY(s.provenance["runtime"].contains("blas"));
    QVERIFY(s.provenance["runtime"].contains("versions"));
    const auto created = s.provenance["created_utc"].get<std::string>();
    QCOMPARE(created.size(), std::size_t(20));  // 2024-01-31T12:00:00Z
    QCOMPARE(created.back(), 'Z');
  }

  void configRoundTripsThroughJson() {
    auto config = configFor(SimilarityMeasure::Euclidean, true, 512);
    config.unitWeights = {0.5f, 2};
    const auto back = similarityConfigFromJson(toJson(config));
    QCOMPARE(back.measure, config.measure);
    QCOMPARE(back.dissimilarity, true);
    QCOMPARE(back.unitWeights, config.unitWeights);
    QCOMPARE(back.blockSize, std::int64_t(512));
    QVERIFY_EXCEPTION_THROWN(similarityConfigFromJson({{"measure", "cosine"}}), Error);
    QVERIFY_EXCEPTION_THROWN(similarityConfigFromJson({{"block_size", "big"}}), Error);
    QCOMPARE(parseSimilarityMeasure("centred-cosine"), std::optional(SimilarityMeasure::CentredCosine));
    QVERIFY(!parseSimilarityMeasure("Centred cosine"));
  }

  void rejectsBadInputsWithTheirReason() {
    const auto expectError = [](const std::function<void()>& call, const std::string& fragment) {
      try {
        call();
        QFAIL("no bp::Error");
      } catch (const Error& e) {
        QVERIFY2(std::string(e.what()).find(fragment) != std::string::npos, e.what());
      }
    };
    auto config = configFor(SimilarityMeasure::CentredCosine);
    config.unitWeights = {1, 2, 3};
    expectError([&] { computeSimilarity(randomFeatures(4, 2, 13), config); }, "3 unit weights for 2 units");
    auto withNaN = randomFeatures(4, 2, 14);
    withNaN.values[5] = NAN;
    expectError([&] { computeSimilarity(withNaN); }, "image 102 (row 2), unit 1 is not a finite number");
    auto inconsistent = randomFeatures(4, 2, 15);
    inconsistent.values.pop_back();
    expectError([&] { computeSimilarity(inconsistent); }, "7 values do not fill 4 images x 2 units");
    expectError([&] { computeSimilarity(makeFeatures(0, 3, {})); }, "no images");
  }

  // ---- features ----

  void featuresAverageRepeatsInOrderOfFirstTrial() {
    const auto features = featuresFromDataset(interleavedRecording());
    // Images in order of first trial: 7, 5, 9. Means: 7 -> (1+4+7)/3 = 4, (10+40+70)/3 = 40;
    // 5 -> (2+6)/2 = 4, 40; 9 -> 3, 30.
    QCOMPARE(features.rows, std::int64_t(3));
    QCOMPARE(features.cols, std::int64_t(2));
    QCOMPARE(features.imageIds, (std::vector<std::int64_t>{7, 5, 9}));
    QCOMPARE(features.values, (std::vector<float>{4, 40, 4, 40, 3, 30}));
    QCOMPARE(features.labels, (std::vector<std::string>{"cat", "dog", "owl"}));
    QCOMPARE(features.source, std::string("responses of hand-made, all tiers, mean over repeats"));
  }

  void featuresFilterByTierAndPickOneRepeat() {
    FeatureSelection selection;
    selection.tier = Tier::Test;
    selection.repeatIndex = 1;
    const auto second = featuresFromDataset(interleavedRecording(), selection);
    // Second trial of each test image: 7 -> (4, 40), 5 -> (6, 60); 9 is train.
    QCOMPARE(second.imageIds, (std::vector<std::int64_t>{7, 5}));
    QCOMPARE(second.values, (std::vector<float>{4, 40, 6, 60}));
    QVERIFY(second.source.find("test tier") != std::string::npos);

    selection.repeatIndex = 2;  // only image 7 has a third repeat
    const auto third = featuresFromDataset(interleavedRecording(), selection);
    QCOMPARE(third.imageIds, (std::vector<std::int64_t>{7}));
    QCOMPARE(third.values, (std::vector<float>{7, 70}));

    selection.repeatIndex = 3;
    QVERIFY_EXCEPTION_THROWN(featuresFromDataset(interleavedRecording(), selection), Error);

    // Neither averaged nor one repeat: every selected trial is a row.
    FeatureSelection trials;
    trials.tier = Tier::Train;
    trials.averageRepeats = false;
    const auto train = featuresFromDataset(interleavedRecording(), trials);
    QCOMPARE(train.imageIds, (std::vector<std::int64_t>{9}));
    QCOMPARE(train.values, (std::vector<float>{3, 30}));
  }

  void featuresRequireNoiseFreeRatesWhenAsked() {
    FeatureSelection selection;
    selection.source = ResponseSource::NoiseFreeRates;
    QVERIFY_EXCEPTION_THROWN(featuresFromDataset(interleavedRecording(), selection), Error);
    auto dataset = interleavedRecording();
    dataset.noiseFreeRates.assign(dataset.responses.size(), 0.5f);
    dataset.noiseFreeRates[0] = 2.0f;  // trial 0 = image 7's first repeat, unit 0
    const auto features = featuresFromDataset(dataset, selection);
    QCOMPARE(features.values[0], 1.0f);  // (2 + 0.5 + 0.5) / 3
    QVERIFY(features.source.rfind("noise-free rates", 0) == 0);
  }

  void readsFeatureFilesOfBothFormats() {
    bp::test::ScratchDir scratch;
    const auto npy = scratch / "features.npy";
    writeNpy(npy, makeNpy(std::vector<float>{1, 2, 3, 4, 5, 6}, {3, 2}));
    const auto fromNpy = readFeatureMatrix(npy);
    QCOMPARE(fromNpy.rows, std::int64_t(3));
    QCOMPARE(fromNpy.values, (std::vector<float>{1, 2, 3, 4, 5, 6}));
    QCOMPARE(fromNpy.imageIds, (std::vector<std::int64_t>{0, 1, 2}));

    const auto h5 = scratch / "features.bin";  // recognised by content, not by name
    {
      auto file = Hdf5File::create(h5);
      file.writeDataset<double>("features", {1, 2, 3, 4}, {2, 2});
      file.writeDataset<std::int64_t>("image_ids", {42, 7}, {2});
      file.writeStrings("labels", {"a", "b"});
      file.close();
    }
    const auto fromHdf5 = readFeatureMatrix(h5);
    QCOMPARE(fromHdf5.values, (std::vector<float>{1, 2, 3, 4}));
    QCOMPARE(fromHdf5.imageIds, (std::vector<std::int64_t>{42, 7}));
    QCOMPARE(fromHdf5.labels, (std::vector<std::string>{"a", "b"}));
    QVERIFY(fromHdf5.source.find(h5.string()) != std::string::npos);

    const auto expectFileError = [](const std::filesystem::path& path, const std::string& fragment) {
      try {
        readFeatureMatrix(path);
        QFAIL("no FileError");
      } catch (const FileError& e) {
        QCOMPARE(e.path(), path.string());
        QVERIFY2(e.problem().find(fragment) != std::string::npos, e.what());
      }
    };
    const auto oneD = scratch / "one-d.npy";
    writeNpy(oneD, makeNpy(std::vector<float>{1, 2}, {2}));
    expectFileError(oneD, "2-D");
    const auto text = scratch / "features.txt";
    bp::test::writeBytes(text, "1,2\n3,4\n");
    expectFileError(text, "not a features file");
    const auto badIds = scratch / "bad-ids.h5";
    {
      auto file = Hdf5File::create(badIds);
      file.writeDataset<float>("features", {1, 2, 3, 4}, {2, 2});
      file.writeDataset<std::int64_t>("image_ids", {1, 2, 3}, {3});
      file.close();
    }
    expectFileError(badIds, "3 image ids for 2 images");
    expectFileError(scratch / "missing.npy", "does not exist");
  }
};

BRAINPRIOR_TEST_CLASS(SimilarityTest)
#include "test_similarity.moc"
