#pragma once
// Functional cell types of a rotation-equivariant model (Ecker et al. 2019, docs/science.md §3): a
// neuron's readout weights over the core's rotation x feature maps, with the rotations summed out,
// say which feature it computes regardless of the orientation it prefers. Neurons that put most
// of their weight on one feature are "clean" members of that feature's type.
#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>
#include <nlohmann/json_fwd.hpp>

#include "models/neural_model.h"

namespace bp {

struct FunctionalTypes {
  int rotations = 0;
  std::int64_t featureCount = 0;  // the core's output features per rotation: the possible types
  double cleanThreshold = 0.5;    // a clean neuron's type holds more than this share of its energy

  // Per neuron.
  // Feature energy, neurons x featureCount row-major: the neuron's weights normalised to unit L2,
  // squared and summed over rotations; each row sums to 1 (0 for all-zero weights).
  std::vector<float> energies;
  std::vector<int> types;               // the feature with the most energy; -1 for all-zero weights
  std::vector<double> energyFractions;  // that feature's energy
  std::vector<bool> clean;              // energy fraction > cleanThreshold
  std::vector<int> preferredRotations;  // the rotation where the type's squared weight peaks; -1 with the type

  // Per type (feature).
  std::vector<std::int64_t> typeCounts;       // neurons of each type
  std::vector<std::int64_t> cleanTypeCounts;  // clean neurons of each type
};

// `features`: neurons x (rotations * featureCount) readout weights, rotation-major (channel =
// rotation * featureCount + feature), as the readouts of a RotationEquivariantCore hold them.
// Throws bp::Error when that is not a 2-D tensor whose columns are a multiple of `rotations`.
FunctionalTypes computeFunctionalTypes(const torch::Tensor& features, int rotations, double cleanThreshold = 0.5);
// From the model's readout, Gaussian or factorized. Throws bp::Error unless the model's core is
// rotation-equivariant.
FunctionalTypes computeFunctionalTypes(const NeuralModel& model, double cleanThreshold = 0.5);

// Keys: "rotations", "feature_count", "clean_threshold", "energies" (one array per neuron),
// "types", "energy_fractions", "clean", "preferred_rotations", "type_counts", "clean_type_counts".
nlohmann::json toJson(const FunctionalTypes& types);

}  // namespace bp
