#pragma once
// What the training benchmarks share: the median of repeated timings, the process CPU time (on a
// machine shared with other work it varies less than wall time, though OpenMP threads spinning at
// barriers add to it), and the thread environment they record beside their figures.
#include <time.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

namespace bp::bench {

inline double medianOf(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t middle = values.size() / 2;
  return values.size() % 2 ? values[middle] : 0.5 * (values[middle - 1] + values[middle]);
}

// CPU time of every thread of the process (user + system).
inline double processCpuSeconds() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + 1e-9 * static_cast<double>(now.tv_nsec);
}

inline std::string envOrUnset(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "unset";
}

}  // namespace bp::bench
