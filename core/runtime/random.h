#pragma once
// Seeded random numbers that come out the same with every standard library: std::mt19937_64 (whose
// output the standard fixes) through hand-written transforms, because the std distributions and
// std::shuffle differ between libraries. Resampling code derives one stream per sample from the
// user's seed, so results do not depend on how the samples are spread over threads.
#include <cstdint>
#include <limits>
#include <random>
#include <utility>
#include <vector>

namespace bp {

inline std::uint64_t splitMix64(std::uint64_t value) {
  value += 0x9E3779B97F4A7C15ULL;
  value = (value ^ (value >> 30)) * 0xBF58476D1CE4E5B9ULL;
  value = (value ^ (value >> 27)) * 0x94D049BB133111EBULL;
  return value ^ (value >> 31);
}

class RandomStream {
public:
  // Streams with different numbers are independent for the same seed.
  RandomStream(std::uint64_t seed, std::uint64_t stream) : engine_(splitMix64(seed ^ splitMix64(stream))) {}

  // Uniform in [0, 1).
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  // Uniform in (0, 1], safe for logarithms.
  double uniformPositive() { return 1.0 - uniform(); }
  double uniform(double low, double high) { return low + (high - low) * uniform(); }

  // Uniform integer in [0, count), unbiased (rejects the incomplete last block).
  std::uint64_t below(std::uint64_t count) {
    const std::uint64_t limit = std::numeric_limits<std::uint64_t>::max() -
                                std::numeric_limits<std::uint64_t>::max() % count;
    std::uint64_t value = engine_();
    while (value >= limit) value = engine_();
    return value % count;
  }

  double normal();                  // Box-Muller
  double gamma(double shape);       // Gamma(shape, scale 1): Marsaglia & Tsang (2000)
  std::int64_t poisson(double mean);  // inversion for small means, Hoermann's PTRS (1993) for large ones

  // Fisher-Yates.
  template <typename Value>
  void shuffle(std::vector<Value>& values) {
    for (std::size_t i = values.size(); i > 1; --i) std::swap(values[i - 1], values[below(i)]);
  }

private:
  std::mt19937_64 engine_;
};

}  // namespace bp
