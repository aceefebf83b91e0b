#include "rsa/ordering.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <set>

#include "rsa/compare.h"
#include "runtime/error.h"
#include "runtime/log.h"
#include "runtime/random.h"
#include "runtime/undefined.h"

namespace bp {
namespace {


// The dissimilarity of images i and j (i != j), read from the upper triangle so that a matrix that is
// symmetric only up to rounding still gives one value per pair.
double dissimilarity(const SimilarityMatrix& matrix, bool isDistance, std::int64_t i, std::int64_t j) {
  const double value = i < j ? matrix.at(i, j) : matrix.at(j, i);
  if (!std::isfinite(value))
    throw Error("similarity matrix holds a non-finite value at (" + std::to_string(std::min(i, j)) + ", " +
                std::to_string(std::max(i, j)) + ")");
  return isDistance ? value : 1.0 - value;
}

// Average-linkage merges by the nearest-neighbour chain (Murtagh 1983; Muellner 2011): follow nearest
// neighbours until two clusters are each other's nearest, merge them, and continue from the chain's
// rest. Average linkage is reducible, so the merges are those of the naive algorithm, though not in
// order of height. Cluster slots: a merged cluster lives in the lower of its two slots, so slot s
// always holds row s, and a merge (a, b) joins the clusters holding rows a and b.
struct Merge {
  std::int64_t a;
  std::int64_t b;
  double height;
};

std::vector<Merge> averageLinkageMerges(const SimilarityMatrix& matrix, const Job& job) {
  const std::int64_t n = matrix.size;
  const bool isDistance = isDissimilarity(matrix.config);
  // Condensed upper triangle: d(i, j), i < j, at rowStart[i] + j - i - 1.
  std::vector<std::int64_t> rowStart(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) rowStart[i] = i * n - i * (i + 1) / 2;
  std::vector<double> distance(static_cast<std::size_t>(n * (n - 1) / 2));
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = i + 1; j < n; ++j) distance[rowStart[i] + j - i - 1] = dissimilarity(matrix, isDistance, i, j);
  const auto at = [&](std::int64_t i, std::int64_t j) -> double& {
    return i < j ? distance[rowStart[i] + j - i - 1] : distance[rowStart[j] + i - j - 1];
  };

