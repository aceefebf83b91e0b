#pragma once
// What one robustness probe of a trained classifier measures (docs/science.md §1 step 7), as the
// `brainprior-cli probe` command and the GUI's probe panel read it: which test images, the
// corruption sweeps, the minimum-perturbation attacks behind the paper's median table, and
// success-rate curves against fixed budgets. The defaults follow the paper: 1,000 test images,
// Gaussian noise of increasing sigma, median minimum L-inf and L2 perturbations.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "probing/attacks.h"
#include "probing/corruptions.h"

namespace bp {

struct SuccessCurveConfig {
  PgdConfig attack;
  std::vector<double> epsilons = {0.0, 1.0 / 255, 2.0 / 255, 4.0 / 255, 8.0 / 255};
};

// The harmonization alignment score (Fel et al. 2022; docs/science.md §2) on the probe images that have
// an importance map (e.g. human ClickMe maps), keyed by probe image index as loadImportanceMaps
// reads them (regularization_target.h): row r of the HDF5 dataset or "r.png" is the split's image r.
struct AlignmentConfig {
  std::string importanceMaps;  // HDF5 file or folder of images; empty: no alignment score
  std::string hdf5Dataset = "importance_maps";
};

// The images to probe imported models on (scripted_classifier.h) when no training run names them;
// with runs, their test images are the probe images and these must be empty or the same.
struct ProbeImagesConfig {
  std::string path;  // any image dataset loadImageDataset reads; empty: the runs' test images
  std::string split = "test";
  bool grayscale = true;
};

// A PGD L-inf search up to 0.1 and a PGD L2 search up to 3.
std::vector<MinimumNormConfig> defaultMinimumNormSearches();

struct ProbeConfig {
  std::int64_t maxImages = 1000;  // the first images of the test split; 0: all
  std::int64_t batchSize = 128;
  std::vector<CorruptionSweepConfig> corruptions = {CorruptionSweepConfig{}};
  std::vector<MinimumNormConfig> minimumNormSearches = defaultMinimumNormSearches();
  bool boundaryAttack = true;  // the decision-based L2 attack, with `boundary`
  BoundaryAttackConfig boundary;
  std::vector<SuccessCurveConfig> successCurves = {SuccessCurveConfig{}};
  AlignmentConfig alignment;
  ProbeImagesConfig images;
};

// The named probes the GUI offers and the demo runs: "quick" (100 images; Gaussian noise at 4
// levels; PGD L-inf and L2 searches of 5 steps and 6 bisections), "noise and PGD" (500 images, 6
// noise levels, searches of 10 steps and 8 bisections; the comparison in docs/results.md), "paper" (the
// defaults above: 1,000 images, the boundary attack and a success curve too).
std::vector<std::string> probePresetNames();
// Throws bp::Error naming the presets for any other name.
ProbeConfig probePreset(const std::string& name);

// Keys: {"max_images", "batch_size", "corruptions": [CorruptionSweepConfig], "minimum_norm_searches":
// [MinimumNormConfig], "boundary_attack", "boundary": BoundaryAttackConfig, "success_curves":
// [{"attack": PgdConfig, "epsilons"}], "alignment": {"importance_maps", "hdf5_dataset"}, "images": {"path",
// "split", "grayscale"}}.
nlohmann::json toJson(const SuccessCurveConfig& config);
nlohmann::json toJson(const ProbeConfig& config);
// Missing keys keep their defaults (a given list replaces the default list); an unknown key or a
// wrong type is a bp::Error naming it.
SuccessCurveConfig successCurveConfigFromJson(const nlohmann::json& json);
ProbeConfig probeConfigFromJson(const nlohmann::json& json);
// Throws bp::Error naming the first invalid setting of any part.
void validate(const SuccessCurveConfig& config);
void validate(const ProbeConfig& config);

}  // namespace bp
