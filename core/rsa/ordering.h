#pragma once
// Ways to look at a similarity matrix: orders of its images (by label, by hierarchical clustering, by
// one value per image such as a neuron's response), the matrix permuted into such an order, a rank
// transform (so a colour map shows the order of the values, not a few outliers), and a 2-D map of
// the images (classical multidimensional scaling).
//
// Where a dissimilarity is needed it is 1 - s for similarities and the values themselves for
// dissimilarities (isDissimilarity(matrix.config)), as in the RSA literature's RDMs.
#include <cstdint>
#include <string>
#include <vector>

#include "rsa/similarity.h"
#include "runtime/job.h"

namespace bp {

// An order is a list of row indices into the matrix: order[k] is the row shown k-th.

// By label, then image id (by image id alone when the matrix has no labels); stable for equal keys.
std::vector<std::int64_t> orderByLabel(const SimilarityMatrix& matrix);

// Consecutive rows with one label, such as a class after orderByLabel.
struct LabelBlock {
  std::int64_t first = 0;
  std::int64_t count = 0;
  std::string label;
};
// The rows as blocks of one label each, in row order, when every label's rows are consecutive;
// empty when the matrix has no labels or some label's rows are apart (then blocks would mislead).
std::vector<LabelBlock> labelBlocks(const SimilarityMatrix& matrix);

// The leaf order of average-linkage (UPGMA) hierarchical clustering of the dissimilarities, so that
// clusters are contiguous. Merges are found with the nearest-neighbour chain (O(n^2) time, n^2 / 2
// doubles of memory), replayed in order of height; each merge puts the cluster holding the lower row
// index first, so the order is deterministic. Throws bp::Error on non-finite values.
std::vector<std::int64_t> orderByClustering(const SimilarityMatrix& matrix, const Job& job = {});

// Descending values (e.g. one neuron's response per image); NaN last; ties keep index order.
std::vector<std::int64_t> orderByValues(const std::vector<float>& values);

// The matrix seen in `order`: result(i, j) = matrix(order[i], order[j]), with ids and labels permuted
// alike. Throws bp::Error unless `order` is a permutation of the rows.
SimilarityMatrix reorder(const SimilarityMatrix& matrix, const std::vector<std::int64_t>& order);

// Off-diagonal values replaced by their rank among the upper triangle (ties: mean rank), scaled to
// [0, 1] ((rank - 1) / (pairs - 1); a single pair gets 0.5) and mirrored; the diagonal stays at the
// extreme that means "identical": 1 for similarities, 0 for dissimilarities. provenance gains
// "transform": "rank". Throws bp::Error on NaN.
SimilarityMatrix rankTransform(const SimilarityMatrix& matrix);

struct Embedding2D {
  std::vector<double> x;  // per image, in the matrix's row order
  std::vector<double> y;
  double firstEigenvalue = 0.0;  // of the double-centred matrix B (x's variance times the number of images)
  double secondEigenvalue = 0.0;
  // (first + second positive eigenvalue) / trace(B): the share of the configuration's total squared
  // spread shown in the plane. Exact for Euclidean dissimilarities; with non-Euclidean ones (negative
  // eigenvalues) trace(B) is the net spread. NaN when all dissimilarities are 0.
  double explainedVariance = 0.0;
};

// Classical (Torgerson) MDS: B = -1/2 J D^2 J with D the dissimilarities and J the centring matrix;
// coordinates are the two top eigenvectors of B scaled by the square roots of their eigenvalues
// (0 for an axis whose eigenvalue is not positive). Eigenvectors by Lanczos iteration with full
// re-orthonormalisation from a fixed seed (a few dozen products with B, where subspace iteration needed
// hundreds on matrices whose top eigenvalues are close); each axis's sign is chosen so that its largest
// coordinate is positive. Memory: one n x n float copy of B.
Embedding2D classicalMds(const SimilarityMatrix& matrix, const Job& job = {});

}  // namespace bp
