#pragma once
// What a similarity matrix's values look like, and whether they can serve as a structure at all.
//
// Li et al.'s regularizer compares atanh-transformed similarities (docs/science.md §1 step 5), so
// pairs near +-1 weigh far more than the rest: atanh(0.5) = 0.55, atanh(0.9) = 1.47, and the
// regularizer's clamp caps |atanh| at 3.80. A target whose pairs mostly sit near +-1 says little more
// than a sign per pair and dominates the loss. This is measured here and flagged wherever a matrix
// is made or shown (the CLI's rsa and target, the demo, the GUI, the report, a training run).
#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "runtime/job.h"

namespace bp {

struct SimilarityMatrix;
class SimilarityMatrixFile;

// The regularizer clamps similarities to [-1 + eps, 1 - eps] before atanh; this is its default eps.
constexpr double kAtanhClampEpsilon = 1e-3;
// |s| beyond this counts as near +-1 (atanh 1.47 and more).
constexpr double kNearOneSimilarity = 0.9;
// Bins of the histogram every description carries: 0.05 wide over [-1, 1] for similarities.
constexpr int kDistributionBins = 40;

struct SimilarityDistribution {
  static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

  std::int64_t pairs = 0;           // off-diagonal pairs (i < j)
  std::int64_t undefinedPairs = 0;  // of them, not finite
  double lowest = kNaN;
  double highest = kNaN;
  double mean = kNaN;
  // The 5th, 25th, 50th, 75th and 95th percentiles of the finite values, to within 1/4000 of the
  // histogram's range (0.0005 for similarities).
  std::array<double, 5> percentiles{kNaN, kNaN, kNaN, kNaN, kNaN};
  static constexpr std::array<int, 5> kPercentiles{5, 25, 50, 75, 95};

  // kDistributionBins equal bins over [histogramLow, histogramHigh]: [-1, 1] for similarities,
  // the value range otherwise. Counts of finite values.
  double histogramLow = kNaN;
  double histogramHigh = kNaN;
  std::vector<std::int64_t> histogram;

  // Cosine or Pearson values (shown as s or as 1 - s), which the regularizer can pull towards:
  // s as it sees it. False for Euclidean distances and ranks, where the figures below are NaN.
  bool bounded = false;
  double clampEpsilon = kAtanhClampEpsilon;
  double nearOneShare = kNaN;        // pairs with |s| > 0.9
  double atClampShare = kNaN;        // pairs with |s| >= 1 - eps: atanh is capped there
  double meanSquaredAtanh = kNaN;    // mean atanh(c(s))^2: L_sim towards this target of a model whose similarities are all 0
  double nearOneLossShare = kNaN;    // the share of sum atanh(c(s))^2 that the pairs with |s| > 0.9 carry

  // Why the values cannot serve as a similarity structure, or empty: half or more of the pairs
  // undefined, every pair equal, or (bounded) saturated: the pairs beyond +-0.9 carry half or more
  // of the atanh loss.
  std::string degenerate;
};

SimilarityDistribution describeSimilarity(const SimilarityMatrix& matrix, double clampEpsilon = kAtanhClampEpsilon);
// The same from a matrix file of any size, read twice in blocks of rows (memory bounded).
SimilarityDistribution describeSimilarity(const SimilarityMatrixFile& file, const Job& job = {},
                                          double clampEpsilon = kAtanhClampEpsilon);

// {"pairs", "undefined_pairs", "lowest", "highest", "mean", "percentiles": {"5": .., ...},
//  "histogram": {"low", "high", "counts"}, and when bounded "near_one_share", "at_clamp_share",
//  "clamp_epsilon", "mean_squared_atanh", "near_one_loss_share"; "degenerate" when it is}.
nlohmann::json toJson(const SimilarityDistribution& distribution);

// One line for logs and the CLI: "median 0.12 (5th-95th percentile -0.35 to 0.78), 1.5% of pairs
// beyond +-0.9 carrying 30% of the atanh loss".
std::string summarize(const SimilarityDistribution& distribution);

}  // namespace bp
