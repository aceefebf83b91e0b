#pragma once
// The embedded default dataset: a synthetic mouse-V1-like population with known ground truth.
// Gabor simple cells and energy-model complex cells look at the images of any ImageDataset; their
// noise-free rates are kept beside Poisson (or overdispersed) spike counts, so every measure and
// model in BrainPrior can be checked against the truth.
//
// The model, per neuron (pixel coordinates: x = column, y = row, origin at the top-left pixel):
//   image      I = mean over channels of the source pixels (expected in [0, 1]), minus the global
//                  mean pixel of the train images (the screen's mean luminance)
//   filters    G_p(x, y) = exp(-r^2 / (2 sigma^2)) * cos(2 pi f u + p), u = (x - x0) cos(theta)
//                  + (y - y0) sin(theta); truncated at 3 sigma and scaled to unit L2 norm
//   simple     drive = max(0, <G_phase, I>)                              (half-wave rectification)
//   complex    drive = sqrt(<G_phase, I>^2 + <G_phase+pi/2, I>^2)        (energy model)
//   rate       = baseline + gain * drive^2                                (expansive output power)
//   calibration  baseline is drawn (30-80% of meanRate); gain = (meanRate - baseline) / mean of
//                  drive^2 over the train images, so every neuron's mean rate there is meanRate
//   shared     trial rate = max(0, g_t * rate + a * meanRate * sum_k L_nk z_tk): the trial-to-trial
//                  variability that recorded cortex shares across neurons, a gain g_t common to all
//                  neurons (log-normal, mean 1, log SD sharedGainSd; Goris et al. 2014) and a
//                  low-rank additive part (z_tk ~ N(0, 1) per trial, loadings L_nk ~ N(0, 1/K) per
//                  neuron, K = sharedFactors, a = sharedAdditiveSd; Lin et al. 2015). The gain has mean 1
//                  and the additive part mean 0, so the noise-free rate stays each trial's expected
//                  rate (up to the clamp at zero, which only the additive part can reach).
//   counts     ~ Poisson(trial rate), or gamma-Poisson with Fano factor noiseFano when noiseFano > 1
#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/image_dataset.h"
#include "data/neural_dataset.h"
#include "runtime/job.h"

namespace bp {

struct SyntheticV1Config {
  std::int64_t neuronCount = 400;
  double complexCellFraction = 0.4;
  std::int64_t trainImages = 2400;      // each shown once
  std::int64_t validationImages = 300;  // each shown once
  std::int64_t testImages = 50;         // each shown testRepeats times
  int testRepeats = 10;
  double meanRate = 1.5;   // mean spikes per trial of every neuron on the train images; sets the gains
  double noiseFano = 1.0;  // 1 = Poisson; > 1 overdispersed (gamma-Poisson, variance = noiseFano * rate)
  // Shared trial-to-trial variability (0 turns each part off). With Poisson counts the shared gain is
  // Goris et al.'s modulated Poisson model, whose gain alone makes the counts overdispersed. The
  // defaults (gain 0.7, no additive part, mean rate 1.5, Poisson) are calibrated so that the default
  // population matches the Lurz et al. 2021 recording on both per-neuron reliability (median oracle
  // correlation) and the agreement of one trial's population similarity with the other repeats'
  // (docs/science.md, "The embedded synthetic population").
  double sharedGainSd = 0.7;
  int sharedFactors = 0;
  double sharedAdditiveSd = 0.0;
  std::uint64_t seed = 2019;
};

// Keys are snake_case ("neuron_count", "complex_cell_fraction", ..., "seed").
nlohmann::json toJson(const SyntheticV1Config& config);
// Missing keys keep their defaults; an unknown key or a value of the wrong type is a bp::Error
// naming the key. The values themselves are checked by generateSyntheticV1.
SyntheticV1Config syntheticV1ConfigFromJson(const nlohmann::json& json);

// One neuron's ground truth, in the pixel coordinates described above.
struct SyntheticNeuron {
  bool complexCell = false;
  double x = 0.0;  // receptive-field centre, pixels
  double y = 0.0;
  double orientation = 0.0;       // direction of the carrier's wave vector, radians in [0, pi)
  double spatialFrequency = 0.0;  // cycles per pixel
  double phase = 0.0;             // radians in [0, 2 pi); the response ignores it for complex cells
  double sigma = 0.0;             // Gaussian envelope standard deviation, pixels
  double gain = 0.0;              // rate per squared unit of drive
  double baseline = 0.0;          // stimulus-independent rate (the rate at zero drive)
};

// The ground truth of one neuron, as saved beside a generated dataset.
nlohmann::json toJson(const SyntheticNeuron& neuron);

struct SyntheticV1Result {
  NeuralDataset dataset;
  std::vector<SyntheticNeuron> neurons;
  SyntheticV1Config config;
};

// Picks train + validation + test distinct images of `source` at random (seeded), shows train and
// validation images once and test images testRepeats times, and draws the responses. Throws
// bp::Error for an invalid config or a source with too few images, more than 3 channels or
// pixels outside [0, 1]; CancelledError when the job is cancelled.
SyntheticV1Result generateSyntheticV1(const ImageDataset& source, const SyntheticV1Config& config, const Job& job = {});

}  // namespace bp