  std::vector<char> active(static_cast<std::size_t>(n), 1);
  std::vector<std::int64_t> members(static_cast<std::size_t>(n), 1);
  std::vector<std::int64_t> chain;
  std::vector<Merge> merges;
  std::int64_t firstActive = 0;
  while (static_cast<std::int64_t>(merges.size()) + 1 < n) {
    if (chain.empty()) {
      while (!active[firstActive]) ++firstActive;
      chain.push_back(firstActive);
    }
    const std::int64_t a = chain.back();
    // The nearest active neighbour; a tie goes to the chain's previous cluster, which ends the chain
    // instead of letting it cycle among equidistant clusters.
    const bool hasPrevious = chain.size() >= 2;
    std::int64_t nearest = hasPrevious ? chain[chain.size() - 2] : -1;
    double best = hasPrevious ? at(a, nearest) : std::numeric_limits<double>::infinity();
    for (std::int64_t k = 0; k < n; ++k) {
      if (k == a || !active[k]) continue;
      const double d = at(a, k);
      if (d < best) {
        best = d;
        nearest = k;
      }
    }
    if (!hasPrevious || nearest != chain[chain.size() - 2]) {
      chain.push_back(nearest);
      continue;
    }
    chain.pop_back();
    chain.pop_back();
    const std::int64_t kept = std::min(a, nearest);
    const std::int64_t dropped = std::max(a, nearest);
    const double keptWeight = static_cast<double>(members[kept]);
    const double droppedWeight = static_cast<double>(members[dropped]);
    for (std::int64_t k = 0; k < n; ++k) {  // Lance-Williams update for average linkage
      if (k == kept || k == dropped || !active[k]) continue;
      at(kept, k) = (keptWeight * at(kept, k) + droppedWeight * at(dropped, k)) / (keptWeight + droppedWeight);
    }
    members[kept] += members[dropped];
    active[dropped] = 0;
    merges.push_back({a, nearest, best});
    if (merges.size() % 64 == 0) {
      job.throwIfCancelled();
      job.progress(static_cast<double>(merges.size()) / static_cast<double>(n - 1), "clustering");
    }
  }
  return merges;
}

// The tree's leaves left to right. Merges are replayed by height (stable, so equal heights keep the
// chain's order, which respects nesting), joining the clusters that hold rows a and b.
std::vector<std::int64_t> leafOrder(std::int64_t n, std::vector<Merge> merges) {
  std::stable_sort(merges.begin(), merges.end(), [](const Merge& p, const Merge& q) { return p.height < q.height; });
  // Nodes 0..n-1 are rows, n + k is merge k.
  std::vector<std::int64_t> first(static_cast<std::size_t>(2 * n - 1)), second(first.size()), lowestRow(first.size());
  std::iota(lowestRow.begin(), lowestRow.begin() + n, std::int64_t{0});
  std::vector<std::int64_t> parent(static_cast<std::size_t>(n));  // union-find over rows
  std::iota(parent.begin(), parent.end(), std::int64_t{0});
  std::vector<std::int64_t> nodeOfRoot(parent);
  const auto find = [&](std::int64_t row) {
    while (parent[row] != row) row = parent[row] = parent[parent[row]];
    return row;
  };
  for (std::size_t k = 0; k < merges.size(); ++k) {
    const std::int64_t rootA = find(merges[k].a);
    const std::int64_t rootB = find(merges[k].b);
    std::int64_t nodeA = nodeOfRoot[rootA];
    std::int64_t nodeB = nodeOfRoot[rootB];
    if (lowestRow[nodeB] < lowestRow[nodeA]) std::swap(nodeA, nodeB);
    const auto node = n + static_cast<std::int64_t>(k);
    first[node] = nodeA;
    second[node] = nodeB;
    lowestRow[node] = lowestRow[nodeA];
    parent[rootB] = rootA;
    nodeOfRoot[rootA] = node;
  }
  std::vector<std::int64_t> order;
  order.reserve(static_cast<std::size_t>(n));
  std::vector<std::int64_t> pending{2 * n - 2};  // the root
  while (!pending.empty()) {
    const std::int64_t node = pending.back();
    pending.pop_back();
    if (node < n) {
      order.push_back(node);
    } else {
      pending.push_back(second[node]);
      pending.push_back(first[node]);
    }
  }
  return order;
}

// --- classical MDS -------------------------------------------------------------------------------

// Eigenvalues and eigenvectors (columns of `vectors`, p x p row-major) of a small symmetric matrix,
// by cyclic Jacobi rotations.
void symmetricEigen(std::vector<double> matrix, int p, std::vector<double>& eigenvalues, std::vector<double>& vectors) {
  const auto a = [&](int i, int j) -> double& { return matrix[static_cast<std::size_t>(i * p + j)]; };
  vectors.assign(static_cast<std::size_t>(p * p), 0.0);
  for (int i = 0; i < p; ++i) vectors[static_cast<std::size_t>(i * p + i)] = 1.0;
  for (int sweep = 0; sweep < 64; ++sweep) {
    double offDiagonal = 0.0, diagonal = 0.0;
    for (int i = 0; i < p; ++i) {
      diagonal += a(i, i) * a(i, i);
      for (int j = i + 1; j < p; ++j) offDiagonal += a(i, j) * a(i, j);
    }
    if (offDiagonal <= 1e-30 * diagonal || offDiagonal == 0.0) break;
    for (int i = 0; i < p; ++i)
      for (int j = i + 1; j < p; ++j) {
        if (a(i, j) == 0.0) continue;
        // The rotation (c, s) that zeroes a(i, j): t = s / c is the smaller root of t^2 - 2 theta t - 1 = 0.
        const double theta = (a(i, i) - a(j, j)) / (2.0 * a(i, j));
        const double t = (theta >= 0.0 ? -1.0 : 1.0) / (std::abs(theta) + std::sqrt(theta * theta + 1.0));
        const double c = 1.0 / std::sqrt(t * t + 1.0);
        const double s = t * c;
        for (int k = 0; k < p; ++k) {  // columns i and j
          const double ki = a(k, i), kj = a(k, j);
          a(k, i) = c * ki - s * kj;
          a(k, j) = s * ki + c * kj;
        }
        for (int k = 0; k < p; ++k) {  // rows i and j
          const double ik = a(i, k), jk = a(j, k);
          a(i, k) = c * ik - s * jk;
          a(j, k) = s * ik + c * jk;
        }
        for (int k = 0; k < p; ++k) {
          double& vi = vectors[static_cast<std::size_t>(k * p + i)];
          double& vj = vectors[static_cast<std::size_t>(k * p + j)];
          const double oldI = vi, oldJ = vj;
          vi = c * oldI - s * oldJ;
          vj = s * oldI + c * oldJ;
        }
      }
  }
  eigenvalues.resize(static_cast<std::size_t>(p));
  for (int i = 0; i < p; ++i) eigenvalues[static_cast<std::size_t>(i)] = a(i, i);
}

struct TopEigenpairs {
  double values[2] = {0.0, 0.0};     // the two largest (algebraic) eigenvalues, first the largest
  std::vector<double> vectors[2];    // unit length; empty when B has fewer than two dimensions
  bool converged = false;
};

// The two largest eigenpairs of the symmetric n x n matrix b by Lanczos iteration with full
// re-orthogonalisation (the Krylov basis is kept; each new vector is orthogonalised against it twice)
// and explicit restarts from the sum of the two wanted Ritz vectors. Lanczos finds the extreme
// eigenvalues at the algebraic top whatever the negative ones do, and needs far fewer products with b
// than subspace iteration when the top eigenvalues are close: on random 20-dimensional patterns
// (n = 1,000 to 3,000) subspace iteration with 8 vectors took 126 to 188 iterations.
TopEigenpairs lanczosTopTwo(const std::vector<float>& b, std::int64_t n, const Job& job) {
  constexpr int kCycles = 20;
  constexpr double kTolerance = 1e-8;  // residual norm relative to the largest Ritz value
  const int steps = static_cast<int>(std::min<std::int64_t>(n, 64));
  const auto size = static_cast<std::size_t>(n);
  RandomStream random(2019, 0);  // a fixed seed: the same matrix gives the same map
  std::vector<double> start(size);
  for (auto& v : start) v = random.uniform() - 0.5;

  TopEigenpairs result;
  std::vector<std::vector<double>> basis;
  std::vector<double> alpha, beta, w(size), theta, s;
  for (int cycle = 0; cycle < kCycles; ++cycle) {
    double norm = 0.0;
    for (const double v : start) norm += v * v;
    basis.assign(1, start);
    for (auto& v : basis[0]) v /= std::sqrt(norm);
    alpha.clear();
    beta.clear();
    bool exhausted = false;  // the Krylov space is invariant: its Ritz pairs are exact
    for (int k = 0; k < steps; ++k) {
      job.throwIfCancelled();
      job.progress(static_cast<double>(cycle * steps + k) / (kCycles * steps), "multidimensional scaling");
      const std::vector<double>& q = basis[static_cast<std::size_t>(k)];
      double scale = 0.0;
      for (std::int64_t i = 0; i < n; ++i) {
        const float* row = b.data() + i * n;
        double sum = 0.0;
        for (std::int64_t j = 0; j < n; ++j) sum += row[j] * q[j];
        w[i] = sum;
        scale += sum * sum;
      }
      double a = 0.0;
      for (std::size_t i = 0; i < size; ++i) a += q[i] * w[i];
      alpha.push_back(a);
      for (int pass = 0; pass < 2; ++pass)
        for (const auto& previous : basis) {
          double projection = 0.0;
          for (std::size_t i = 0; i < size; ++i) projection += previous[i] * w[i];
          for (std::size_t i = 0; i < size; ++i) w[i] -= projection * previous[i];
        }
      double next = 0.0;
      for (const double v : w) next += v * v;
      next = std::sqrt(next);
      if (next <= 1e-10 * std::sqrt(scale) || next == 0.0) {
        exhausted = true;
        break;
      }
      beta.push_back(next);
      if (k + 1 == steps) break;
      basis.emplace_back(size);
      for (std::size_t i = 0; i < size; ++i) basis.back()[i] = w[i] / next;
    }

    const int m = static_cast<int>(alpha.size());
    std::vector<double> tridiagonal(static_cast<std::size_t>(m * m), 0.0);
    for (int k = 0; k < m; ++k) {
      tridiagonal[static_cast<std::size_t>(k * m + k)] = alpha[k];
      if (k + 1 < m) tridiagonal[static_cast<std::size_t>(k * m + k + 1)] = tridiagonal[static_cast<std::size_t>((k + 1) * m + k)] = beta[k];
    }
    symmetricEigen(tridiagonal, m, theta, s);
    std::vector<int> byValue(static_cast<std::size_t>(m));
    std::iota(byValue.begin(), byValue.end(), 0);
    std::sort(byValue.begin(), byValue.end(), [&](int p, int q) { return theta[p] > theta[q]; });
    double largest = 0.0;
    for (const double t : theta) largest = std::max(largest, std::abs(t));
    // A Ritz pair's residual is beta_m times the last component of its eigenvector of the tridiagonal matrix.
    const double lastBeta = exhausted ? 0.0 : beta.back();
    result.converged = true;
    std::fill(start.begin(), start.end(), 0.0);
    for (int wanted = 0; wanted < std::min(m, 2); ++wanted) {
      const int k = byValue[static_cast<std::size_t>(wanted)];
      const double residual = lastBeta * std::abs(s[static_cast<std::size_t>((m - 1) * m + k)]);
      result.converged = result.converged && residual <= kTolerance * largest;
      result.values[wanted] = theta[k];
      result.vectors[wanted].assign(size, 0.0);
      for (int l = 0; l < m; ++l)
        for (std::size_t i = 0; i < size; ++i)
          result.vectors[wanted][i] += s[static_cast<std::size_t>(l * m + k)] * basis[static_cast<std::size_t>(l)][i];
      for (std::size_t i = 0; i < size; ++i) start[i] += result.vectors[wanted][i];
    }
    if (result.converged || largest == 0.0) break;
  }
  return result;
}

}  // namespace

