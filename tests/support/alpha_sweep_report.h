#pragma once
// A hand-made probe report (probe_runner.h's JSON) whose launches sweep alpha: a baseline, the
// neural prior at alpha 2 and 0.5 (in that order, so that sorting shows), and its shuffled control
// at 0.5 and 2; two seeds each, Gaussian noise and one L2 minimum-norm search. Every value is
// derived from the launch's position, so tests can state what they expect.
#include <cmath>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace bp::test {

struct SweptLaunch {
  std::string name;
  std::string regularizer;
  std::string control;
  double alpha;  // NaN: none
  double clean;
  double area;
  double l2;
};

inline std::vector<SweptLaunch> sweptLaunches() {
  const double none = std::nan("");
  return {{"baseline", "none", "", none, 0.80, 0.40, 0.50},
          {"neural-alpha2", "neural_similarity", "", 2.0, 0.74, 0.55, 0.80},
          {"neural-alpha0.5", "neural_similarity", "", 0.5, 0.79, 0.48, 0.65},
          {"shuffled-alpha0.5", "neural_similarity", "shuffled", 0.5, 0.80, 0.41, 0.52},
          {"shuffled-alpha2", "neural_similarity", "shuffled", 2.0, 0.78, 0.43, 0.49}};
}

inline nlohmann::json alphaSweepProbeReport() {
  nlohmann::json models = nlohmann::json::array();
  nlohmann::json launches = nlohmann::json::array();
  for (const SweptLaunch& launch : sweptLaunches()) {
    nlohmann::json names = nlohmann::json::array();
    for (const int seed : {1, 2}) {
      const std::string name = launch.name + "-seed" + std::to_string(seed);
      names.push_back(name);
      models.push_back({{"name", name},
                        {"launch", launch.name},
                        {"seed", seed},
                        {"regularizer", launch.regularizer},
                        {"clean_accuracy", launch.clean},
                        {"corruptions", {{{"kind", "gaussian_noise"}, {"area", launch.area}}}},
                        {"minimum_norms",
                         {{{"attack", "pgd_l2_search"},
                           {"norm", "l2"},
                           {"median_l2", launch.l2},
                           {"median_linf", launch.l2 / 10}}}}});
    }
    launches.push_back(
        {{"name", launch.name},
         {"regularizer", launch.regularizer},
         {"control", launch.control},
         {"alpha", std::isnan(launch.alpha) ? nlohmann::json() : nlohmann::json(launch.alpha)},
         {"models", names},
         {"seeds", {1, 2}},
         {"mean_clean_accuracy", launch.clean},
         {"sem_clean_accuracy", 0.01},
         {"corruptions",
          {{{"kind", "gaussian_noise"},
            {"severities", {0.0, 0.16}},
            {"mean_accuracies", {launch.clean, launch.area}},
            {"sem_accuracies", {0.01, 0.02}},
            {"mean_area", launch.area},
            {"sem_area", 0.02}}}},
         {"minimum_norms",
          {{{"attack", "pgd_l2_search"},
            {"norm", "l2"},
            {"images", 100},
            {"already_misclassified", 10},
            {"failed", 0},
            {"mean_median_epsilon", launch.l2},
            {"mean_median_l2", launch.l2},
            {"sem_median_l2", 0.03},
            {"mean_median_linf", launch.l2 / 10}}}},
         {"mean_alignment_score", nullptr},
         {"sem_alignment_score", nullptr}});
  }
  return {{"format", "brainprior probe report"},
          {"version", 1},
          {"config", {{"max_images", 50}}},
          {"runtime", {{"device", "cpu"}, {"threads", 1}}},
          {"images", {{"path", "/data/fashion-mnist"}, {"split", "test"}, {"count", 50}}},
          {"models", models},
          {"launches", launches},
          {"warnings", nlohmann::json::array()}};
}

}  // namespace bp::test
