#pragma once
// Correlation of two series, for the measures (oracle correlation, prediction quality, summaries).
#include <cstdint>
#include <vector>

namespace bp {

// Pearson correlation of x[0], x[xStride], ... and y[0], y[yStride], ... (n values each).
// NaN when n < 2 or either side is constant: a correlation is undefined there, and callers show
// NaN as "not available" rather than a misleading 0. Strides let one column of a row-major
// trials x neurons matrix be read in place.
double pearson(const float* x, const float* y, std::int64_t n, std::int64_t xStride = 1, std::int64_t yStride = 1);
double pearson(const double* x, const double* y, std::int64_t n, std::int64_t xStride = 1, std::int64_t yStride = 1);

// The mean of the finite values (a per-neuron measure is NaN where undefined); NaN when none is.
double meanOfDefined(const std::vector<double>& values);

}  // namespace bp
