#pragma once
// The GUI's side of predictive models. This header is free of LibTorch (and of Qt): Qt translation
// units include it instead of the engine's model headers, because LibTorch and Qt's `slots` macro
// do not mix and every LibTorch include costs seconds of compile time. Everything here runs on a
// worker thread and returns plain values the panel can draw.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/neural_dataset.h"
#include "rsa/similarity.h"
#include "runtime/job.h"
#include "training/neural_fit_report.h"

namespace bp {
struct FittedNeuralModel;
}

namespace bp::app {

// What the model learned, as images and coordinates.
struct LearnedFeaturesView {
  // First-layer filters averaged over input channels: filterCount x filterSize x filterSize.
  int filterCount = 0;
  int filterSize = 0;
  int rotations = 1;  // > 1: filters are rotation-major copies of filterCount / rotations features
  std::vector<float> filters;
  // Gaussian readout: each neuron's position in image pixels (x, y), neurons x 2.
  std::vector<float> positions;
  // Factorized readout: each neuron's spatial mask, neurons x maskHeight x maskWidth.
  int maskHeight = 0;
  int maskWidth = 0;
  std::vector<float> masks;
};

// Functional types of a rotation-equivariant model (Ecker et al. 2019).
struct FunctionalTypesView {
  int typeCount = 0;
  std::vector<int> types;  // per neuron; -1 for a neuron without weights
  std::vector<double> energyFractions;
  std::vector<bool> clean;
  std::vector<int> preferredRotations;
  std::vector<std::int64_t> typeCounts;
  std::vector<std::int64_t> cleanTypeCounts;
};

struct ModelRecord {
  std::string name;  // shown in lists and legends
  std::string file;  // where it was saved or loaded from; empty while unsaved
  std::shared_ptr<const bp::FittedNeuralModel> model;  // the model of the dataset it was fitted with
  // A model of several recordings: the readouts of the other recordings, sharing `model`'s core, in
  // the order they were fitted; saved with it as one file.
  std::vector<std::shared_ptr<const bp::FittedNeuralModel>> moreRecordings;
  // Every recording of such a model, in order: its name and neurons, and its test evaluation's summary.
  nlohmann::json recordings = nlohmann::json::array();
  nlohmann::json modelConfig;
  nlohmann::json trainerConfig;  // null for a model loaded without its metrics
  nlohmann::json fitSummary;     // stop reason, best epoch, seconds, device
  std::vector<bp::NeuralEpochReport> curve;
  std::optional<bp::NeuralModelEvaluation> evaluation;  // on the test tier of the dataset it is shown with
  LearnedFeaturesView features;
  std::optional<FunctionalTypesView> types;
  int inputChannels = 1;
  int inputHeight = 0;
  int inputWidth = 0;
  std::int64_t neuronCount = 0;
  std::int64_t parameterCount = 0;
};

// {"model": {...}, "trainer": {...}} suited to a dataset: the paper-sized core for a large
// recording with a 20-minute budget, a smaller, faster one for small populations.
nlohmann::json defaultFitConfig(const bp::NeuralDataset& dataset, const std::string& coreKind);

// Fits, evaluates on the test tier, and prepares the views. `onEpoch` is called on the worker.
// `checkpoint`: where the fit keeps its state after every epoch, resumed when it exists (empty:
// nowhere); removed once the fit ends. `stopRequested` (may be empty) is asked after every epoch and
// ends the fit there with the best weights.
// `moreRecordings`: files of further recordings fitted with `dataset` as one model (a shared core, a
// readout each; their images brought to the dataset's size), each evaluated on its own test tier.
ModelRecord fitModel(const bp::NeuralDataset& dataset, const std::vector<std::string>& moreRecordings,
                     const nlohmann::json& fitConfig, const std::string& checkpoint, const bp::Job& job,
                     const std::function<void(const bp::NeuralEpochReport&)>& onEpoch,
                     const std::function<bool()>& stopRequested);
// Loads a model file (and its metrics file beside it when present); evaluates it when `dataset`
// matches the model's neurons and images.
ModelRecord loadModel(const std::string& path, const bp::NeuralDataset* dataset, const bp::Job& job);
// Writes the model and `<path>.metrics.json`, both atomically.
void saveModel(const ModelRecord& record, const std::string& path);
// The model for Python (python_export.h): a state_dict under LibTorch's names at `path` and its
// config and normalisation in <path>.json. FileError when it cannot be written.
void exportModelForPython(const ModelRecord& record, const std::string& path);

struct MeiView {
  std::int64_t neuron = 0;
  std::vector<float> image;  // channels x height x width, in the model's pixel range
  double activation = 0.0;
  double startActivation = 0.0;
};
std::vector<MeiView> computeMeis(const ModelRecord& record, const std::vector<std::int64_t>& neurons, int steps,
                                 const bp::Job& job);
float pixelRangeHigh(const ModelRecord& record);

// The denoised neural similarity target over the dataset's images of `tier` (nullopt: all), with
// neurons weighted by reliability x prediction quality unless `weighted` is false, and the paper's
// denoising check on the test repeats. For a model of several recordings, the mean of every
// recording's matrix over those images (the other recordings read from their files), and the
// loaded dataset's check.
struct NeuralTargetView {
  std::shared_ptr<bp::SimilarityMatrix> matrix;
  std::int64_t weightedNeurons = 0;
  nlohmann::json denoisingCheck;
};
NeuralTargetView buildNeuralTarget(const ModelRecord& record, const bp::NeuralDataset& dataset, bool weighted,
                                   std::optional<bp::Tier> tier, const bp::Job& job);

}  // namespace bp::app
