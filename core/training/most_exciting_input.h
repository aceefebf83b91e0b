#pragma once
// Most exciting inputs (docs/science.md §3): the image a fitted model says drives one neuron hardest,
// found by gradient ascent on the input under a contrast (L2 norm) constraint, with the gradient
// blurred so the image cannot climb by adding pixel-level noise the model never saw.
#include <cstdint>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "runtime/job.h"
#include "training/neural_trainer.h"

namespace bp {

struct MeiConfig {
  int steps = 300;
  double stepSize = 0.05;  // x the RMS contrast, per step, along the normalised gradient
  // RMS of the image in the model's normalised units: 1 is the contrast of an average training
  // image (normalisation gives unit standard deviation over pixels).
  double contrast = 1.0;
  double blurSigma = 1.5;  // pixels; the gradient's Gaussian blur, shrinking to 0.5 by the last step
  std::uint64_t seed = 0;  // the random start
};

nlohmann::json toJson(const MeiConfig& config);
// Strict: unknown keys or wrong types are a bp::Error naming the key.
MeiConfig meiConfigFromJson(const nlohmann::json& json);

struct MostExcitingInput {
  std::int64_t neuron = 0;
  std::vector<float> image;         // channels x height x width, clipped to the model's pixel range
  double activation = 0.0;          // predicted response to `image`, original units
  double startActivation = 0.0;     // predicted response to the random start image
  std::vector<double> trajectory;   // predicted response at each step, before its update
};

// One MEI per requested neuron, optimised together as one batch. Throws bp::Error for a neuron out
// of range or a bad config, CancelledError when the job is cancelled.
std::vector<MostExcitingInput> computeMostExcitingInputs(const FittedNeuralModel& fitted,
                                                         const std::vector<std::int64_t>& neurons,
                                                         const MeiConfig& config = {}, const Job& job = {});

}  // namespace bp
