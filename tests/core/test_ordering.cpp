// Orders, reordering, rank transform and classical MDS of similarity matrices.
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "rsa/ordering.h"
#include "runtime/error.h"
#include "test_registry.h"

using namespace bp;

namespace {

SimilarityMatrix matrixOf(std::int64_t n, const std::function<double(std::int64_t, std::int64_t)>& value,
                          SimilarityConfig config = {}) {
  SimilarityMatrix matrix;
  matrix.size = n;
  matrix.config = config;
  matrix.values.resize(static_cast<std::size_t>(n * n));
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < n; ++j)
      matrix.values[i * n + j] = static_cast<float>(i == j ? (isDissimilarity(config) ? 0.0 : 1.0)
                                                           : value(std::min(i, j), std::max(i, j)));
  matrix.imageIds.resize(static_cast<std::size_t>(n));
  std::iota(matrix.imageIds.begin(), matrix.imageIds.end(), std::int64_t{0});
  return matrix;
}

SimilarityConfig euclidean() {
  SimilarityConfig config;
  config.measure = SimilarityMeasure::Euclidean;
  return config;
}

// B = -1/2 J D^2 J, the matrix whose top eigenpairs classical MDS uses.
std::vector<double> doubleCentredSquares(const SimilarityMatrix& matrix) {
  const std::int64_t n = matrix.size;
  std::vector<double> b(static_cast<std::size_t>(n * n));
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      const double v = i == j ? 0.0 : matrix.at(i, j);
      const double d = isDissimilarity(matrix.config) ? v : (i == j ? 0.0 : 1.0 - v);
      b[i * n + j] = d * d;
    }
  std::vector<double> rowMean(static_cast<std::size_t>(n), 0.0);
  double grand = 0.0;
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t j = 0; j < n; ++j) rowMean[i] += b[i * n + j] / static_cast<double>(n);
    grand += rowMean[i] / static_cast<double>(n);
  }
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < n; ++j) b[i * n + j] = -0.5 * (b[i * n + j] - rowMean[i] - rowMean[j] + grand);
  return b;
}

// The largest algebraic eigenvalue of symmetric b by plain power iteration on b + c I, c = the
// Frobenius norm (so every eigenvalue of the shifted matrix is >= 0): slow, and obviously right.
double largestEigenvalue(const std::vector<double>& b, std::int64_t n) {
  double frobenius = 0.0;
  for (const double v : b) frobenius += v * v;
  const double shift = std::sqrt(frobenius);
  std::vector<double> v(static_cast<std::size_t>(n), 1.0), next(v.size());
  for (std::int64_t i = 0; i < n; ++i) v[i] += 0.01 * static_cast<double>(i);
  double value = 0.0;
  for (int iteration = 0; iteration < 20000; ++iteration) {
    double norm = 0.0;
    for (std::int64_t i = 0; i < n; ++i) {
      next[i] = shift * v[i];
      for (std::int64_t j = 0; j < n; ++j) next[i] += b[i * n + j] * v[j];
      norm += next[i] * next[i];
    }
    norm = std::sqrt(norm);
    double vNorm = 0.0;
    for (const double x : v) vNorm += x * x;
    value = norm / std::sqrt(vNorm) - shift;
    for (std::int64_t i = 0; i < n; ++i) v[i] = next[i] / norm;
  }
  return value;
}

}  // namespace

