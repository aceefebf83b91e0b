// Comparing similarity matrices: hand-computed values, Kendall against brute force, the resampling
// engine against explicitly expanded bootstrap samples and reordered matrices, and the statistics.
#include <QtTest>

#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "measures/correlation.h"
#include "rsa/compare.h"
#include "rsa/comparison_resampling.h"
#include "rsa/ordering.h"
#include "runtime/error.h"
#include "test_registry.h"

using namespace bp;

namespace {

// A symmetric matrix with 1 on the diagonal whose upper triangle (row by row) is `triangle`.
SimilarityMatrix fromTriangle(const std::vector<float>& triangle) {
  std::int64_t n = 1;
  while (n * (n - 1) / 2 < static_cast<std::int64_t>(triangle.size())) ++n;
  SimilarityMatrix matrix;
  matrix.size = n;
  matrix.values.assign(static_cast<std::size_t>(n * n), 1.0f);
  std::size_t p = 0;
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = i + 1; j < n; ++j, ++p) matrix.values[i * n + j] = matrix.values[j * n + i] = triangle[p];
  matrix.imageIds.resize(static_cast<std::size_t>(n));
  std::iota(matrix.imageIds.begin(), matrix.imageIds.end(), std::int64_t{100});
  return matrix;
}

// Values on a coarse grid (many ties) for n images; `related` mixes in `base`'s triangle.
std::vector<float> randomTriangle(std::int64_t n, std::mt19937& random, const std::vector<float>* base = nullptr,
                                  double step = 0.1) {
  std::normal_distribution<double> normal;
  std::vector<float> triangle(static_cast<std::size_t>(n * (n - 1) / 2));
  for (std::size_t p = 0; p < triangle.size(); ++p) {
    const double value = normal(random) + (base ? 2.0 * (*base)[p] : 0.0);
    triangle[p] = static_cast<float>(std::round(value / step) * step);
  }
  return triangle;
}

double bruteForceKendallTauA(const std::vector<double>& x, const std::vector<double>& y) {
  const auto m = x.size();
  double score = 0.0;
  for (std::size_t p = 0; p < m; ++p)
    for (std::size_t q = p + 1; q < m; ++q) {
      const double product = (x[p] - x[q]) * (y[p] - y[q]);
      score += product > 0.0 ? 1.0 : product < 0.0 ? -1.0 : 0.0;
    }
  return score / (static_cast<double>(m) * static_cast<double>(m - 1) / 2.0);
}

// Every method on explicit value lists, the slow obvious way.
double bruteForce(const std::vector<double>& x, const std::vector<double>& y, ComparisonMethod method) {
  const auto m = static_cast<std::int64_t>(x.size());
  switch (method) {
    case ComparisonMethod::Pearson:
      return pearson(x.data(), y.data(), m);
    case ComparisonMethod::Spearman: {
      const auto rx = averageRanks(std::vector<float>(x.begin(), x.end()));
      const auto ry = averageRanks(std::vector<float>(y.begin(), y.end()));
      return pearson(rx.data(), ry.data(), m);
    }
    case ComparisonMethod::KendallTauA:
      return bruteForceKendallTauA(x, y);
    case ComparisonMethod::Cosine: {
      double xy = 0.0, xx = 0.0, yy = 0.0;
      for (std::int64_t p = 0; p < m; ++p) {
        xy += x[p] * y[p];
        xx += x[p] * x[p];
        yy += y[p] * y[p];
      }
      return xy / std::sqrt(xx * yy);
    }
  }
  return std::nan("");
}

bool near(double actual, double expected, double tolerance) { return std::abs(actual - expected) <= tolerance; }

