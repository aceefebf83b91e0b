#include "models/functional_types.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>
#include <string>

#include "runtime/error.h"

namespace bp {

FunctionalTypes computeFunctionalTypes(const torch::Tensor& features, int rotations, double cleanThreshold) {
  if (features.dim() != 2 || rotations < 1 || features.size(1) == 0 || features.size(1) % rotations != 0)
    throw Error("functional types: readout features must be neurons x (rotations * features) with " +
                std::to_string(rotations) + " rotations");
  FunctionalTypes result;
  result.rotations = rotations;
  result.featureCount = features.size(1) / rotations;
  result.cleanThreshold = cleanThreshold;
  const auto neurons = features.size(0);

  const torch::Tensor weights = features.detach().to(torch::kCPU, torch::kDouble);
  const torch::Tensor squares = weights.pow(2).reshape({neurons, rotations, result.featureCount});
  const torch::Tensor totals = squares.sum({1, 2});
  // Normalising to unit L2 and squaring is dividing the squares by their total (kept from 0 / 0).
  const torch::Tensor energies = (squares.sum(1) / totals.clamp_min(1e-300).unsqueeze(1)).contiguous();
  const torch::Tensor top = energies.argmax(1);
  const torch::Tensor topSquares =  // neurons x rotations: the top feature's squared weights
      squares.gather(2, top.view({neurons, 1, 1}).expand({neurons, rotations, 1})).squeeze(2);
  const torch::Tensor topRotation = topSquares.argmax(1);

  auto energy = energies.accessor<double, 2>();
  auto total = totals.accessor<double, 1>();
  auto type = top.accessor<std::int64_t, 1>();
  auto rotation = topRotation.accessor<std::int64_t, 1>();
  result.typeCounts.assign(static_cast<std::size_t>(result.featureCount), 0);
  result.cleanTypeCounts.assign(static_cast<std::size_t>(result.featureCount), 0);
  for (std::int64_t n = 0; n < neurons; ++n) {
    for (std::int64_t c = 0; c < result.featureCount; ++c) result.energies.push_back(static_cast<float>(energy[n][c]));
    if (!(total[n] > 0.0)) {
      result.types.push_back(-1);
      result.energyFractions.push_back(0.0);
      result.clean.push_back(false);
      result.preferredRotations.push_back(-1);
      continue;
    }
    const std::int64_t feature = type[n];
    const double fraction = energy[n][feature];
    const bool clean = fraction > cleanThreshold;
    result.types.push_back(static_cast<int>(feature));
    result.energyFractions.push_back(fraction);
    result.clean.push_back(clean);
    result.preferredRotations.push_back(static_cast<int>(rotation[n]));
    ++result.typeCounts[static_cast<std::size_t>(feature)];
    if (clean) ++result.cleanTypeCounts[static_cast<std::size_t>(feature)];
  }
  return result;
}

FunctionalTypes computeFunctionalTypes(const NeuralModel& model, double cleanThreshold) {
  if (model->config().core != CoreKind::RotationEquivariant)
    throw Error(std::string("functional types need a rotation-equivariant core, not a ") +
                coreKindName(model->config().core) + " one");
  const torch::Tensor& features =
      model->gaussianReadout() ? model->gaussianReadout()->features : model->factorizedReadout()->features;
  return computeFunctionalTypes(features, model->config().rotations, cleanThreshold);
}

nlohmann::json toJson(const FunctionalTypes& types) {
  nlohmann::json energies = nlohmann::json::array();
  const auto features = static_cast<std::size_t>(types.featureCount);
  for (std::size_t row = 0; row < types.types.size(); ++row)
    energies.push_back(std::vector<float>(types.energies.begin() + static_cast<std::ptrdiff_t>(row * features),
                                          types.energies.begin() + static_cast<std::ptrdiff_t>((row + 1) * features)));
  return {{"rotations", types.rotations},
          {"feature_count", types.featureCount},
          {"clean_threshold", types.cleanThreshold},
          {"energies", energies},
          {"types", types.types},
          {"energy_fractions", types.energyFractions},
          {"clean", types.clean},
          {"preferred_rotations", types.preferredRotations},
          {"type_counts", types.typeCounts},
          {"clean_type_counts", types.cleanTypeCounts}};
}

}  // namespace bp
