#include "probing/alpha_trade_off.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <nlohmann/json.hpp>

#include "runtime/config_reader.h"
#include "runtime/error.h"

namespace bp {
std::vector<AlphaTradeOffSeries> alphaTradeOff(const nlohmann::json& probeReport, const AlphaTradeOffMeasure& measure) {
  std::vector<AlphaTradeOffSeries> series;
  std::map<std::string, std::size_t> swept;  // series name -> index, for launches with an alpha
  bool anySweep = false;
  try {
    for (const nlohmann::json& launch : probeReport.at("launches")) {
      AlphaTradeOffPoint point;
      point.alpha = numberAt(launch, "alpha");
      point.clean = numberAt(launch, "mean_clean_accuracy");
      point.cleanSem = numberAt(launch, "sem_clean_accuracy");
      if (measure.kind == AlphaTradeOffMeasure::Kind::CorruptionArea) {
        const nlohmann::json& corruption = launch.at("corruptions").at(measure.index);
        point.robustness = numberAt(corruption, "mean_area");
        point.robustnessSem = numberAt(corruption, "sem_area");
      } else {
        const nlohmann::json& search = launch.at("minimum_norms").at(measure.index);
        const bool l2 = search.at("norm").get<std::string>() == "l2";
        point.robustness = numberAt(search, l2 ? "mean_median_l2" : "mean_median_linf");
        point.robustnessSem = numberAt(search, l2 ? "sem_median_l2" : "sem_median_linf");
      }
      if (std::isnan(point.alpha)) {
        series.push_back({launch.at("name").get<std::string>(), {point}});
        continue;
      }
      const std::string control = launch.value("control", std::string());
      const std::string name = control.empty() ? launch.at("regularizer").get<std::string>() : control + " control";
      const auto [found, added] = swept.emplace(name, series.size());
      if (added) series.push_back({name, {}});
      std::vector<AlphaTradeOffPoint>& points = series[found->second].points;
      points.push_back(point);
      anySweep = anySweep || points.size() >= 2;
    }
  } catch (const nlohmann::json::exception& error) {
    throw Error(std::string("probe report: cannot read the trade-off over alpha: ") + error.what());
  }
  if (!anySweep) return {};
  for (AlphaTradeOffSeries& one : series)
    std::sort(one.points.begin(), one.points.end(),
              [](const AlphaTradeOffPoint& a, const AlphaTradeOffPoint& b) { return a.alpha < b.alpha; });
  return series;
}

}  // namespace bp