class OrderingTest : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void orderByLabelSortsByLabelThenId() {
    auto matrix = matrixOf(4, [](std::int64_t, std::int64_t) { return 0.0; });
    matrix.imageIds = {4, 3, 2, 1};
    QCOMPARE(orderByLabel(matrix), (std::vector<std::int64_t>{3, 2, 1, 0}));
    matrix.labels = {"b", "a", "b", "a"};
    QCOMPARE(orderByLabel(matrix), (std::vector<std::int64_t>{3, 1, 2, 0}));
  }

  void labelBlocksAreTheRunsOfContiguousLabels() {
    auto matrix = matrixOf(5, [](std::int64_t, std::int64_t) { return 0.0; });
    QVERIFY(labelBlocks(matrix).empty());  // no labels
    matrix.labels = {"b", "a", "b", "a", "c"};
    QVERIFY(labelBlocks(matrix).empty());  // "b" and "a" are split
    const auto ordered = reorder(matrix, orderByLabel(matrix));
    const auto blocks = labelBlocks(ordered);
    QCOMPARE(blocks.size(), std::size_t{3});
    QCOMPARE(blocks[0].label, std::string("a"));
    QCOMPARE(blocks[0].first, std::int64_t{0});
    QCOMPARE(blocks[0].count, std::int64_t{2});
    QCOMPARE(blocks[1].label, std::string("b"));
    QCOMPARE(blocks[1].first, std::int64_t{2});
    QCOMPARE(blocks[1].count, std::int64_t{2});
    QCOMPARE(blocks[2].label, std::string("c"));
    QCOMPARE(blocks[2].first, std::int64_t{4});
    QCOMPARE(blocks[2].count, std::int64_t{1});
  }

  void orderByValuesIsDescendingWithNaNLast() {
    QCOMPARE(orderByValues({0.5f, std::nanf(""), 2.0f, 0.5f, -1.0f}), (std::vector<std::int64_t>{2, 0, 3, 4, 1}));
  }

  void reorderPermutesAndTheInverseRestores() {
    std::mt19937 random(1);
    std::uniform_real_distribution<double> uniform(-1.0, 1.0);
    std::vector<double> triangle(21);
    for (auto& v : triangle) v = uniform(random);
    auto matrix = matrixOf(7, [&](std::int64_t i, std::int64_t j) { return triangle[i * 7 - i * (i + 1) / 2 + j - i - 1]; });
    matrix.labels = {"a", "b", "c", "d", "e", "f", "g"};
    matrix.provenance = {{"source", "test"}};
    std::vector<std::int64_t> order{3, 0, 6, 1, 5, 2, 4};
    const auto reordered = reorder(matrix, order);
    for (std::int64_t i = 0; i < 7; ++i) {
      QCOMPARE(reordered.imageIds[i], matrix.imageIds[order[i]]);
      QCOMPARE(reordered.labels[i], matrix.labels[order[i]]);
      for (std::int64_t j = 0; j < 7; ++j) QCOMPARE(reordered.at(i, j), matrix.at(order[i], order[j]));
    }
    std::vector<std::int64_t> inverse(order.size());
    for (std::size_t k = 0; k < order.size(); ++k) inverse[order[k]] = static_cast<std::int64_t>(k);
    const auto restored = reorder(reordered, inverse);
    QCOMPARE(restored.values, matrix.values);
    QCOMPARE(restored.imageIds, matrix.imageIds);
    QCOMPARE(restored.labels, matrix.labels);
    QCOMPARE(restored.provenance, matrix.provenance);

    QVERIFY_THROWS_EXCEPTION(Error, reorder(matrix, {0, 1, 2}));
    QVERIFY_THROWS_EXCEPTION(Error, reorder(matrix, {0, 1, 2, 3, 4, 5, 5}));
    QVERIFY_THROWS_EXCEPTION(Error, reorder(matrix, {0, 1, 2, 3, 4, 5, 7}));
  }

  void clusteringMakesBlocksContiguous() {
    // Three blocks of 4, 5 and 3 images scattered over the rows.
    const std::vector<int> block{2, 0, 1, 0, 2, 1, 1, 0, 2, 1, 0, 1};
    std::mt19937 random(2);
    std::uniform_real_distribution<double> noise(-0.05, 0.05);
    std::vector<double> jitter(block.size() * block.size());
    for (auto& v : jitter) v = noise(random);
    const auto similarity = [&](std::int64_t i, std::int64_t j) {
      return (block[i] == block[j] ? 0.8 : 0.1) + jitter[i * 12 + j];
    };
    for (const bool asDissimilarity : {false, true}) {
      SimilarityConfig config;
      config.dissimilarity = asDissimilarity;
      const auto matrix = matrixOf(12, [&](std::int64_t i, std::int64_t j) {
        return asDissimilarity ? 1.0 - similarity(i, j) : similarity(i, j);
      }, config);
      const auto order = orderByClustering(matrix);
      auto sorted = order;
      std::sort(sorted.begin(), sorted.end());
      std::vector<std::int64_t> all(12);
      std::iota(all.begin(), all.end(), std::int64_t{0});
      QCOMPARE(sorted, all);
      int changes = 0;
      for (std::size_t k = 1; k < order.size(); ++k) changes += block[order[k]] != block[order[k - 1]];
      QCOMPARE(changes, 2);
    }
  }

  void clusteringFollowsAverageLinkageOnALine() {
    // Rows at positions 20, 5, 0, 6, 1: {2, 4} and {1, 3} merge at 1, then with each other at
    // (5 + 6 + 4 + 5) / 4 = 5, then row 0. The cluster holding the lower row comes first.
    const std::vector<double> position{20, 5, 0, 6, 1};
    const auto matrix = matrixOf(5, [&](std::int64_t i, std::int64_t j) { return std::abs(position[i] - position[j]); },
                                 euclidean());
    QCOMPARE(orderByClustering(matrix), (std::vector<std::int64_t>{0, 1, 3, 2, 4}));
    QCOMPARE(orderByClustering(matrixOf(2, [](std::int64_t, std::int64_t) { return 1.0; })),
             (std::vector<std::int64_t>{0, 1}));
    // All distances equal: every merge is a tie, which must neither loop nor lose a row.
    auto equal = orderByClustering(matrixOf(9, [](std::int64_t, std::int64_t) { return 0.5; }));
    std::sort(equal.begin(), equal.end());
    QCOMPARE(equal, (std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8}));
  }

  void clusteringIsCancellable() {
    const auto matrix = matrixOf(300, [](std::int64_t i, std::int64_t j) { return std::sin(double(i * j)); });
    auto token = std::make_shared<CancelToken>();
    token->cancel();
    QVERIFY_THROWS_EXCEPTION(CancelledError, orderByClustering(matrix, Job({}, token)));
  }

  void rankTransformScalesTheTriangleRanks() {
    // Triangle 0.3 0.1 0.3 -> ranks 2.5 1 2.5 -> (rank - 1) / 2 = 0.75 0 0.75.
    const std::vector<float> triangle{0.3f, 0.1f, 0.3f};
    const auto value = [&](std::int64_t i, std::int64_t j) { return triangle[i == 0 ? j - 1 : 2]; };
    const auto ranked = rankTransform(matrixOf(3, value));
    QCOMPARE(ranked.values, (std::vector<float>{1, 0.75f, 0, 0.75f, 1, 0.75f, 0, 0.75f, 1}));
    QCOMPARE(ranked.provenance["transform"].get<std::string>(), std::string("rank"));
    const auto rankedDistances = rankTransform(matrixOf(3, value, euclidean()));
    QCOMPARE(rankedDistances.values, (std::vector<float>{0, 0.75f, 0, 0.75f, 0, 0.75f, 0, 0.75f, 0}));
  }

  void mdsRecoversPlanarPointsUpToRotation() {
    std::mt19937 random(3);
    std::uniform_real_distribution<double> uniform(-5.0, 5.0);
    const std::int64_t n = 40;
    std::vector<double> px(n), py(n);
    for (std::int64_t i = 0; i < n; ++i) {
      px[i] = uniform(random);
      py[i] = 0.5 * uniform(random);
    }
    const auto distance = [&](std::int64_t i, std::int64_t j) { return std::hypot(px[i] - px[j], py[i] - py[j]); };
    for (const bool asSimilarity : {false, true}) {
      // As a similarity 1 - d, the dissimilarity MDS uses is d again.
      const auto matrix = asSimilarity ? matrixOf(n, [&](std::int64_t i, std::int64_t j) { return 1.0 - distance(i, j); })
                                       : matrixOf(n, distance, euclidean());
      const auto embedding = classicalMds(matrix);
      QCOMPARE(embedding.x.size(), std::size_t(n));
      for (std::int64_t i = 0; i < n; ++i)
        for (std::int64_t j = i + 1; j < n; ++j) {
          const double recovered = std::hypot(embedding.x[i] - embedding.x[j], embedding.y[i] - embedding.y[j]);
          QVERIFY2(std::abs(recovered - distance(i, j)) <= 1e-4 * (1.0 + distance(i, j)),
                   qPrintable(QString("%1 vs %2").arg(recovered).arg(distance(i, j))));
        }
      QVERIFY(std::abs(embedding.explainedVariance - 1.0) < 1e-5);
      QVERIFY(embedding.firstEigenvalue > 2.0 * embedding.secondEigenvalue);  // x spreads about twice as far as y
      const auto again = classicalMds(matrix);
      QCOMPARE(again.x, embedding.x);
      QVERIFY(*std::max_element(embedding.x.begin(), embedding.x.end()) >
              -*std::min_element(embedding.x.begin(), embedding.x.end()));
    }
  }

  void mdsTakesTheLargestPositiveEigenvaluesOfNonEuclideanData() {
    // d = (i - j)^2 gives B of rank 3 with one positive and two negative eigenvalues, which dominate
    // in magnitude: the second axis must be the zero eigenvalue, not a negative one.
    const std::int64_t n = 20;
    const auto squares = matrixOf(n, [](std::int64_t i, std::int64_t j) { return double((i - j) * (i - j)); }, euclidean());
    const auto b = doubleCentredSquares(squares);
    const auto embedding = classicalMds(squares);
    const double truth = largestEigenvalue(b, n);
    QVERIFY2(std::abs(embedding.firstEigenvalue - truth) <= 1e-6 * truth,
             qPrintable(QString("%1 vs %2").arg(embedding.firstEigenvalue).arg(truth)));
    QVERIFY(std::abs(embedding.secondEigenvalue) <= 1e-6 * truth);
    for (const double y : embedding.y) QVERIFY(std::abs(y) <= 1e-3);

    // Random dissimilarities: x / sqrt(lambda) must be an eigenvector of B for the largest eigenvalue.
    std::mt19937 random(4);
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    std::vector<double> d(900);
    for (auto& v : d) v = uniform(random);
    const auto noisy = matrixOf(30, [&](std::int64_t i, std::int64_t j) { return d[i * 30 + j]; }, euclidean());
    const auto bNoisy = doubleCentredSquares(noisy);
    const auto map = classicalMds(noisy);
    QVERIFY(std::abs(map.firstEigenvalue - largestEigenvalue(bNoisy, 30)) <= 1e-6 * map.firstEigenvalue);
    const double scale = std::sqrt(map.firstEigenvalue);
    for (std::int64_t i = 0; i < 30; ++i) {
      double bx = 0.0;
      for (std::int64_t j = 0; j < 30; ++j) bx += bNoisy[i * 30 + j] * map.x[j] / scale;
      QVERIFY(std::abs(bx - map.firstEigenvalue * map.x[i] / scale) <= 1e-5 * map.firstEigenvalue);
    }
    QVERIFY(map.secondEigenvalue > 0.0 && map.secondEigenvalue <= map.firstEigenvalue);
  }

  void mdsOfTinyMatrices() {
    const auto one = classicalMds(matrixOf(1, [](std::int64_t, std::int64_t) { return 0.0; }));
    QCOMPARE(one.x, std::vector<double>{0.0});
    const auto two = classicalMds(matrixOf(2, [](std::int64_t, std::int64_t) { return 2.0; }, euclidean()));
    QVERIFY(std::abs(std::abs(two.x[0] - two.x[1]) - 2.0) < 1e-9);
    QVERIFY(std::abs(two.y[0]) < 1e-9 && std::abs(two.y[1]) < 1e-9);
    QVERIFY(std::isnan(classicalMds(matrixOf(3, [](std::int64_t, std::int64_t) { return 0.0; }, euclidean())).explainedVariance));
  }
};

BRAINPRIOR_TEST_CLASS(OrderingTest)
#include "test_ordering.moc"
