#pragma once
// Second-order comparison: how alike are two similarity matrices over the same images? Each matrix
// is reduced to its upper triangle (pairs i < j: the diagonal is fixed by construction and would
// only inflate agreement) and the two triangles are correlated.
//
// compareWithStatistics adds a bootstrap confidence interval and a permutation p-value, both over
// images, because images are the independent units: the n(n-1)/2 pairs share images, so resampling
// pairs would pretend there are far more independent observations than there are.
// The agreement of a model's matrix with a data matrix (the paper's r = 0.73 for predicted versus
// repeat-averaged similarity) is compareMatrices(model, data, method); there is no separate call.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rsa/similarity.h"
#include "runtime/job.h"

namespace bp {

enum class ComparisonMethod {
  Pearson,      // linear agreement of the values
  Spearman,     // Pearson correlation of average ranks (ties share the mean of their ranks)
  KendallTauA,  // (concordant - discordant) / all pairs of pairs; pairs tied on either side count as neither
  Cosine,       // uncentred: sum xy / sqrt(sum xx * sum yy), so a common offset of the values counts as agreement
};

const char* comparisonMethodName(ComparisonMethod method);  // "pearson", "spearman", "kendall-tau-a", "cosine"
std::optional<ComparisonMethod> parseComparisonMethod(const std::string& name);  // the names above, or "kendall"
std::vector<ComparisonMethod> allComparisonMethods();

// Throws bp::Error unless `values` holds size x size entries and imageIds (and labels, when present)
// one per row.
void validateSimilarityMatrix(const SimilarityMatrix& matrix);

// The values above the diagonal, row by row: (0,1), (0,2), ..., (0,n-1), (1,2), ...: n(n-1)/2 of them.
std::vector<float> upperTriangle(const SimilarityMatrix& matrix);

// 1-based ranks; tied values share the mean of the ranks they span. Throws bp::Error on NaN (no order).
std::vector<double> averageRanks(const std::vector<float>& values);

// The method's value over the two upper triangles. NaN where it is undefined: fewer than two pairs,
// or a constant triangle (an all-zero one for cosine). Throws bp::Error when the matrices differ in
// size or in image ids (the message names the first differing row), or hold a non-finite value.
double compareMatrices(const SimilarityMatrix& a, const SimilarityMatrix& b, ComparisonMethod method);

struct ComparisonConfig {
  std::vector<ComparisonMethod> methods = allComparisonMethods();
  int bootstrapSamples = 1000;  // 0: no confidence intervals
  double confidence = 0.95;     // coverage of the percentile interval
  int permutations = 1000;      // 0: no p-values
  std::uint64_t seed = 1;
  // Kendall's tau costs a merge sort of all pairs per bootstrap sample or permutation; above this many
  // pairs its interval and p-value are left out (NaN, and a note says so) rather than taking minutes.
  // The default, about 320 images, keeps Kendall's 2,000 resamples to about ten seconds on one core.
  std::int64_t kendallResamplingMaxPairs = 50000;
  int threads = 0;  // resampling threads; 0: the runtime's thread count
};

struct ComparisonRow {
  ComparisonMethod method = ComparisonMethod::Pearson;
  double value = 0.0;
  double ciLow = 0.0;   // percentile bootstrap interval; NaN when not computed
  double ciHigh = 0.0;
  double pValue = 0.0;  // two-sided permutation test; NaN when not computed
};

struct ComparisonResult {
  std::vector<ComparisonRow> rows;  // one per configured method, in the configured order
  std::int64_t images = 0;
  std::int64_t pairs = 0;
  int bootstrapSamples = 0;
  int permutations = 0;
  double confidence = 0.0;
  std::uint64_t seed = 0;
  std::vector<std::string> notes;  // why a row lacks an interval or a p-value
};

// Bootstrap: draw n images with replacement and compare only pairs of two different original images
// (a pair of copies of one image would compare the diagonal); the interval is the percentile interval
// of the samples' values (samples where a method is undefined are left out). Permutation: shuffle the
// image order of b against a; p = (1 + #{|permuted| >= |observed|}) / (1 + permutations).
// Each sample costs one pass over the pairs (see rsa/comparison_resampling.h). Memory, with every
// method: about 34 bytes per pair (425 MB for 5,000 images) plus 4 per pair and thread for Spearman. Throws bp::Error as compareMatrices
// does or for an invalid config, CancelledError when the job is cancelled.
ComparisonResult compareWithStatistics(const SimilarityMatrix& a, const SimilarityMatrix& b,
                                       const ComparisonConfig& config = {}, const Job& job = {});

// Keys are snake_case; NaN becomes null.
nlohmann::json toJson(const ComparisonResult& result);

}  // namespace bp
