#pragma once
// The GUI's side of probing trained classifiers. This header is free of LibTorch (and of Qt), for
// the same reason as model_session.h: Qt translation units include it instead of the engine's
// probing headers. Everything here runs on a worker thread.
//
// Two uses: the interactive probe (one image, corrupted or attacked, shown to every loaded model at
// once, with each model's class probabilities and saliency), and the robustness and predictivity
// reports of the comparison dashboard, which are exactly what `brainprior-cli probe` and
// `brainprior-cli predictivity` write (the same engine functions, the same files).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/job.h"

namespace bp {
struct TrainedClassifier;
}

namespace bp::app {

// A finished training run's classifier, or an imported TorchScript model, loaded for probing.
struct ProbeModel {
  std::string folder;
  std::string name;    // the run's folder name
  std::string launch;  // the run's launch (RunRecord::group)
  std::string regularizer;
  std::uint64_t seed = 0;
  double testAccuracy = 0.0;  // NaN for an imported model
  std::vector<std::string> classNames;
  // The images it takes; an imported model brings any image to its declared input itself.
  int channels = 0;
  int height = 0;
  int width = 0;
  bool imported = false;
  std::vector<std::string> layers;  // its layers by name (what predictivity and layer similarity choose from)
  double rangeLow = 0.0;  // an imported model's declared input range (BrainPrior's runs: [0, 1])
  double rangeHigh = 1.0;
  // The training config's test images: where the probe panel draws its dataset images from (empty
  // for an imported model).
  std::string testImagesPath;
  std::string testSplit;
  bool grayscale = true;
  // Used by one probe at a time (the panel runs them one after the other).
  std::shared_ptr<bp::TrainedClassifier> trained;
};

// Loads the finished runs among `paths` (each a run folder or a folder of runs; the others are
// skipped and named in `skipped`), then the imported models among them (TorchScript files,
// scripted_classifier.h). Throws bp::Error when nothing is found, or when the runs take images of
// different shapes (they could not be shown the same image); FileError for an unreadable model.
std::vector<ProbeModel> loadProbeModels(const std::vector<std::string>& paths, std::vector<std::string>& skipped,
                                        const bp::Job& job);

// Labelled images to pick from: the first `maxImages` test images of `model`'s training config.
struct ProbeImageSet {
  std::string path;
  int channels = 0;
  int height = 0;
  int width = 0;
  std::vector<float> pixels;  // images x channels x height x width in [0, 1]
  std::vector<int> labels;
  std::vector<std::string> classNames;
  std::int64_t count() const { return static_cast<std::int64_t>(labels.size()); }
};
ProbeImageSet loadProbeImageSet(const ProbeModel& model, std::int64_t maxImages, const bp::Job& job);
// The first `maxImages` test images of the labelled image dataset at `path` (IDX, CIFAR, class
// folders) at their own size: what imported models are probed on when no run names images.
ProbeImageSet loadLabelledImages(const std::string& path, bool grayscale, std::int64_t maxImages, const bp::Job& job);

// A dropped or opened image file in the models' geometry (channels x height x width, [0, 1]).
std::vector<float> readProbeImageFile(const std::string& file, int channels, int height, int width);

enum class ProbeAttack { None, Fgsm, PgdLinf, PgdL2, MinimumLinf, MinimumL2 };

struct ProbeRequest {
  std::vector<float> image;  // channels x height x width in [0, 1]
  int channels = 0;
  int height = 0;
  int width = 0;
  int label = -1;  // the true class; -1 (a dropped file): the attacked model's own decision
  std::string corruption = "none";  // "none" or a corruption kind (corruptions.h)
  double severity = 0.0;
  std::uint64_t noiseSeed = 0;
  ProbeAttack attack = ProbeAttack::None;  // on the corrupted image
  double epsilon = 0.0;  // the fixed-budget attacks' budget; the searches' upper bound
  int attackedModel = 0;  // the model the attack's gradients come from; the others see its image
  int pgdSteps = 20;
};

struct ModelResponse {
  std::vector<float> probabilities;  // softmax of the logits
  int predicted = 0;
  // alignmentSaliency (harmonization.h) of the predicted class: the largest |d logit / d pixel| over
  // the channels, height x width.
  std::vector<float> saliency;
};

struct ProbeOutcome {
  std::vector<float> shown;         // the corrupted and attacked image the models see
  std::vector<float> perturbation;  // shown - original
  double linf = 0.0;
  double l2 = 0.0;
  int attackLabel = -1;       // the class the attack pushed away from (-1: no attack)
  bool attackFooled = false;  // the attacked model no longer predicts attackLabel
  double foundEpsilon = 0.0;  // minimum-norm searches: the smallest budget that fooled (+inf: none)
  std::vector<ModelResponse> models;  // in the order of `models`
};

// Corrupts, attacks, and shows the result to every model. Throws bp::Error for an image whose
// geometry is not the runs' (imported models take any), an unknown corruption or an invalid severity.
ProbeOutcome runProbe(const std::vector<ProbeModel>& models, const ProbeRequest& request, const bp::Job& job);

// ---- Comparison reports -----------------------------------------------------------------------------

// The engine's named probe configs (probe_config.h: probePreset), as JSON.
std::vector<std::string> probeConfigPresets();
nlohmann::json probeConfigPreset(const std::string& name);

// writeProbeReportFolder (probe_runner.h) of `runFolders` with `config` (ProbeConfig JSON) into
// `outputDir`, as `brainprior-cli probe --output-dir` writes it; returns report.json's content.
nlohmann::json runProbeReport(const std::vector<std::string>& runFolders, const nlohmann::json& config,
                              const std::string& outputDir, const bp::Job& job);

// writePredictivityReportFolder (predictivity.h) of `runFolders` against the neural dataset at
// `neuralPath` with `config` (PredictivityConfig JSON) into `outputDir`, as `brainprior-cli
// predictivity --output-dir` writes it; returns report.json's content.
nlohmann::json runPredictivityReport(const std::vector<std::string>& runFolders, const std::string& neuralPath,
                                     const nlohmann::json& config, const std::string& outputDir, const bp::Job& job);

}  // namespace bp::app
