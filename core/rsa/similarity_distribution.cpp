#include "rsa/similarity_distribution.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include <nlohmann/json.hpp>

#include "rsa/matrix_file.h"
#include "rsa/similarity.h"
#include "runtime/number_format.h"

namespace bp {
namespace {

// Percentiles are read from a histogram this fine: 0.0005 wide over [-1, 1].
constexpr int kFineBins = 100 * kDistributionBins;
// A file is read in blocks of rows of at most this many values (64 MiB of floats).
constexpr std::int64_t kFileBlockValues = std::int64_t{16} << 20;

// Calls visit(values, count) with the values right of the diagonal, row after row.
using UpperTriangleVisit = std::function<void(const float* values, std::int64_t count)>;
using UpperTriangleReader = std::function<void(const UpperTriangleVisit& visit, const Job& job)>;

// s as the regularizer sees it: the similarity whatever form the matrix shows it in.
double similarityOf(double value, bool dissimilarity) { return dissimilarity ? 1.0 - value : value; }

SimilarityDistribution describe(const SimilarityConfig& config, const nlohmann::json& provenance,
                                double clampEpsilon, const UpperTriangleReader& read, const Job& job) {
  SimilarityDistribution d;
  d.clampEpsilon = clampEpsilon;
  // Ranks (rsa/ordering.h's rankTransform) are not similarities, whatever the measure behind them.
  const bool ranks = provenance.is_object() && provenance.value("transform", std::string()) == "rank";
  d.bounded = config.measure != SimilarityMeasure::Euclidean && !ranks;
  const bool dissimilarity = config.dissimilarity;
  const double bound = 1.0 - clampEpsilon;

  // First pass: range, mean and the atanh figures.
  std::int64_t finite = 0;
  std::int64_t nearOne = 0;
  std::int64_t atClamp = 0;
  double sum = 0.0;
  double squaredAtanh = 0.0;
  double nearOneSquaredAtanh = 0.0;
  double lowest = std::numeric_limits<double>::infinity();
  double highest = -std::numeric_limits<double>::infinity();
  read(
      [&](const float* values, std::int64_t count) {
        d.pairs += count;
        for (std::int64_t k = 0; k < count; ++k) {
          const double value = values[k];
          if (!std::isfinite(value)) {
            ++d.undefinedPairs;
            continue;
          }
          ++finite;
          sum += value;
          lowest = std::min(lowest, value);
          highest = std::max(highest, value);
          if (!d.bounded) continue;
          const double s = similarityOf(value, dissimilarity);
          const double squared = std::pow(std::atanh(std::clamp(s, -bound, bound)), 2);
          squaredAtanh += squared;
          if (std::abs(s) > kNearOneSimilarity) {
            ++nearOne;
            nearOneSquaredAtanh += squared;
          }
          if (std::abs(s) >= bound) ++atClamp;
        }
      },
      job.subJob(0.0, 0.5));
  if (finite == 0) {
    if (d.pairs > 0) d.degenerate = "the matrix is degenerate: every pair is undefined (images whose responses do not vary)";
    return d;
  }
  d.lowest = lowest;
  d.highest = highest;
  d.mean = sum / static_cast<double>(finite);
  if (d.bounded) {
    d.nearOneShare = static_cast<double>(nearOne) / static_cast<double>(finite);
    d.atClampShare = static_cast<double>(atClamp) / static_cast<double>(finite);
    d.meanSquaredAtanh = squaredAtanh / static_cast<double>(finite);
    d.nearOneLossShare = squaredAtanh > 0.0 ? nearOneSquaredAtanh / squaredAtanh : 0.0;
  }

  // Second pass: a fine histogram, from which the percentiles and the shown bins are read.
  if (d.bounded) {
    d.histogramLow = dissimilarity ? 0.0 : -1.0;
    d.histogramHigh = dissimilarity ? 2.0 : 1.0;
  } else {
    d.histogramLow = lowest;
    d.histogramHigh = highest > lowest ? highest : lowest + 1.0;
  }
  const double width = (d.histogramHigh - d.histogramLow) / kFineBins;
  std::vector<std::int64_t> fine(kFineBins, 0);
  read(
      [&](const float* values, std::int64_t count) {
        for (std::int64_t k = 0; k < count; ++k) {
          const double value = values[k];
          if (!std::isfinite(value)) continue;
          // Rounding can put a cosine a hair outside [-1, 1]: it belongs to the edge bin.
          const auto bin = static_cast<std::int64_t>(std::floor((value - d.histogramLow) / width));
          ++fine[static_cast<std::size_t>(std::clamp<std::int64_t>(bin, 0, kFineBins - 1))];
        }
      },
      job.subJob(0.5, 1.0));
  d.histogram.assign(kDistributionBins, 0);
  for (int bin = 0; bin < kFineBins; ++bin)
    d.histogram[static_cast<std::size_t>(bin / (kFineBins / kDistributionBins))] += fine[static_cast<std::size_t>(bin)];
  for (std::size_t p = 0; p < d.percentiles.size(); ++p) {
    // The value below which this share of the finite values lies, interpolated within its bin.
    const double rank = SimilarityDistribution::kPercentiles[p] / 100.0 * static_cast<double>(finite);
    double below = 0.0;
    for (int bin = 0; bin < kFineBins; ++bin) {
      const auto inBin = static_cast<double>(fine[static_cast<std::size_t>(bin)]);
      if (below + inBin >= rank && inBin > 0) {
        const double value = d.histogramLow + (bin + (rank - below) / inBin) * width;
        d.percentiles[p] = std::clamp(value, lowest, highest);
        break;
      }
      below += inBin;
    }
  }

  const auto percent = [](double share) { return formatFixed(100.0 * share, share < 0.1 ? 1 : 0) + "%"; };
  const double undefinedShare = static_cast<double>(d.undefinedPairs) / static_cast<double>(d.pairs);
  if (undefinedShare >= 0.5)
    d.degenerate = "the matrix is degenerate: " + percent(undefinedShare) +
                   " of its pairs are undefined (images whose responses do not vary)";
  else if (highest - lowest < 1e-6)
    d.degenerate = "the matrix is degenerate: every pair has the same value";
  else if (d.bounded && d.nearOneLossShare >= 0.5)
    d.degenerate = "the matrix is saturated: " + percent(d.nearOneShare) + " of its pairs are beyond \u00b10.9 and " +
                   "carry " + percent(d.nearOneLossShare) +
                   " of a regularizer's atanh loss towards it, so as a target those pairs dominate training and it says "
                   "little more than a sign per pair (a weak or briefly fitted model, saturated or near-silent "
                   "responses, or images unlike the recording's; a better fitted model, more neurons or other images "
                   "give it structure)";
  return d;
}

}  // namespace

SimilarityDistribution describeSimilarity(const SimilarityMatrix& matrix, double clampEpsilon) {
  const std::int64_t n = matrix.size;
  return describe(
      matrix.config, matrix.provenance, clampEpsilon,
      [&matrix, n](const UpperTriangleVisit& visit, const Job& job) {
        for (std::int64_t i = 0; i + 1 < n; ++i) {
          if (i % 256 == 0) job.throwIfCancelled();
          visit(matrix.values.data() + i * n + i + 1, n - i - 1);
        }
      },
      {});
}

SimilarityDistribution describeSimilarity(const SimilarityMatrixFile& file, const Job& job, double clampEpsilon) {
  const std::int64_t n = file.size();
  const std::int64_t blockRows = std::max<std::int64_t>(1, kFileBlockValues / std::max<std::int64_t>(1, n));
  return describe(
      file.config(), file.provenance(), clampEpsilon,
      [&file, n, blockRows](const UpperTriangleVisit& visit, const Job& pass) {
        for (std::int64_t row0 = 0; row0 + 1 < n; row0 += blockRows) {
          pass.throwIfCancelled();
          pass.progress(static_cast<double>(row0) / static_cast<double>(n), "reading the matrix");
          const std::int64_t rows = std::min(blockRows, n - row0);
          const std::vector<float> block = file.readBlock(row0, 0, rows, n);
          for (std::int64_t r = 0; r < rows; ++r) {
            const std::int64_t i = row0 + r;
            if (i + 1 < n) visit(block.data() + r * n + i + 1, n - i - 1);
          }
        }
      },
      job);
}

nlohmann::json toJson(const SimilarityDistribution& d) {
  const auto number = [](double value) { return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr); };
  nlohmann::json percentiles = nlohmann::json::object();
  for (std::size_t p = 0; p < d.percentiles.size(); ++p)
    percentiles[std::to_string(SimilarityDistribution::kPercentiles[p])] = number(d.percentiles[p]);
  nlohmann::json json = {{"pairs", d.pairs},
                         {"undefined_pairs", d.undefinedPairs},
                         {"lowest", number(d.lowest)},
                         {"highest", number(d.highest)},
                         {"mean", number(d.mean)},
                         {"percentiles", percentiles},
                         {"histogram", {{"low", number(d.histogramLow)}, {"high", number(d.histogramHigh)}, {"counts", d.histogram}}}};
  if (d.bounded) {
    json["clamp_epsilon"] = d.clampEpsilon;
    json["near_one_share"] = number(d.nearOneShare);
    json["at_clamp_share"] = number(d.atClampShare);
    json["mean_squared_atanh"] = number(d.meanSquaredAtanh);
    json["near_one_loss_share"] = number(d.nearOneLossShare);
  }
  if (!d.degenerate.empty()) json["degenerate"] = d.degenerate;
  return json;
}

std::string summarize(const SimilarityDistribution& d) {
  if (!std::isfinite(d.mean)) return "no defined values";
  std::string text = "median " + formatFixed(d.percentiles[2], 2) + " (5th\u201395th percentile " +
                     formatFixed(d.percentiles[0], 2) + " to " + formatFixed(d.percentiles[4], 2) + ")";
  if (d.bounded)
    text += ", " + formatFixed(100.0 * d.nearOneShare, 1) + "% of pairs beyond \u00b10.9 carrying " +
            formatFixed(100.0 * d.nearOneLossShare, 0) + "% of the atanh loss";
  return text;
}

}  // namespace bp
