#pragma once
// A recording of neurons responding to images: one row per trial (one image presentation).
// The in-memory form every reader produces and every algorithm consumes. Plain C++: no LibTorch,
// so readers compile fast and the GUI can hold datasets without tensor headers.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bp {

enum class Tier { Train, Validation, Test };

const char* tierName(Tier tier);               // "train", "validation", "test"
std::optional<Tier> parseTier(const std::string& name);  // accepts exactly the names above

// Per-neuron metadata (neuralpredictors `neurons/` group). Empty vectors mean "not recorded".
struct NeuronInfo {
  std::vector<std::int64_t> unitIds;
  std::vector<std::int64_t> animalIds;
  std::vector<std::int64_t> sessions;
  std::vector<std::int64_t> scanIdx;
  std::vector<std::string> area;
  std::vector<std::string> layer;
  std::vector<double> cellMotorCoordinates;  // neurons x 3, row-major
};

// Summary statistics of one data key (neuralpredictors `statistics/<key>/<all|stimulus_frame>/`).
// Each entry holds the values of one statistic: a scalar (size 1) or one per unit/channel.
struct KeyStatistics {
  std::map<std::string, std::vector<float>> all;             // "mean", "std", "min", "max", "median"
  std::map<std::string, std::vector<float>> stimulusFrame;   // same names
};

struct NeuralDataset {
  std::string name;        // a short label, e.g. the folder or file stem
  std::string sourcePath;  // where it was read from (empty for generated data)

  // Stimulus geometry: every trial's image is channels x height x width.
  int channels = 0;
  int height = 0;
  int width = 0;
  std::int64_t neuronCount = 0;

  std::vector<float> images;          // trials x channels x height x width, source value range
  std::vector<float> responses;       // trials x neurons
  std::vector<float> behavior;        // trials x 3 (pupil dilation, derivative, running speed) or empty
  std::vector<float> pupilCenter;     // trials x 2 or empty
  std::vector<float> noiseFreeRates;  // trials x neurons ground truth (synthetic data only) or empty

  std::vector<Tier> tiers;                 // per trial
  std::vector<std::int64_t> imageIds;      // per trial; repeats of one image share an id
  std::vector<std::int64_t> trialIds;      // per trial; the source's trial index
  std::vector<std::string> imageClasses;   // per trial or empty

  NeuronInfo neurons;
  std::map<std::string, KeyStatistics> statistics;  // by data key: "images", "responses", ...

  // Trials the source declares but whose data is absent (their source trial indices).
  // They are excluded from every per-trial vector above.
  std::vector<std::int64_t> missingTrialIds;

  std::int64_t trialCount() const { return static_cast<std::int64_t>(tiers.size()); }
  std::int64_t declaredTrialCount() const { return trialCount() + static_cast<std::int64_t>(missingTrialIds.size()); }
  std::int64_t imageSize() const { return static_cast<std::int64_t>(channels) * height * width; }
  const float* image(std::int64_t trial) const { return images.data() + trial * imageSize(); }
  const float* response(std::int64_t trial) const { return responses.data() + trial * neuronCount; }
  bool hasBehavior() const { return !behavior.empty(); }
  bool hasPupilCenter() const { return !pupilCenter.empty(); }
  bool hasNoiseFreeRates() const { return !noiseFreeRates.empty(); }
  // The indices of the trials of `tier`, in trial order.
  std::vector<std::int64_t> trialsOf(Tier tier) const;

  // Throws bp::Error describing the first inconsistency (vector sizes vs. counts, etc.).
  void validate() const;
};

}  // namespace bp
