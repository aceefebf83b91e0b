#pragma once
// Li et al.'s claim, over the regularizer's strength: does some alpha keep clean accuracy while
// making the model more robust? From a probe report (probe_runner.h's JSON) whose launches sweep
// alpha (a training config's "alphas"), one curve per target (the neural prior, its controls):
// clean accuracy against a robustness measure, one point per alpha, mean and SEM over seeds.
// Launches without an alpha (the baseline, other regularizers) are single points of their own.
#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace bp {

struct AlphaTradeOffMeasure {
  // A corruption's curve area, or a minimum-norm search's median smallest perturbation in the
  // search's own norm (L2 or L-infinity).
  enum class Kind { CorruptionArea, MedianNorm };
  Kind kind = Kind::CorruptionArea;
  std::size_t index = 0;  // the launch's corruptions[index], or minimum_norms[index]
};

struct AlphaTradeOffPoint {
  double alpha = 0.0;  // NaN for a launch without one
  double clean = 0.0;
  double cleanSem = 0.0;
  double robustness = 0.0;
  double robustnessSem = 0.0;
};

struct AlphaTradeOffSeries {
  std::string name;  // the regularizer ("neural_similarity"), its control ("shuffled control"), or a launch's name
  std::vector<AlphaTradeOffPoint> points;  // in increasing alpha
};

// Empty unless some regularizer and control was probed at two alphas or more. Throws bp::Error on
// a report whose launches lack the fields or the measure's index.
std::vector<AlphaTradeOffSeries> alphaTradeOff(const nlohmann::json& probeReport, const AlphaTradeOffMeasure& measure);

}  // namespace bp
