#include "runtime/random.h"

#include <cmath>

namespace bp {
namespace {
constexpr double kPi = 3.14159265358979323846;
}

double RandomStream::normal() {
  return std::sqrt(-2.0 * std::log(uniformPositive())) * std::cos(2.0 * kPi * uniform());
}

double RandomStream::gamma(double shape) {
  if (shape < 1.0) return gamma(shape + 1.0) * std::pow(uniformPositive(), 1.0 / shape);
  const double d = shape - 1.0 / 3.0;
  const double c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    const double x = normal();
    double v = 1.0 + c * x;
    if (v <= 0.0) continue;
    v = v * v * v;
    const double u = uniformPositive();
    if (u < 1.0 - 0.0331 * x * x * x * x) return d * v;
    if (std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v))) return d * v;
  }
}

std::int64_t RandomStream::poisson(double mean) {
  if (mean <= 0.0) return 0;
  if (mean < 12.0) {
    const double u = uniform();
    double probability = std::exp(-mean);
    double cumulative = probability;
    std::int64_t k = 0;
    // The cap only guards against u within rounding of 1; the tail beyond it is < 1e-15.
    while (u > cumulative && k < 200) {
      ++k;
      probability *= mean / static_cast<double>(k);
      cumulative += probability;
    }
    return k;
  }
  const double rootMean = std::sqrt(mean);
  const double logMean = std::log(mean);
  const double b = 0.931 + 2.53 * rootMean;
  const double a = -0.059 + 0.02483 * b;
  const double inverseAlpha = 1.1239 + 1.1328 / (b - 3.4);
  const double vr = 0.9277 - 3.6224 / (b - 2.0);
  for (;;) {
    const double u = uniform() - 0.5;
    const double v = uniform();
    const double us = 0.5 - std::abs(u);
    const auto k = static_cast<std::int64_t>(std::floor((2.0 * a / us + b) * u + mean + 0.43));
    if (us >= 0.07 && v <= vr) return k;
    if (k < 0 || (us < 0.013 && v > us)) continue;
    const double kd = static_cast<double>(k);
    if (std::log(v) + std::log(inverseAlpha) - std::log(a / (us * us) + b) <=
        -mean + kd * logMean - std::lgamma(kd + 1.0))
      return k;
  }
}

}  // namespace bp