std::vector<std::int64_t> orderByLabel(const SimilarityMatrix& matrix) {
  validateSimilarityMatrix(matrix);
  std::vector<std::int64_t> order(static_cast<std::size_t>(matrix.size));
  std::iota(order.begin(), order.end(), std::int64_t{0});
  const bool labelled = !matrix.labels.empty();
  std::stable_sort(order.begin(), order.end(), [&](std::int64_t p, std::int64_t q) {
    if (labelled && matrix.labels[p] != matrix.labels[q]) return matrix.labels[p] < matrix.labels[q];
    return matrix.imageIds[p] < matrix.imageIds[q];
  });
  return order;
}

std::vector<LabelBlock> labelBlocks(const SimilarityMatrix& matrix) {
  std::vector<LabelBlock> blocks;
  if (matrix.labels.size() != static_cast<std::size_t>(matrix.size)) return blocks;
  std::set<std::string> seen;
  for (std::int64_t row = 0; row < matrix.size; ++row) {
    const std::string& label = matrix.labels[static_cast<std::size_t>(row)];
    if (!blocks.empty() && blocks.back().label == label) {
      ++blocks.back().count;
      continue;
    }
    if (!seen.insert(label).second) return {};
    blocks.push_back({row, 1, label});
  }
  return blocks;
}

