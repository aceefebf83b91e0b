#include "rsa/compare.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>

#include "measures/correlation.h"
#include "rsa/comparison_resampling.h"
#include "runtime/error.h"
#include "runtime/parallel.h"
#include "runtime/random.h"
#include "runtime/runtime.h"
#include "runtime/undefined.h"

namespace bp {
namespace {

// Threads beyond what this much working memory allows add little and risk swapping.
constexpr std::int64_t kScratchBudgetBytes = std::int64_t{1} << 30;

void requireComparable(const SimilarityMatrix& a, const SimilarityMatrix& b) {
  validateSimilarityMatrix(a);
  validateSimilarityMatrix(b);
  if (a.size != b.size)
    throw Error("cannot compare similarity matrices over different images: " + std::to_string(a.size) + " vs " +
                std::to_string(b.size) + " images");
  for (std::size_t i = 0; i < a.imageIds.size(); ++i)
    if (a.imageIds[i] != b.imageIds[i])
      throw Error("cannot compare similarity matrices over different images: row " + std::to_string(i) +
                  " holds image " + std::to_string(a.imageIds[i]) + " in one and " + std::to_string(b.imageIds[i]) +
                  " in the other (reorder one matrix to the other's image order)");
}

// NaN or infinity would make every method NaN or the rank order undefined: say where it is instead.
void requireFiniteTriangle(const SimilarityMatrix& matrix, const char* which) {
  for (std::int64_t i = 0; i < matrix.size; ++i)
    for (std::int64_t j = i + 1; j < matrix.size; ++j)
      if (!std::isfinite(matrix.at(i, j)))
        throw Error(std::string("the ") + which + " similarity matrix holds a non-finite value at (" +
                    std::to_string(i) + ", " + std::to_string(j) + ")");
}

double cosine(const std::vector<float>& x, const std::vector<float>& y) {
  double xy = 0.0, xx = 0.0, yy = 0.0;
  for (std::size_t p = 0; p < x.size(); ++p) {
    xy += static_cast<double>(x[p]) * y[p];
    xx += static_cast<double>(x[p]) * x[p];
    yy += static_cast<double>(y[p]) * y[p];
  }
  return xx > 0.0 && yy > 0.0 ? xy / std::sqrt(xx * yy) : kUndefined;
}

double kendallTauA(const std::vector<float>& x, const std::vector<float>& y) {
  const auto order = sortedOrder(x, &y);
  std::int64_t xTied = 0, xyTied = 0;
  for (std::size_t start = 0; start < order.size();) {
    std::size_t end = start + 1;
    while (end < order.size() && x[order[end]] == x[order[start]]) ++end;
    const auto run = static_cast<std::int64_t>(end - start);
    xTied += run * (run - 1) / 2;
    for (std::size_t inner = start; inner < end;) {
      std::size_t innerEnd = inner + 1;
      while (innerEnd < end && y[order[innerEnd]] == y[order[inner]]) ++innerEnd;
      const auto tied = static_cast<std::int64_t>(innerEnd - inner);
      xyTied += tied * (tied - 1) / 2;
      inner = innerEnd;
    }
    start = end;
  }
  std::vector<KendallItem> items(order.size());
  for (std::size_t k = 0; k < order.size(); ++k) items[k] = {y[order[k]], 1};
  std::vector<KendallItem> buffer;
  return kendallTauASorted(items, xTied, xyTied, buffer);
}

double compareTriangles(const std::vector<float>& x, const std::vector<float>& y, ComparisonMethod method) {
  const auto pairs = static_cast<std::int64_t>(x.size());
  switch (method) {
    case ComparisonMethod::Pearson:
      return pearson(x.data(), y.data(), pairs);
    case ComparisonMethod::Spearman: {
      const auto xRanks = averageRanks(x);
      const auto yRanks = averageRanks(y);
      return pearson(xRanks.data(), yRanks.data(), pairs);
    }
    case ComparisonMethod::KendallTauA:
      return kendallTauA(x, y);
    case ComparisonMethod::Cosine:
      return cosine(x, y);
  }
  return kUndefined;
}

// numpy's default ("linear") percentile of sorted values.
double percentile(const std::vector<double>& sorted, double fraction) {
  const double position = fraction * static_cast<double>(sorted.size() - 1);
  const auto below = static_cast<std::size_t>(std::floor(position));
  if (below + 1 >= sorted.size()) return sorted.back();
  return sorted[below] + (position - static_cast<double>(below)) * (sorted[below + 1] - sorted[below]);
}

void validateConfig(const ComparisonConfig& config) {
  if (config.methods.empty()) throw Error("comparison: no method chosen");
  if (config.bootstrapSamples < 0) throw Error("comparison: bootstrap samples must be 0 or more");
  if (config.permutations < 0) throw Error("comparison: permutations must be 0 or more");
  if (!(config.confidence > 0.0 && config.confidence < 1.0))
    throw Error("comparison: confidence must lie strictly between 0 and 1, got " + std::to_string(config.confidence));
  if (config.threads < 0) throw Error("comparison: threads must be 0 (automatic) or more");
}

}  // namespace

const char* comparisonMethodName(ComparisonMethod method) {
  switch (method) {
    case ComparisonMethod::Pearson: return "pearson";
    case ComparisonMethod::Spearman: return "spearman";
    case ComparisonMethod::KendallTauA: return "kendall-tau-a";
    case ComparisonMethod::Cosine: return "cosine";
  }
  return "unknown";
}

std::optional<ComparisonMethod> parseComparisonMethod(const std::string& name) {
  for (const auto method : allComparisonMethods())
    if (name == comparisonMethodName(method)) return method;
  if (name == "kendall") return ComparisonMethod::KendallTauA;
  return std::nullopt;
}

std::vector<ComparisonMethod> allComparisonMethods() {
  return {ComparisonMethod::Pearson, ComparisonMethod::Spearman, ComparisonMethod::KendallTauA,
          ComparisonMethod::Cosine};
}

void validateSimilarityMatrix(const SimilarityMatrix& matrix) {
  if (matrix.size < 0) throw Error("similarity matrix: negative size");
  const auto size = static_cast<std::size_t>(matrix.size);
  if (matrix.values.size() != size * size)
    throw Error("similarity matrix: " + std::to_string(matrix.values.size()) + " values for " +
                std::to_string(matrix.size) + " images (expected " + std::to_string(size * size) + ")");
  if (matrix.imageIds.size() != size)
    throw Error("similarity matrix: " + std::to_string(matrix.imageIds.size()) + " image ids for " +
                std::to_string(matrix.size) + " images");
  if (!matrix.labels.empty() && matrix.labels.size() != size)
    throw Error("similarity matrix: " + std::to_string(matrix.labels.size()) + " labels for " +
                std::to_string(matrix.size) + " images");
}

std::vector<float> upperTriangle(const SimilarityMatrix& matrix) {
  validateSimilarityMatrix(matrix);
  const std::int64_t n = matrix.size;
  std::vector<float> triangle;
  triangle.reserve(static_cast<std::size_t>(n * (n - 1) / 2));
  for (std::int64_t i = 0; i < n; ++i) {
    const float* row = matrix.values.data() + i * n;
    triangle.insert(triangle.end(), row + i + 1, row + n);
  }
  return triangle;
}

std::vector<double> averageRanks(const std::vector<float>& values) {
  for (std::size_t i = 0; i < values.size(); ++i)
    if (std::isnan(values[i])) throw Error("cannot rank NaN (value " + std::to_string(i) + ")");
  const auto order = sortedOrder(values);
  std::vector<double> ranks(values.size());
  for (std::size_t start = 0; start < order.size();) {
    std::size_t end = start + 1;
    while (end < order.size() && values[order[end]] == values[order[start]]) ++end;
    const double meanRank = 0.5 * static_cast<double>(start + 1 + end);  // mean of start+1 .. end
    for (std::size_t k = start; k < end; ++k) ranks[order[k]] = meanRank;
    start = end;
  }
  return ranks;
}

double compareMatrices(const SimilarityMatrix& a, const SimilarityMatrix& b, ComparisonMethod method) {
  requireComparable(a, b);
  requireFiniteTriangle(a, "first");
  requireFiniteTriangle(b, "second");
  return compareTriangles(upperTriangle(a), upperTriangle(b), method);
}

ComparisonResult compareWithStatistics(const SimilarityMatrix& a, const SimilarityMatrix& b,
                                       const ComparisonConfig& config, const Job& job) {
  validateConfig(config);
  requireComparable(a, b);
  requireFiniteTriangle(a, "first");
  requireFiniteTriangle(b, "second");

  ComparisonResult result;
  result.images = a.size;
  result.pairs = a.size * (a.size - 1) / 2;
  result.bootstrapSamples = config.bootstrapSamples;
  result.permutations = config.permutations;
  result.confidence = config.confidence;
  result.seed = config.seed;

  const int samples = config.bootstrapSamples + config.permutations;
  std::vector<ComparisonMethod> resampled;
  for (const auto method : config.methods) {
    if (samples == 0 || std::find(resampled.begin(), resampled.end(), method) != resampled.end()) continue;
    if (method == ComparisonMethod::KendallTauA && result.pairs > config.kendallResamplingMaxPairs) {
      result.notes.push_back("kendall-tau-a: no interval or p-value, because " + std::to_string(result.pairs) +
                             " pairs exceed the resampling limit of " +
                             std::to_string(config.kendallResamplingMaxPairs) +
                             " (each resample would need a merge sort of all pairs)");
      continue;
    }
    resampled.push_back(method);
  }

  // A resampled method's observed value is the unpermuted one from the resampler's own arithmetic: the
  // permutation test then compares like with like, and the triangles are ranked once, not twice.
  std::optional<ComparisonResampler> resampler;
  std::vector<double> unpermuted;
  const auto n = static_cast<std::uint64_t>(a.size);
  if (!resampled.empty()) {
    job.progress(0.0, "preparing resampling");
    resampler.emplace(a, b, resampled);
    std::vector<std::int64_t> identity(n);
    std::iota(identity.begin(), identity.end(), std::int64_t{0});
    ComparisonResampler::Scratch scratch;
    unpermuted = resampler->permutedValues(identity, scratch);
  }
  std::vector<float> x, y;
  for (const auto method : config.methods) {
    job.throwIfCancelled();
    const auto m = static_cast<std::size_t>(std::find(resampled.begin(), resampled.end(), method) - resampled.begin());
    double value = 0.0;
    if (m < resampled.size()) {
      value = unpermuted[m];
    } else {
      if (x.empty()) {
        x = upperTriangle(a);
        y = upperTriangle(b);
      }
      value = compareTriangles(x, y, method);
    }
    result.rows.push_back({method, value, kUndefined, kUndefined, kUndefined});
  }
  if (resampled.empty()) return result;

  int threads = config.threads > 0 ? config.threads : runtimeInfo().threads;
  const auto memoryBound = std::max<std::int64_t>(1, kScratchBudgetBytes / std::max<std::int64_t>(1, resampler->scratchBytes()));
  threads = static_cast<int>(std::clamp<std::int64_t>(threads, 1, std::min<std::int64_t>(memoryBound, samples)));

  // values[m][t]: method m on sample t (bootstrap samples first, then permutations).
  std::vector<std::vector<double>> values(resampled.size(), std::vector<double>(static_cast<std::size_t>(samples)));
  std::vector<ComparisonResampler::Scratch> scratches(static_cast<std::size_t>(threads));  // one per worker thread
  const auto sample = [&](std::size_t index, std::size_t worker) {
    const int t = static_cast<int>(index);
    ComparisonResampler::Scratch& scratch = scratches[worker];
    std::vector<double> sampleValues;
    if (t < config.bootstrapSamples) {
      RandomStream random(config.seed, 2 * static_cast<std::uint64_t>(t));
      std::vector<std::uint32_t> counts(n, 0);
      for (std::uint64_t draw = 0; draw < n; ++draw) ++counts[random.below(n)];
      sampleValues = resampler->bootstrapValues(counts, scratch);
    } else {
      RandomStream random(config.seed, 2 * static_cast<std::uint64_t>(t - config.bootstrapSamples) + 1);
      std::vector<std::int64_t> permutation(n);
      std::iota(permutation.begin(), permutation.end(), std::int64_t{0});
      random.shuffle(permutation);
      sampleValues = resampler->permutedValues(permutation, scratch);
    }
    for (std::size_t m = 0; m < resampled.size(); ++m) values[m][static_cast<std::size_t>(t)] = sampleValues[m];
  };
  parallelFor(static_cast<std::size_t>(samples), static_cast<std::size_t>(threads), job.subJob(0.1, 1.0),
              [](std::size_t, std::size_t) { return std::string("bootstrap and permutations"); }, sample);

  const double tail = 0.5 * (1.0 - config.confidence);
  for (auto& row : result.rows) {
    const auto m = static_cast<std::size_t>(std::find(resampled.begin(), resampled.end(), row.method) - resampled.begin());
    if (m == resampled.size()) continue;
    std::vector<double> bootstrap;
    for (int t = 0; t < config.bootstrapSamples; ++t)
      if (!std::isnan(values[m][static_cast<std::size_t>(t)])) bootstrap.push_back(values[m][static_cast<std::size_t>(t)]);
    if (!bootstrap.empty()) {
      std::sort(bootstrap.begin(), bootstrap.end());
      row.ciLow = percentile(bootstrap, tail);
      row.ciHigh = percentile(bootstrap, 1.0 - tail);
    }
    if (config.permutations > 0 && !std::isnan(row.value)) {
      int asExtreme = 0;
      for (int t = config.bootstrapSamples; t < samples; ++t)
        if (std::abs(values[m][static_cast<std::size_t>(t)]) >= std::abs(row.value)) ++asExtreme;
      row.pValue = (1.0 + asExtreme) / (1.0 + config.permutations);
    }
  }
  return result;
}

nlohmann::json toJson(const ComparisonResult& result) {
  const auto number = [](double value) { return std::isnan(value) ? nlohmann::json() : nlohmann::json(value); };
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& row : result.rows)
    rows.push_back({{"method", comparisonMethodName(row.method)},
                    {"value", number(row.value)},
                    {"ci_low", number(row.ciLow)},
                    {"ci_high", number(row.ciHigh)},
                    {"p_value", number(row.pValue)}});
  return {{"images", result.images},
          {"pairs", result.pairs},
          {"bootstrap_samples", result.bootstrapSamples},
          {"permutations", result.permutations},
          {"confidence", result.confidence},
          {"seed", result.seed},
          {"rows", rows},
          {"notes", result.notes}};
}

}  // namespace bp
