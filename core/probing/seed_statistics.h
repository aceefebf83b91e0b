#pragma once
// The summary over a launch's models (the runs of one config over seeds) that the probe and the
// predictivity report give: the mean and the standard error of the mean.
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

namespace bp {

struct MeanAndSem {
  double mean = 0.0;
  double sem = 0.0;  // sd / sqrt(n) with the n - 1 sample deviation; NaN below two values
};

// NaN mean for no values; a NaN value makes both NaN.
inline MeanAndSem meanAndSem(const std::vector<double>& values) {
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  if (values.empty()) return {kNaN, kNaN};
  const auto n = static_cast<double>(values.size());
  const double mean = std::accumulate(values.begin(), values.end(), 0.0) / n;
  if (values.size() < 2) return {mean, kNaN};
  double squares = 0.0;
  for (const double value : values) squares += (value - mean) * (value - mean);
  return {mean, std::sqrt(squares / (n - 1.0)) / std::sqrt(n)};
}

// A report's models (anything with a `launch` member) grouped by launch, the launches in order of
// their first model, each with its models in report order.
template <class Model>
std::vector<std::pair<std::string, std::vector<const Model*>>> groupByLaunch(const std::vector<Model>& models) {
  std::vector<std::pair<std::string, std::vector<const Model*>>> groups;
  std::map<std::string, std::size_t> index;
  for (const Model& model : models) {
    const auto [found, added] = index.emplace(model.launch, groups.size());
    if (added) groups.push_back({model.launch, {}});
    groups[found->second].second.push_back(&model);
  }
  return groups;
}

}  // namespace bp
