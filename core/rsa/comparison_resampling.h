#pragma once
// The engine behind compareWithStatistics: two matrices' upper triangles prepared once, so that each
// bootstrap sample or permutation of the images costs one pass over the pairs (Kendall: one merge
// sort) instead of building, ranking and correlating a resampled copy.
//
// Bootstrap: image i drawn c_i times. The sample's pairs of different original images are the pairs
// (i, j), i < j, each present c_i * c_j times, so each statistic is the statistic weighted by c_i * c_j,
// equal to what the expanded sample gives (Spearman's and Kendall's ties included: copies of one
// pair tie with each other).
// Permutation: a's value at (i, j) meets b's at (p[i], p[j]). Each triangle keeps its multiset of
// values, hence its mean, spread and ranks, so only the cross products are recomputed.
#include <cstdint>
#include <utility>
#include <vector>

#include "rsa/compare.h"

namespace bp {

// Indices of `values` in ascending order, ties broken by `tieBreak` (when given, same length) and then
// by index. An LSD radix sort, linear in the count: std::sort took seconds on the 12.5 million pairs of
// 5,000 images. -0 and +0 are equal; NaN is the caller's to exclude (it has no place in the order).
std::vector<std::uint32_t> sortedOrder(const std::vector<float>& values, const std::vector<float>* tieBreak = nullptr);

// One item of a Kendall count: a y value, counted `weight` times.
struct KendallItem {
  float y;
  std::uint32_t weight;
};

// Kendall's tau-a of the expanded items (each repeated `weight` times; copies tie with each other).
// `items` must be in (x, y) order; xTiedPairs and xyTiedPairs count the pairs of expanded items tied
// on x and on both x and y. Sorts `items` by y (stable), using `buffer`. NaN with fewer than two items
// or when every item ties on x or every item ties on y (a constant side).
// O(items log items) after Knight (1966): discordant pairs are the inversions a merge sort undoes.
double kendallTauASorted(std::vector<KendallItem>& items, std::int64_t xTiedPairs, std::int64_t xyTiedPairs,
                         std::vector<KendallItem>& buffer);

class ComparisonResampler {
public:
  // `a` and `b` must be valid, comparable (same size, same ids) and outlive the resampler: b's values
  // are read in place. At most 65,535 images (pairs are stored as two 16-bit indices).
  ComparisonResampler(const SimilarityMatrix& a, const SimilarityMatrix& b, std::vector<ComparisonMethod> methods);

  // Working memory of one thread, sized on first use.
  struct Scratch {
    std::vector<float> ranks;
    std::vector<KendallItem> items;
    std::vector<KendallItem> buffer;
  };

  // One value per method, in the constructor's order. imageCounts[i]: how often image i was drawn.
  std::vector<double> bootstrapValues(const std::vector<std::uint32_t>& imageCounts, Scratch& scratch) const;
  // b's image permutation[i] takes the place of image i. Throws bp::Error unless it is a permutation.
  std::vector<double> permutedValues(const std::vector<std::int64_t>& permutation, Scratch& scratch) const;

  // Largest per-thread Scratch, for choosing how many threads fit in memory.
  std::int64_t scratchBytes() const;

private:
  struct ImagePair {
    std::uint16_t row;
    std::uint16_t col;
  };
  // Pairs in order of one triangle's values, with the start of each run of tied values marked.
  struct SortedPairs {
    std::vector<ImagePair> pairs;
    std::vector<std::uint8_t> startsTieRun;
  };

  std::int64_t pairIndex(std::int64_t row, std::int64_t col) const { return rowStart_[row] + col - row - 1; }
  std::vector<ImagePair> pairsInTriangleOrder() const;
  // Also gives each pair's average rank (1-based, in triangle order).
  static SortedPairs sortPairs(const std::vector<float>& triangle, const std::vector<ImagePair>& pairAt,
                               std::vector<float>& ranks);
  // sum over pairs (i, j) of (xTriangle(i, j) - xCentre) * yFull(p[i], p[j]).
  double permutedCrossProduct(const std::vector<float>& xTriangle, double xCentre, const float* yFull,
                              const std::vector<std::int64_t>& permutation) const;
  void weightedMoments(const std::vector<std::uint32_t>& counts, double moments[6]) const;
  double bootstrapSpearman(const std::vector<std::uint32_t>& counts, Scratch& scratch) const;
  double bootstrapKendall(const std::vector<std::uint32_t>& counts, Scratch& scratch) const;
  double permutedKendall(const std::vector<std::int64_t>& permutation, Scratch& scratch) const;

  std::vector<ComparisonMethod> methods_;
  std::int64_t size_ = 0;
  std::int64_t pairs_ = 0;
  std::vector<std::int64_t> rowStart_;  // pair index of (i, i + 1)
  const float* bValues_ = nullptr;

  // Pearson and cosine: the triangles as given, centred in double as they are read (float data is exact;
  // centring before storing in float would round it).
  std::vector<float> x_, y_;
  double xMean_ = 0.0, yMean_ = 0.0;
  double xCentredSum_ = 0.0, xCentredSquares_ = 0.0, yCentredSquares_ = 0.0;
  double xSquares_ = 0.0, ySquares_ = 0.0, ySum_ = 0.0;

  // Spearman.
  SortedPairs byX_, byY_;
  std::vector<std::uint32_t> yToXPosition_;  // per position in y order, the pair's position in x order
  std::vector<float> xRanks_;      // triangle of a's ranks (half-integers: exact in float below 2^23 pairs)
  std::vector<float> yRanksFull_;  // b's ranks, mirrored to size x size
  double xRankCentredSum_ = 0.0, xRankCentredSquares_ = 0.0, yRankCentredSquares_ = 0.0;

  // Kendall: pairs in (x, y) order with their values.
  std::vector<ImagePair> byXY_;
  std::vector<float> xByXY_, yByXY_;
  std::vector<std::pair<std::size_t, std::size_t>> xTieRuns_;  // [start, end) of runs of tied x, length > 1
  std::int64_t xTiedPairs_ = 0;
};

}  // namespace bp