std::vector<std::int64_t> orderByClustering(const SimilarityMatrix& matrix, const Job& job) {
  validateSimilarityMatrix(matrix);
  if (matrix.size <= 2) {
    std::vector<std::int64_t> order(static_cast<std::size_t>(matrix.size));
    std::iota(order.begin(), order.end(), std::int64_t{0});
    return order;
  }
  auto order = leafOrder(matrix.size, averageLinkageMerges(matrix, job));
  job.progress(1.0, "clustering done");
  return order;
}

std::vector<std::int64_t> orderByValues(const std::vector<float>& values) {
  std::vector<std::int64_t> order(values.size());
  std::iota(order.begin(), order.end(), std::int64_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::int64_t p, std::int64_t q) {
    return !std::isnan(values[p]) && (std::isnan(values[q]) || values[p] > values[q]);
  });
  return order;
}

SimilarityMatrix reorder(const SimilarityMatrix& matrix, const std::vector<std::int64_t>& order) {
  validateSimilarityMatrix(matrix);
  const std::int64_t n = matrix.size;
  const auto notAnOrder = [&] { return Error("not an order of the " + std::to_string(n) + " images: each row must appear once"); };
  if (order.size() != static_cast<std::size_t>(n)) throw notAnOrder();
  std::vector<bool> seen(order.size(), false);
  for (const auto row : order) {
    if (row < 0 || row >= n || seen[static_cast<std::size_t>(row)]) throw notAnOrder();
    seen[static_cast<std::size_t>(row)] = true;
  }
  SimilarityMatrix result;
  result.size = n;
  result.config = matrix.config;
  result.provenance = matrix.provenance;
  result.values.resize(matrix.values.size());
  for (std::int64_t i = 0; i < n; ++i) {
    const float* source = matrix.values.data() + order[i] * n;
    float* target = result.values.data() + i * n;
    for (std::int64_t j = 0; j < n; ++j) target[j] = source[order[j]];
  }
  for (const auto row : order) {
    result.imageIds.push_back(matrix.imageIds[row]);
    if (!matrix.labels.empty()) result.labels.push_back(matrix.labels[row]);
  }
  return result;
}

