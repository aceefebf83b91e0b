#include "rsa/comparison_resampling.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <utility>

#include "runtime/error.h"
#include "runtime/undefined.h"

namespace bp {
namespace {


bool contains(const std::vector<ComparisonMethod>& methods, ComparisonMethod method) {
  return std::find(methods.begin(), methods.end(), method) != methods.end();
}

// A hint that `address` will be read soon; nothing where the compiler offers no such hint.
inline void prefetch(const void* address) {
#if defined(__GNUC__)
  __builtin_prefetch(address);
#else
  (void)address;
#endif
}

// Pairs among `weight` expanded items that all tie with each other.
std::int64_t tiedPairs(std::int64_t weight) { return weight * (weight - 1) / 2; }

// Pearson's r from weighted sums of centred values: {W, Sx, Sy, Sxx, Syy, Sxy}. A spread below 1e-12 of
// the sum of squares is rounding residue of a constant sample, not variation.
double weightedPearson(const double moments[6]) {
  const double weight = moments[0];
  if (weight <= 0.0) return kUndefined;
  const double xVariation = moments[3] - moments[1] * moments[1] / weight;
  const double yVariation = moments[4] - moments[2] * moments[2] / weight;
  if (!(xVariation > 1e-12 * moments[3]) || !(yVariation > 1e-12 * moments[4])) return kUndefined;
  return (moments[5] - moments[1] * moments[2] / weight) / std::sqrt(xVariation * yVariation);
}

// Ratio of a cross product to the root of two sums of squares, NaN when either is zero.
double normalised(double cross, double xSquares, double ySquares) {
  return xSquares > 0.0 && ySquares > 0.0 ? cross / std::sqrt(xSquares * ySquares) : kUndefined;
}

// Unsigned keys that sort as the floats do (sign flipped for positives, all bits for negatives).
std::uint32_t orderedKey(float value) {
  if (value == 0.0f) value = 0.0f;  // -0 sorts with +0
  std::uint32_t bits = 0;
  std::memcpy(&bits, &value, sizeof bits);
  return (bits & 0x80000000u) ? ~bits : bits | 0x80000000u;
}

struct KeyedIndex {
  std::uint32_t key;
  std::uint32_t index;
};

// Stable sort by key: three counting passes of 11 bits each.
void radixSortByKey(std::vector<KeyedIndex>& items, std::vector<KeyedIndex>& buffer) {
  constexpr int kBits = 11;
  constexpr std::uint32_t kBuckets = 1u << kBits;
  buffer.resize(items.size());
  std::vector<std::size_t> offsets(kBuckets);
  for (int shift = 0; shift < 32; shift += kBits) {
    std::fill(offsets.begin(), offsets.end(), 0);
    for (const auto& item : items) ++offsets[(item.key >> shift) & (kBuckets - 1)];
    std::size_t total = 0;
    for (auto& offset : offsets) total += std::exchange(offset, total);
    for (const auto& item : items) buffer[offsets[(item.key >> shift) & (kBuckets - 1)]++] = item;
    items.swap(buffer);
  }
}

}  // namespace

std::vector<std::uint32_t> sortedOrder(const std::vector<float>& values, const std::vector<float>* tieBreak) {
  if (values.size() > std::numeric_limits<std::uint32_t>::max()) throw Error("too many values to sort");
  std::vector<KeyedIndex> items(values.size()), buffer;
  for (std::size_t i = 0; i < values.size(); ++i)
    items[i] = {orderedKey(tieBreak ? (*tieBreak)[i] : values[i]), static_cast<std::uint32_t>(i)};
  radixSortByKey(items, buffer);
  if (tieBreak) {  // least significant key first: a stable sort by the main key keeps the tie-break order
    for (auto& item : items) item.key = orderedKey(values[item.index]);
    radixSortByKey(items, buffer);
  }
  std::vector<std::uint32_t> order(items.size());
  for (std::size_t k = 0; k < items.size(); ++k) order[k] = items[k].index;
  return order;
}

double kendallTauASorted(std::vector<KendallItem>& items, std::int64_t xTiedPairs, std::int64_t xyTiedPairs,
                         std::vector<KendallItem>& buffer) {
  std::int64_t total = 0;
  for (const auto& item : items) total += item.weight;
  if (total < 2) return kUndefined;

  // Bottom-up merge sort by y. A left item placed after right items with smaller y is discordant with
  // each of them (x grows left to right, and x-ties are sorted by y, so no tie is counted).
  const auto count = items.size();
  buffer.resize(count);
  KendallItem* from = items.data();
  KendallItem* to = buffer.data();
  std::int64_t discordant = 0;
  for (std::size_t width = 1; width < count; width *= 2) {
    for (std::size_t low = 0; low < count; low += 2 * width) {
      const std::size_t middle = std::min(low + width, count);
      const std::size_t high = std::min(low + 2 * width, count);
      std::size_t left = low, right = middle, out = low;
      std::int64_t rightWeightTaken = 0;
      while (left < middle && right < high) {
        if (from[right].y < from[left].y) {
          rightWeightTaken += from[right].weight;
          to[out++] = from[right++];
        } else {
          discordant += rightWeightTaken * from[left].weight;
          to[out++] = from[left++];
        }
      }
      for (; left < middle; ++left) {
        discordant += rightWeightTaken * from[left].weight;
        to[out++] = from[left];
      }
      for (; right < high; ++right) to[out++] = from[right];
    }
    std::swap(from, to);
  }
  if (from != items.data()) std::copy(from, from + count, items.data());

  std::int64_t yTiedPairs = 0;
  for (std::size_t start = 0; start < count;) {
    std::int64_t runWeight = 0;
    std::size_t end = start;
    for (; end < count && items[end].y == items[start].y; ++end) runWeight += items[end].weight;
    yTiedPairs += tiedPairs(runWeight);
    start = end;
  }
  // All pairs = concordant + discordant + tied on x or y (inclusion-exclusion over the two ties).
  const std::int64_t pairs = tiedPairs(total);
  if (xTiedPairs == pairs || yTiedPairs == pairs) return kUndefined;  // a constant side, as Pearson's NaN
  const std::int64_t concordantMinusDiscordant = pairs - xTiedPairs - yTiedPairs + xyTiedPairs - 2 * discordant;
  return static_cast<double>(concordantMinusDiscordant) / static_cast<double>(pairs);
}

ComparisonResampler::ComparisonResampler(const SimilarityMatrix& a, const SimilarityMatrix& b,
                                         std::vector<ComparisonMethod> methods)
    : methods_(std::move(methods)), size_(a.size), bValues_(b.values.data()) {
  if (size_ > std::numeric_limits<std::uint16_t>::max())
    throw Error("resampling a comparison supports at most 65535 images, got " + std::to_string(size_));
  pairs_ = size_ * (size_ - 1) / 2;
  rowStart_.resize(static_cast<std::size_t>(size_));
  for (std::int64_t i = 0; i < size_; ++i) rowStart_[i] = i * size_ - i * (i + 1) / 2;
  auto x = upperTriangle(a);
  auto y = upperTriangle(b);
  const auto pairs = static_cast<std::size_t>(pairs_);

  const bool needsValues = contains(methods_, ComparisonMethod::Pearson) || contains(methods_, ComparisonMethod::Cosine);
  if (needsValues) {
    double xSum = 0.0, ySum = 0.0;
    for (std::size_t p = 0; p < pairs; ++p) {
      xSum += x[p];
      ySum += y[p];
    }
    xMean_ = pairs ? xSum / static_cast<double>(pairs) : 0.0;
    yMean_ = pairs ? ySum / static_cast<double>(pairs) : 0.0;
    ySum_ = ySum;
    for (std::size_t p = 0; p < pairs; ++p) {
      xCentredSum_ += x[p] - xMean_;
      xCentredSquares_ += (x[p] - xMean_) * (x[p] - xMean_);
      yCentredSquares_ += (y[p] - yMean_) * (y[p] - yMean_);
      xSquares_ += static_cast<double>(x[p]) * x[p];
      ySquares_ += static_cast<double>(y[p]) * y[p];
    }
  }

  if (contains(methods_, ComparisonMethod::Spearman)) {
    const auto pairAt = pairsInTriangleOrder();
    std::vector<float> yRanks;
    byX_ = sortPairs(x, pairAt, xRanks_);
    byY_ = sortPairs(y, pairAt, yRanks);
    std::vector<std::uint32_t> positionInX(pairs);
    for (std::size_t k = 0; k < pairs; ++k)
      positionInX[static_cast<std::size_t>(pairIndex(byX_.pairs[k].row, byX_.pairs[k].col))] = static_cast<std::uint32_t>(k);
    yToXPosition_.resize(pairs);
    for (std::size_t k = 0; k < pairs; ++k)
      yToXPosition_[k] = positionInX[static_cast<std::size_t>(pairIndex(byY_.pairs[k].row, byY_.pairs[k].col))];
    const double meanRank = 0.5 * static_cast<double>(pairs_ + 1);
    for (std::size_t p = 0; p < pairs; ++p) {
      const double centred = static_cast<double>(xRanks_[p]) - meanRank;
      xRankCentredSum_ += centred;
      xRankCentredSquares_ += centred * centred;
    }
    yRanksFull_.assign(static_cast<std::size_t>(size_ * size_), 0.0f);
    for (std::int64_t i = 0; i < size_; ++i)
      for (std::int64_t j = i + 1; j < size_; ++j) {
        const float rank = yRanks[static_cast<std::size_t>(pairIndex(i, j))];
        yRanksFull_[i * size_ + j] = yRanksFull_[j * size_ + i] = rank;
        yRankCentredSquares_ += (rank - meanRank) * (rank - meanRank);
      }
  }

  if (contains(methods_, ComparisonMethod::KendallTauA)) {
    const auto order = sortedOrder(x, &y);
    const auto pairAt = pairsInTriangleOrder();
    byXY_.resize(pairs);
    xByXY_.resize(pairs);
    yByXY_.resize(pairs);
    for (std::size_t k = 0; k < pairs; ++k) {
      byXY_[k] = pairAt[order[k]];
      xByXY_[k] = x[order[k]];
      yByXY_[k] = y[order[k]];
    }
    for (std::size_t start = 0; start < pairs;) {
      std::size_t end = start + 1;
      while (end < pairs && xByXY_[end] == xByXY_[start]) ++end;
      if (end - start > 1) xTieRuns_.emplace_back(start, end);
      xTiedPairs_ += tiedPairs(static_cast<std::int64_t>(end - start));
      start = end;
    }
  }
  if (needsValues) {
    x_ = std::move(x);
    y_ = std::move(y);
  }
}

std::vector<ComparisonResampler::ImagePair> ComparisonResampler::pairsInTriangleOrder() const {
  std::vector<ImagePair> pairs(static_cast<std::size_t>(pairs_));
  for (std::int64_t i = 0; i < size_; ++i)
    for (std::int64_t j = i + 1; j < size_; ++j)
      pairs[static_cast<std::size_t>(pairIndex(i, j))] = {static_cast<std::uint16_t>(i), static_cast<std::uint16_t>(j)};
  return pairs;
}

ComparisonResampler::SortedPairs ComparisonResampler::sortPairs(const std::vector<float>& triangle,
                                                                const std::vector<ImagePair>& pairAt,
                                                                std::vector<float>& ranks) {
  const auto order = sortedOrder(triangle);
  SortedPairs sorted;
  sorted.pairs.resize(triangle.size());
  sorted.startsTieRun.assign(triangle.size(), 0);
  ranks.resize(triangle.size());
  for (std::size_t start = 0; start < order.size();) {
    std::size_t end = start + 1;
    while (end < order.size() && triangle[order[end]] == triangle[order[start]]) ++end;
    sorted.startsTieRun[start] = 1;
    const auto meanRank = static_cast<float>(0.5 * static_cast<double>(start + 1 + end));  // of start+1 .. end
    for (std::size_t k = start; k < end; ++k) {
      sorted.pairs[k] = pairAt[order[k]];
      ranks[order[k]] = meanRank;
    }
    start = end;
  }
  return sorted;
}

std::int64_t ComparisonResampler::scratchBytes() const {
  std::int64_t bytes = 0;
  if (contains(methods_, ComparisonMethod::Spearman)) bytes += pairs_ * static_cast<std::int64_t>(sizeof(float));
  if (contains(methods_, ComparisonMethod::KendallTauA)) bytes += 2 * pairs_ * static_cast<std::int64_t>(sizeof(KendallItem));
  return bytes;
}

void ComparisonResampler::weightedMoments(const std::vector<std::uint32_t>& counts, double moments[6]) const {
  std::fill(moments, moments + 6, 0.0);
  for (std::int64_t i = 0; i + 1 < size_; ++i) {
    if (counts[i] == 0) continue;  // about a third of the images: their rows weigh nothing
    const float* xs = x_.data() + rowStart_[i];  // xs[k] is pair (i, i + 1 + k)
    const float* ys = y_.data() + rowStart_[i];
    const std::uint32_t* columnCounts = counts.data() + i + 1;
    double w = 0.0, sx = 0.0, sy = 0.0, sxx = 0.0, syy = 0.0, sxy = 0.0;
    for (std::int64_t k = 0; k < size_ - 1 - i; ++k) {
      const double weight = columnCounts[k];
      const double xv = xs[k] - xMean_;
      const double yv = ys[k] - yMean_;
      w += weight;
      sx += weight * xv;
      sy += weight * yv;
      sxx += weight * xv * xv;
      syy += weight * yv * yv;
      sxy += weight * xv * yv;
    }
    const double rowWeight = counts[i];
    moments[0] += rowWeight * w;
    moments[1] += rowWeight * sx;
    moments[2] += rowWeight * sy;
    moments[3] += rowWeight * sxx;
    moments[4] += rowWeight * syy;
    moments[5] += rowWeight * sxy;
  }
}

double ComparisonResampler::bootstrapSpearman(const std::vector<std::uint32_t>& counts, Scratch& scratch) const {
  // Ranks in the sample (x order, written in sequence), then the y walk reads each pair's x rank: one
  // random read per drawn pair, prefetched ahead because it misses the cache. About 60% of pairs are not
  // drawn, unpredictably, so both walks avoid branching on that: an undrawn pair gets a rank and weighs 0,
  // and reads a cached rank instead of its own.
  constexpr std::size_t kAhead = 32;
  scratch.ranks.resize(static_cast<std::size_t>(pairs_));
  std::int64_t drawn = 0, drawnSquares = 0;
  for (const auto c : counts) {
    drawn += c;
    drawnSquares += static_cast<std::int64_t>(c) * c;
  }
  const double meanRank = 0.5 * (static_cast<double>((drawn * drawn - drawnSquares) / 2) + 1.0);
  const auto weightOf = [&](ImagePair pair) { return static_cast<std::int64_t>(counts[pair.row]) * counts[pair.col]; };

  // Walks one triangle's tie runs in value order; a run of expanded weight G after `before` expanded
  // items takes the mean rank before + (G + 1) / 2. visit(position, weight, centred rank) for every pair.
  const auto walkRanks = [&](const SortedPairs& sorted, auto&& visit) {
    std::int64_t before = 0;
    double squares = 0.0;
    const std::size_t count = sorted.pairs.size();
    for (std::size_t start = 0; start < count;) {
      std::size_t end = start + 1;
      while (end < count && !sorted.startsTieRun[end]) ++end;
      std::int64_t runWeight = 0;
      for (std::size_t k = start; k < end; ++k) runWeight += weightOf(sorted.pairs[k]);
      const double rank = static_cast<double>(before) + 0.5 * static_cast<double>(runWeight + 1) - meanRank;
      for (std::size_t k = start; k < end; ++k) visit(k, end == start + 1 ? runWeight : weightOf(sorted.pairs[k]), rank);
      squares += static_cast<double>(runWeight) * rank * rank;
      before += runWeight;
      start = end;
    }
    return squares;
  };

  float* ranks = scratch.ranks.data();
  const double xSquares =
      walkRanks(byX_, [&](std::size_t k, std::int64_t, double rank) { ranks[k] = static_cast<float>(rank); });
  const std::size_t count = byY_.pairs.size();
  double cross = 0.0;
  const double ySquares = walkRanks(byY_, [&](std::size_t k, std::int64_t weight, double rank) {
    if (k + kAhead < count) prefetch(ranks + (weightOf(byY_.pairs[k + kAhead]) ? yToXPosition_[k + kAhead] : 0));
    cross += static_cast<double>(weight) * rank * ranks[weight ? yToXPosition_[k] : 0];
  });
  return normalised(cross, xSquares, ySquares);
}

double ComparisonResampler::bootstrapKendall(const std::vector<std::uint32_t>& counts, Scratch& scratch) const {
  // Pairs not drawn drop out; the rest keep their (x, y) order, so tie runs stay contiguous.
  scratch.items.clear();
  std::int64_t xTied = 0, xyTied = 0;
  std::int64_t xRunWeight = 0, xyRunWeight = 0;
  float runX = 0.0f, runY = 0.0f;
  for (std::size_t k = 0; k < byXY_.size(); ++k) {
    const std::uint32_t weight = counts[byXY_[k].row] * counts[byXY_[k].col];
    if (weight == 0) continue;
    const float x = xByXY_[k];
    const float y = yByXY_[k];
    if (!scratch.items.empty() && x == runX) {
      xRunWeight += weight;
      if (y == runY) {
        xyRunWeight += weight;
      } else {
        xyTied += tiedPairs(xyRunWeight);
        xyRunWeight = weight;
        runY = y;
      }
    } else {
      xTied += tiedPairs(xRunWeight);
      xyTied += tiedPairs(xyRunWeight);
      xRunWeight = xyRunWeight = weight;
      runX = x;
      runY = y;
    }
    scratch.items.push_back({y, weight});
  }
  xTied += tiedPairs(xRunWeight);
  xyTied += tiedPairs(xyRunWeight);
  return kendallTauASorted(scratch.items, xTied, xyTied, scratch.buffer);
}

std::vector<double> ComparisonResampler::bootstrapValues(const std::vector<std::uint32_t>& counts,
                                                         Scratch& scratch) const {
  if (counts.size() != static_cast<std::size_t>(size_))
    throw Error("bootstrap counts: " + std::to_string(counts.size()) + " for " + std::to_string(size_) + " images");
  double moments[6] = {};
  if (contains(methods_, ComparisonMethod::Pearson) || contains(methods_, ComparisonMethod::Cosine))
    weightedMoments(counts, moments);
  std::vector<double> values;
  for (const auto method : methods_) {
    switch (method) {
      case ComparisonMethod::Pearson:
        values.push_back(weightedPearson(moments));
        break;
      case ComparisonMethod::Cosine: {
        // Back from centred sums: sum w x y = Sxy + mean_y Sx + mean_x Sy + mean_x mean_y W, and so on.
        const double cross = moments[5] + yMean_ * moments[1] + xMean_ * moments[2] + xMean_ * yMean_ * moments[0];
        const double xSquares = moments[3] + 2.0 * xMean_ * moments[1] + xMean_ * xMean_ * moments[0];
        const double ySquares = moments[4] + 2.0 * yMean_ * moments[2] + yMean_ * yMean_ * moments[0];
        values.push_back(normalised(cross, xSquares, ySquares));
        break;
      }
      case ComparisonMethod::Spearman:
        values.push_back(bootstrapSpearman(counts, scratch));
        break;
      case ComparisonMethod::KendallTauA:
        values.push_back(bootstrapKendall(counts, scratch));
        break;
    }
  }
  return values;
}

double ComparisonResampler::permutedCrossProduct(const std::vector<float>& xTriangle, double xCentre,
                                                 const float* yFull, const std::vector<std::int64_t>& permutation) const {
  double total = 0.0;
  for (std::int64_t i = 0; i + 1 < size_; ++i) {
    const float* xs = xTriangle.data() + rowStart_[i];  // xs[k] is pair (i, i + 1 + k)
    const std::int64_t* columns = permutation.data() + i + 1;
    const float* yRow = yFull + permutation[i] * size_;
    double row = 0.0;
    for (std::int64_t k = 0; k < size_ - 1 - i; ++k) row += (xs[k] - xCentre) * yRow[columns[k]];
    total += row;
  }
  return total;
}

double ComparisonResampler::permutedKendall(const std::vector<std::int64_t>& permutation, Scratch& scratch) const {
  scratch.items.resize(byXY_.size());
  for (std::size_t k = 0; k < byXY_.size(); ++k)
    scratch.items[k] = {bValues_[permutation[byXY_[k].row] * size_ + permutation[byXY_[k].col]], 1};
  // x keeps its order; within a run of tied x the new y values must be sorted again.
  std::int64_t xyTied = 0;
  for (const auto& [start, end] : xTieRuns_) {
    const auto first = scratch.items.begin() + static_cast<std::ptrdiff_t>(start);
    const auto last = scratch.items.begin() + static_cast<std::ptrdiff_t>(end);
    std::sort(first, last, [](const KendallItem& p, const KendallItem& q) { return p.y < q.y; });
    for (auto run = first; run != last;) {
      auto runEnd = run + 1;
      while (runEnd != last && runEnd->y == run->y) ++runEnd;
      xyTied += tiedPairs(runEnd - run);
      run = runEnd;
    }
  }
  return kendallTauASorted(scratch.items, xTiedPairs_, xyTied, scratch.buffer);
}

std::vector<double> ComparisonResampler::permutedValues(const std::vector<std::int64_t>& permutation,
                                                        Scratch& scratch) const {
  const auto notAPermutation = [&] { return Error("not a permutation of the " + std::to_string(size_) + " images"); };
  if (permutation.size() != static_cast<std::size_t>(size_)) throw notAPermutation();
  std::vector<bool> seen(permutation.size(), false);
  for (const auto image : permutation) {
    if (image < 0 || image >= size_ || seen[static_cast<std::size_t>(image)]) throw notAPermutation();
    seen[static_cast<std::size_t>(image)] = true;
  }
  const bool needsCross = contains(methods_, ComparisonMethod::Pearson) || contains(methods_, ComparisonMethod::Cosine);
  const double cross = needsCross ? permutedCrossProduct(x_, xMean_, bValues_, permutation) : 0.0;
  std::vector<double> values;
  for (const auto method : methods_) {
    switch (method) {
      case ComparisonMethod::Pearson:
        // sum (x - mean_x)(y' - mean_y) = sum xc y' - mean_y sum xc; the spreads are those of the unpermuted triangles.
        values.push_back(normalised(cross - yMean_ * xCentredSum_, xCentredSquares_, yCentredSquares_));
        break;
      case ComparisonMethod::Cosine:
        values.push_back(normalised(cross + xMean_ * ySum_, xSquares_, ySquares_));
        break;
      case ComparisonMethod::Spearman: {
        const double meanRank = 0.5 * static_cast<double>(pairs_ + 1);
        const double rankCross = permutedCrossProduct(xRanks_, meanRank, yRanksFull_.data(), permutation);
        values.push_back(
            normalised(rankCross - meanRank * xRankCentredSum_, xRankCentredSquares_, yRankCentredSquares_));
        break;
      }
      case ComparisonMethod::KendallTauA:
        values.push_back(permutedKendall(permutation, scratch));
        break;
    }
  }
  return values;
}

}  // namespace bp
