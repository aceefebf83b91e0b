#include "measures/correlation.h"
#include "runtime/undefined.h"

#include <cmath>
#include <limits>

namespace bp {
namespace {

template <typename Value>
double pearsonOf(const Value* x, const Value* y, std::int64_t n, std::int64_t xStride, std::int64_t yStride) {
  if (n < 2) return kUndefined;
  // Two passes (means, then centred sums) for accuracy. Constancy is checked exactly, because
  // the centred values of a constant series are rounding residue, not zero, and would correlate.
  double sumX = 0.0;
  double sumY = 0.0;
  bool xVaries = false;
  bool yVaries = false;
  for (std::int64_t i = 0; i < n; ++i) {
    const Value xi = x[i * xStride];
    const Value yi = y[i * yStride];
    sumX += xi;
    sumY += yi;
    xVaries = xVaries || xi != x[0];
    yVaries = yVaries || yi != y[0];
  }
  if (!xVaries || !yVaries) return kUndefined;
  const double meanX = sumX / static_cast<double>(n);
  const double meanY = sumY / static_cast<double>(n);
  double xx = 0.0;
  double yy = 0.0;
  double xy = 0.0;
  for (std::int64_t i = 0; i < n; ++i) {
    const double dx = x[i * xStride] - meanX;
    const double dy = y[i * yStride] - meanY;
    xx += dx * dx;
    yy += dy * dy;
    xy += dx * dy;
  }
  return xy / std::sqrt(xx * yy);
}

}  // namespace

double pearson(const float* x, const float* y, std::int64_t n, std::int64_t xStride, std::int64_t yStride) {
  return pearsonOf(x, y, n, xStride, yStride);
}

double pearson(const double* x, const double* y, std::int64_t n, std::int64_t xStride, std::int64_t yStride) {
  return pearsonOf(x, y, n, xStride, yStride);
}

double meanOfDefined(const std::vector<double>& values) {
  double sum = 0.0;
  std::int64_t count = 0;
  for (const double value : values)
    if (std::isfinite(value)) {
      sum += value;
      ++count;
    }
  return count > 0 ? sum / static_cast<double>(count) : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace bp