SimilarityMatrix rankTransform(const SimilarityMatrix& matrix) {
  const auto ranks = averageRanks(upperTriangle(matrix));
  SimilarityMatrix result = matrix;
  const std::int64_t n = matrix.size;
  const double pairs = static_cast<double>(ranks.size());
  std::size_t p = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    result.values[i * n + i] = isDissimilarity(matrix.config) ? 0.0f : 1.0f;
    for (std::int64_t j = i + 1; j < n; ++j, ++p) {
      const auto scaled = static_cast<float>(pairs > 1.0 ? (ranks[p] - 1.0) / (pairs - 1.0) : 0.5);
      result.values[i * n + j] = result.values[j * n + i] = scaled;
    }
  }
  result.provenance["transform"] = "rank";
  return result;
}

Embedding2D classicalMds(const SimilarityMatrix& matrix, const Job& job) {
  validateSimilarityMatrix(matrix);
  const std::int64_t n = matrix.size;
  Embedding2D embedding;
  embedding.x.assign(static_cast<std::size_t>(n), 0.0);
  embedding.y.assign(static_cast<std::size_t>(n), 0.0);
  embedding.explainedVariance = kUndefined;
  if (n < 2) return embedding;

  // B = -1/2 (D2 - row means - column means + grand mean), D2 the squared dissimilarities (0 on the diagonal).
  const bool isDistance = isDissimilarity(matrix.config);
  std::vector<float> b(static_cast<std::size_t>(n * n), 0.0f);
  std::vector<double> rowMean(static_cast<std::size_t>(n), 0.0);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = i + 1; j < n; ++j) {
      const double d = dissimilarity(matrix, isDistance, i, j);
      b[i * n + j] = b[j * n + i] = static_cast<float>(d * d);
      rowMean[i] += d * d;
      rowMean[j] += d * d;
    }
  double grandMean = 0.0;
  for (auto& mean : rowMean) {
    mean /= static_cast<double>(n);
    grandMean += mean;
  }
  grandMean /= static_cast<double>(n);
  double trace = 0.0;
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      const double centred = -0.5 * (b[i * n + j] - rowMean[i] - rowMean[j] + grandMean);
      b[i * n + j] = static_cast<float>(centred);
      if (i == j) trace += centred;
    }

  auto top = lanczosTopTwo(b, n, job);
  if (!top.converged) logWarning("multidimensional scaling: eigenvectors did not fully converge; the map is approximate");
  // An eigenvalue within rounding of 0 (a configuration of fewer than two dimensions) is 0: its square
  // root would turn noise of 1e-16 into coordinates of 1e-8.
  for (double& value : top.values)
    if (std::abs(value) <= 1e-10 * std::abs(top.values[0])) value = 0.0;

  std::vector<double>* axes[2] = {&embedding.x, &embedding.y};
  for (int axis = 0; axis < 2 && axis < static_cast<int>(n); ++axis) {
    const auto& vector = top.vectors[axis];
    if (vector.empty()) continue;
    const auto largest = std::max_element(vector.begin(), vector.end(),
                                          [](double p, double q) { return std::abs(p) < std::abs(q); });
    const double scale = std::sqrt(std::max(top.values[axis], 0.0)) * (*largest < 0.0 ? -1.0 : 1.0);
    for (std::int64_t i = 0; i < n; ++i) (*axes[axis])[i] = scale * vector[i];
  }
  embedding.firstEigenvalue = top.values[0];
  embedding.secondEigenvalue = top.values[1];
  if (trace > 0.0)
    embedding.explainedVariance = (std::max(top.values[0], 0.0) + std::max(top.values[1], 0.0)) / trace;
  job.progress(1.0, "multidimensional scaling done");
  return embedding;
}

}  // namespace bp