#define QVERIFY_NEAR(actual, expected, tolerance)                                                    \
  QVERIFY2(near((actual), (expected), (tolerance)),                                                  \
           qPrintable(QString("%1 = %2, expected %3").arg(#actual).arg((actual), 0, 'g', 17).arg((expected), 0, 'g', 17)))

std::string errorOf(const std::function<void()>& call) {
  try {
    call();
  } catch (const Error& e) {
    return e.what();
  }
  return {};
}

}  // namespace

class RsaCompareTest : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void namesRoundTrip() {
    for (const auto method : allComparisonMethods()) QVERIFY(parseComparisonMethod(comparisonMethodName(method)) == method);
    QVERIFY(parseComparisonMethod("kendall") == ComparisonMethod::KendallTauA);
    QVERIFY(!parseComparisonMethod("kendall-tau-b"));
  }

  void upperTriangleReadsRowByRow() {
    SimilarityMatrix matrix = fromTriangle({0.1f, 0.2f, 0.3f});
    QCOMPARE(matrix.size, std::int64_t{3});
    QCOMPARE(upperTriangle(matrix), (std::vector<float>{0.1f, 0.2f, 0.3f}));
    matrix.values[1 * 3 + 0] = 9.0f;  // the lower triangle is never read
    QCOMPARE(upperTriangle(matrix), (std::vector<float>{0.1f, 0.2f, 0.3f}));
  }

  void sortedOrderIsAStableSortWithTieBreak() {
    std::mt19937 random(13);
    std::uniform_int_distribution<int> grid(-6, 6);
    std::vector<float> x(3000), y(3000);
    for (std::size_t i = 0; i < x.size(); ++i) {
      x[i] = grid(random) * 0.25f;
      y[i] = grid(random) * 1e-30f;  // tiny values: every exponent bit matters
    }
    x[0] = -0.0f;
    x[1] = std::numeric_limits<float>::infinity();
    x[2] = -std::numeric_limits<float>::infinity();
    std::vector<std::uint32_t> expected(x.size());
    std::iota(expected.begin(), expected.end(), 0u);
    std::stable_sort(expected.begin(), expected.end(), [&](std::uint32_t p, std::uint32_t q) { return x[p] < x[q]; });
    QCOMPARE(sortedOrder(x), expected);
    std::stable_sort(expected.begin(), expected.end(), [&](std::uint32_t p, std::uint32_t q) {
      return x[p] < x[q] || (x[p] == x[q] && y[p] < y[q]);
    });
    QCOMPARE(sortedOrder(x, &y), expected);
  }

  void pearsonAndCosineMatchHandValues() {
    // x = 1..6, y = 2 1 4 3 6 5: centred -2.5 -1.5 -0.5 0.5 1.5 2.5 and -1.5 -2.5 0.5 -0.5 2.5 1.5;
    // sum of products 14.5, sums of squares 17.5 -> r = 29/35. Uncentred: 88 / sqrt(91 * 91).
    const auto a = fromTriangle({1, 2, 3, 4, 5, 6});
    const auto b = fromTriangle({2, 1, 4, 3, 6, 5});
    QVERIFY_NEAR(compareMatrices(a, b, ComparisonMethod::Pearson), 29.0 / 35.0, 1e-12);
    QVERIFY_NEAR(compareMatrices(a, b, ComparisonMethod::Cosine), 88.0 / 91.0, 1e-12);
  }

  void spearmanGivesTiesTheirMeanRank() {
    // x = 1 2 2 -> ranks 1 2.5 2.5; y = 1 3 2 -> ranks 1 3 2. Centred -1 .5 .5 and -1 1 0:
    // products 1 + .5 + 0 = 1.5, squares 1.5 and 2 -> 1.5 / sqrt(3) = sqrt(3) / 2.
    QCOMPARE(averageRanks({1, 2, 2}), (std::vector<double>{1, 2.5, 2.5}));
    QCOMPARE(averageRanks({5, 1, 5, 5}), (std::vector<double>{3, 1, 3, 3}));
    const double rho = compareMatrices(fromTriangle({1, 2, 2}), fromTriangle({1, 3, 2}), ComparisonMethod::Spearman);
    QVERIFY_NEAR(rho, std::sqrt(3.0) / 2.0, 1e-12);
  }

  void kendallTauACountsTiesAsNeither() {
    // x = 1 2 3, y = 1 3 2: pairs (1,2) and (1,3) concordant, (2,3) discordant -> (2 - 1) / 3.
    QVERIFY_NEAR(compareMatrices(fromTriangle({1, 2, 3}), fromTriangle({1, 3, 2}), ComparisonMethod::KendallTauA),
                 1.0 / 3.0, 1e-12);
    // x = 1 1 2, y = 1 2 3: (1,2) tied on x counts as neither; the others concordant -> 2 / 3
    // (tau-b would give 2 / sqrt(2 * 3)).
    QVERIFY_NEAR(compareMatrices(fromTriangle({1, 1, 2}), fromTriangle({1, 2, 3}), ComparisonMethod::KendallTauA),
                 2.0 / 3.0, 1e-12);
  }

  void kendallMatchesBruteForceOnTiedRandomData() {
    std::mt19937 random(5);
    for (const double step : {0.5, 0.1, 0.0001}) {
      const auto x = randomTriangle(40, random, nullptr, step);
      const auto y = randomTriangle(40, random, &x, step);
      const double fast = compareMatrices(fromTriangle(x), fromTriangle(y), ComparisonMethod::KendallTauA);
      const double slow = bruteForceKendallTauA({x.begin(), x.end()}, {y.begin(), y.end()});
      QVERIFY_NEAR(fast, slow, 1e-12);
    }
  }

  void undefinedWithoutVariationOrPairs() {
    const auto constant = fromTriangle({0.5f, 0.5f, 0.5f});
    const auto varying = fromTriangle({0.1f, 0.2f, 0.3f});
    const auto onePair = fromTriangle({0.3f});
    for (const auto method : {ComparisonMethod::Pearson, ComparisonMethod::Spearman, ComparisonMethod::KendallTauA}) {
      QVERIFY(std::isnan(compareMatrices(constant, varying, method)));
      QVERIFY(std::isnan(compareMatrices(varying, constant, method)));
      QVERIFY(std::isnan(compareMatrices(onePair, onePair, method)));
    }
    QVERIFY(std::isnan(compareMatrices(fromTriangle({0, 0, 0}), varying, ComparisonMethod::Cosine)));
    QVERIFY(std::isnan(compareMatrices(fromTriangle({}), fromTriangle({}), ComparisonMethod::Cosine)));
    for (const auto& row : compareWithStatistics(fromTriangle({}), fromTriangle({})).rows)
      QVERIFY(std::isnan(row.value) && std::isnan(row.ciLow) && std::isnan(row.pValue));
  }

  void refusesMatricesOverDifferentImages() {
    const auto a = fromTriangle({1, 2, 3});
    auto b = a;
    b.imageIds[1] = 7;
    const auto message = errorOf([&] { compareMatrices(a, b, ComparisonMethod::Pearson); });
    QVERIFY2(message.find("row 1") != std::string::npos && message.find("101") != std::string::npos &&
                 message.find("7") != std::string::npos,
             message.c_str());
    QVERIFY(!errorOf([&] { compareMatrices(a, fromTriangle({1, 2, 3, 4, 5, 6}), ComparisonMethod::Pearson); }).empty());
    auto nonFinite = a;
    nonFinite.values[0 * 3 + 2] = std::nanf("");
    const auto nanMessage = errorOf([&] { compareMatrices(a, nonFinite, ComparisonMethod::Spearman); });
    QVERIFY2(nanMessage.find("(0, 2)") != std::string::npos, nanMessage.c_str());
    auto broken = a;
    broken.values.pop_back();
    QVERIFY_THROWS_EXCEPTION(Error, upperTriangle(broken));
  }

  void bootstrapSampleEqualsTheExpandedSample() {
    // Draw images with replacement, list every pair of positions holding two different images, and
    // compute each method on those lists: the weighted engine must agree.
    std::mt19937 random(11);
    const std::int64_t n = 12;
    const auto x = randomTriangle(n, random, nullptr, 0.5);
    const auto y = randomTriangle(n, random, &x, 0.5);
    const auto a = fromTriangle(x);
    const auto b = fromTriangle(y);
    const ComparisonResampler resampler(a, b, allComparisonMethods());
    ComparisonResampler::Scratch scratch;
    for (int sample = 0; sample < 20; ++sample) {
      std::vector<std::int64_t> drawn(static_cast<std::size_t>(n));
      std::vector<std::uint32_t> counts(static_cast<std::size_t>(n), 0);
      for (auto& image : drawn) {
        image = std::uniform_int_distribution<std::int64_t>(0, n - 1)(random);
        ++counts[static_cast<std::size_t>(image)];
      }
      std::vector<double> xs, ys;
      for (std::size_t p = 0; p < drawn.size(); ++p)
        for (std::size_t q = p + 1; q < drawn.size(); ++q)
          if (drawn[p] != drawn[q]) {
            xs.push_back(a.at(drawn[p], drawn[q]));
            ys.push_back(b.at(drawn[p], drawn[q]));
          }
      const auto values = resampler.bootstrapValues(counts, scratch);
      for (std::size_t m = 0; m < values.size(); ++m) {
        const auto method = allComparisonMethods()[m];
        QVERIFY_NEAR(values[m], bruteForce(xs, ys, method), 1e-6);
      }
    }
  }

  void permutationEqualsTheReorderedMatrix() {
    std::mt19937 random(12);
    const std::int64_t n = 15;
    const auto x = randomTriangle(n, random, nullptr, 0.5);
    const auto y = randomTriangle(n, random, &x, 0.5);
    const auto a = fromTriangle(x);
    auto b = fromTriangle(y);
    const ComparisonResampler resampler(a, b, allComparisonMethods());
    ComparisonResampler::Scratch scratch;
    for (int sample = 0; sample < 10; ++sample) {
      std::vector<std::int64_t> permutation(static_cast<std::size_t>(n));
      std::iota(permutation.begin(), permutation.end(), std::int64_t{0});
      std::shuffle(permutation.begin(), permutation.end(), random);
      auto permuted = reorder(b, permutation);
      permuted.imageIds = a.imageIds;  // the test pairs a's images with b's shuffled values on purpose
      const auto values = resampler.permutedValues(permutation, scratch);
      for (std::size_t m = 0; m < values.size(); ++m)
        QVERIFY_NEAR(values[m], compareMatrices(a, permuted, allComparisonMethods()[m]), 1e-9);
    }
    QVERIFY_THROWS_EXCEPTION(Error, resampler.permutedValues(std::vector<std::int64_t>(n, 0), scratch));
  }

  void intervalsContainTheEstimateAndRelatedMatricesAreSignificant() {
    std::mt19937 random(3);
    const auto x = randomTriangle(30, random, nullptr, 0.01);
    const auto y = randomTriangle(30, random, &x, 0.01);
    ComparisonConfig config;
    config.bootstrapSamples = 300;
    config.permutations = 199;
    const auto result = compareWithStatistics(fromTriangle(x), fromTriangle(y), config);
    QCOMPARE(result.images, std::int64_t{30});
    QCOMPARE(result.pairs, std::int64_t{435});
    QCOMPARE(result.rows.size(), std::size_t{4});
    for (const auto& row : result.rows) {
      QVERIFY2(row.ciLow <= row.value && row.value <= row.ciHigh, comparisonMethodName(row.method));
      QVERIFY(row.ciHigh - row.ciLow > 0.0);
      QCOMPARE(row.pValue, 1.0 / 200.0);  // no permutation comes near a strong relation
      QCOMPARE(row.value, compareMatrices(fromTriangle(x), fromTriangle(y), row.method));
    }
  }

  void identicalMatricesReachTheSmallestP() {
    std::mt19937 random(4);
    const auto matrix = fromTriangle(randomTriangle(10, random, nullptr, 1e-4));
    ComparisonConfig config;
    config.bootstrapSamples = 50;
    config.permutations = 99;
    for (const auto& row : compareWithStatistics(matrix, matrix, config).rows) {
      QVERIFY_NEAR(row.value, 1.0, 1e-12);
      QCOMPARE(row.pValue, 0.01);
      // In a bootstrap sample the copies of a pair tie with each other, which tau-a counts as neither.
      if (row.method == ComparisonMethod::KendallTauA)
        QVERIFY(row.ciHigh < 1.0 && row.ciLow > 0.8);
      else
        QVERIFY_NEAR(row.ciLow, 1.0, 1e-6);
    }
  }

  void unrelatedMatricesGiveRoughlyUniformP() {
    std::mt19937 random(6);
    ComparisonConfig config;
    config.methods = {ComparisonMethod::Pearson, ComparisonMethod::Spearman};
    config.bootstrapSamples = 0;
    config.permutations = 99;
    std::vector<double> pValues;
    for (int trial = 0; trial < 60; ++trial) {
      config.seed = static_cast<std::uint64_t>(trial + 1);
      const auto result = compareWithStatistics(fromTriangle(randomTriangle(10, random, nullptr, 0.001)),
                                                fromTriangle(randomTriangle(10, random, nullptr, 0.001)), config);
      for (const auto& row : result.rows) {
        QVERIFY(std::isnan(row.ciLow));
        pValues.push_back(row.pValue);
      }
    }
    const double meanP = std::accumulate(pValues.begin(), pValues.end(), 0.0) / static_cast<double>(pValues.size());
    const auto small = std::count_if(pValues.begin(), pValues.end(), [](double p) { return p < 0.1; });
    QVERIFY2(meanP > 0.35 && meanP < 0.65, qPrintable(QString::number(meanP)));
    QVERIFY2(small < 30, qPrintable(QString::number(small)));  // about 12 expected of 120
  }

  void resultsDoNotDependOnThreadCount() {
    std::mt19937 random(8);
    const auto x = randomTriangle(20, random, nullptr, 0.2);
    const auto y = randomTriangle(20, random, &x, 0.2);
    ComparisonConfig config;
    config.bootstrapSamples = 40;
    config.permutations = 40;
    config.threads = 1;
    const auto one = compareWithStatistics(fromTriangle(x), fromTriangle(y), config);
    config.threads = 3;
    const auto three = compareWithStatistics(fromTriangle(x), fromTriangle(y), config);
    QCOMPARE(toJson(one).dump(), toJson(three).dump());
    config.seed = 2;
    QVERIFY(toJson(compareWithStatistics(fromTriangle(x), fromTriangle(y), config)).dump() != toJson(one).dump());
  }

  void kendallResamplingIsSkippedAboveItsLimitWithANote() {
    std::mt19937 random(9);
    const auto x = randomTriangle(10, random);
    const auto y = randomTriangle(10, random, &x);
    ComparisonConfig config;
    config.bootstrapSamples = 20;
    config.permutations = 20;
    config.kendallResamplingMaxPairs = 44;  // 10 images have 45 pairs
    const auto result = compareWithStatistics(fromTriangle(x), fromTriangle(y), config);
    for (const auto& row : result.rows) {
      const bool kendall = row.method == ComparisonMethod::KendallTauA;
      QCOMPARE(std::isnan(row.ciLow), kendall);
      QCOMPARE(std::isnan(row.pValue), kendall);
      QVERIFY(!std::isnan(row.value));
    }
    QCOMPARE(result.notes.size(), std::size_t{1});
    const auto json = toJson(result);
    QVERIFY(json["rows"][2]["ci_low"].is_null());
    QCOMPARE(json["rows"][2]["method"].get<std::string>(), std::string("kendall-tau-a"));
    QCOMPARE(json["pairs"].get<std::int64_t>(), std::int64_t{45});
    QCOMPARE(json["bootstrap_samples"].get<int>(), 20);
  }

  void rejectsInvalidConfigs() {
    const auto matrix = fromTriangle({1, 2, 3});
    ComparisonConfig config;
    config.confidence = 1.0;
    QVERIFY_THROWS_EXCEPTION(Error, compareWithStatistics(matrix, matrix, config));
    config = {};
    config.methods.clear();
    QVERIFY_THROWS_EXCEPTION(Error, compareWithStatistics(matrix, matrix, config));
    config = {};
    config.permutations = -1;
    QVERIFY_THROWS_EXCEPTION(Error, compareWithStatistics(matrix, matrix, config));
  }

  void cancellationStopsTheResampling() {
    std::mt19937 random(10);
    const auto matrix = fromTriangle(randomTriangle(20, random));
    auto token = std::make_shared<CancelToken>();
    token->cancel();
    QVERIFY_THROWS_EXCEPTION(CancelledError, compareWithStatistics(matrix, matrix, {}, Job({}, token)));
  }
};

BRAINPRIOR_TEST_CLASS(RsaCompareTest)
#include "test_rsa_compare.moc"
