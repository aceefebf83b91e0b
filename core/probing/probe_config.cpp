#include "probing/probe_config.h"

#include <cmath>
#include <functional>

#include <nlohmann/json.hpp>

#include "runtime/config_reader.h"
#include "runtime/error.h"

namespace bp {

namespace {

// A JSON array whose items each parse with `parse`, replacing `target` when the key is present.
template <typename Item>
void readList(ConfigReader& reader, const std::string& key, std::vector<Item>& target,
              const std::function<Item(const nlohmann::json&)>& parse) {
  const auto* list = reader.find(key);
  if (!list) return;
  if (!list->is_array()) reader.fail(key, "must be an array");
  target.clear();
  for (const auto& item : *list) target.push_back(parse(item));
}

template <typename Item>
nlohmann::json listToJson(const std::vector<Item>& items) {
  nlohmann::json array = nlohmann::json::array();
  for (const Item& item : items) array.push_back(toJson(item));
  return array;
}

}  // namespace

std::vector<MinimumNormConfig> defaultMinimumNormSearches() {
  MinimumNormConfig linf;
  MinimumNormConfig l2;
  l2.pgd.norm = AttackNorm::L2;
  l2.upperEpsilon = 3.0;
  return {linf, l2};
}

nlohmann::json toJson(const SuccessCurveConfig& config) {
  return {{"attack", toJson(config.attack)}, {"epsilons", config.epsilons}};
}

nlohmann::json toJson(const ProbeConfig& config) {
  return {{"max_images", config.maxImages},
          {"batch_size", config.batchSize},
          {"corruptions", listToJson(config.corruptions)},
          {"minimum_norm_searches", listToJson(config.minimumNormSearches)},
          {"boundary_attack", config.boundaryAttack},
          {"boundary", toJson(config.boundary)},
          {"success_curves", listToJson(config.successCurves)},
          {"alignment",
           {{"importance_maps", config.alignment.importanceMaps}, {"hdf5_dataset", config.alignment.hdf5Dataset}}},
          {"images",
           {{"path", config.images.path}, {"split", config.images.split}, {"grayscale", config.images.grayscale}}}};
}

SuccessCurveConfig successCurveConfigFromJson(const nlohmann::json& json) {
  SuccessCurveConfig config;
  ConfigReader reader(json, "success curve config");
  if (const auto* attack = reader.find("attack")) config.attack = pgdConfigFromJson(*attack);
  if (const auto* epsilons = reader.find("epsilons")) {
    if (!epsilons->is_array()) reader.fail("epsilons", "must be an array of numbers");
    config.epsilons.clear();
    for (const auto& epsilon : *epsilons) {
      if (!epsilon.is_number()) reader.fail("epsilons", "must be an array of numbers");
      config.epsilons.push_back(epsilon.get<double>());
    }
  }
  reader.finish();
  return config;
}

ProbeConfig probeConfigFromJson(const nlohmann::json& json) {
  ProbeConfig config;
  ConfigReader reader(json, "probe config");
  reader.read("max_images", config.maxImages);
  reader.read("batch_size", config.batchSize);
  readList<CorruptionSweepConfig>(reader, "corruptions", config.corruptions, corruptionSweepConfigFromJson);
  readList<MinimumNormConfig>(reader, "minimum_norm_searches", config.minimumNormSearches, minimumNormConfigFromJson);
  reader.read("boundary_attack", config.boundaryAttack);
  if (const auto* boundary = reader.find("boundary")) config.boundary = boundaryAttackConfigFromJson(*boundary);
  readList<SuccessCurveConfig>(reader, "success_curves", config.successCurves, successCurveConfigFromJson);
  if (const auto* alignment = reader.find("alignment")) {
    ConfigReader alignmentReader(*alignment, "probe config: alignment");
    alignmentReader.read("importance_maps", config.alignment.importanceMaps);
    alignmentReader.read("hdf5_dataset", config.alignment.hdf5Dataset);
    alignmentReader.finish();
  }
  if (const auto* images = reader.find("images")) {
    ConfigReader imagesReader(*images, "probe config: images");
    imagesReader.read("path", config.images.path);
    imagesReader.read("split", config.images.split);
    imagesReader.read("grayscale", config.images.grayscale);
    imagesReader.finish();
  }
  reader.finish();
  return config;
}

void validate(const SuccessCurveConfig& config) {
  validate(config.attack);
  if (config.epsilons.empty()) throw Error("success curve: no epsilons");
  for (const double epsilon : config.epsilons)
    if (!std::isfinite(epsilon) || epsilon < 0.0) throw Error("success curve: epsilons must be finite numbers >= 0");
}

void validate(const ProbeConfig& config) {
  if (config.maxImages < 0) throw Error("probe: max_images must be >= 0 (0: every test image)");
  if (config.batchSize < 1) throw Error("probe: batch_size must be positive");
  for (const CorruptionSweepConfig& sweep : config.corruptions) validate(sweep);
  for (const MinimumNormConfig& search : config.minimumNormSearches) validate(search);
  if (config.boundaryAttack) validate(config.boundary);
  for (const SuccessCurveConfig& curve : config.successCurves) validate(curve);
  if (!config.images.path.empty() && config.images.split.empty())
    throw Error("probe: images: split must name the split to probe (e.g. \"test\")");
  if (!config.alignment.importanceMaps.empty() && config.alignment.hdf5Dataset.empty())
    throw Error("probe: alignment: hdf5_dataset must name the maps' dataset");
}

std::vector<std::string> probePresetNames() { return {"quick", "noise and PGD", "paper"}; }

ProbeConfig probePreset(const std::string& name) {
  ProbeConfig config;  // "paper": the defaults
  if (name == "quick" || name == "noise and PGD") {
    const bool quick = name == "quick";
    config.maxImages = quick ? 100 : 500;
    config.batchSize = quick ? 100 : 250;
    config.corruptions.front().severities = quick ? std::vector<double>{0.0, 0.08, 0.16, 0.32}
                                                  : std::vector<double>{0.0, 0.04, 0.08, 0.16, 0.24, 0.32};
    for (MinimumNormConfig& search : config.minimumNormSearches) {
      search.pgd.steps = quick ? 5 : 10;
      search.searchSteps = quick ? 6 : 8;
    }
    config.boundaryAttack = false;
    config.successCurves.clear();
  } else if (name != "paper") {
    throw Error("probe: no preset \"" + name + "\" (quick, noise and PGD, paper)");
  }
  return config;
}

}  // namespace bp
