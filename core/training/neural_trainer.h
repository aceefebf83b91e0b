#pragma once
// Fitting, saving and evaluating predictive models of neurons (science.md §3): Poisson loss,
// Adam, early stopping on validation correlation with learning-rate decay on plateau, the
// neuralpredictors normalisation, and the per-neuron measures neuroscientists report.
#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "data/neural_dataset.h"
#include "models/neural_model.h"
#include "training/neural_fit_report.h"
#include "runtime/job.h"

namespace bp {

class DataParallelGroup;

struct NeuralTrainerConfig {
  int batchSize = 64;
  int maxEpochs = 200;
  double learningRate = 5e-3;
  int patience = 5;            // epochs without a better validation correlation before a plateau
  double tolerance = 1e-6;     // an improvement smaller than this is no improvement
  int learningRateDecays = 3;  // plateaus that decay the rate (and restore the best weights) before stopping
  double learningRateFactor = 0.3;
  // Training-time budget (0: none): no epoch starts that would, at the last epoch's pace, end
  // beyond it. The best weights are kept.
  double maxSeconds = 0.0;
  // Every epoch's shuffle and readout sampling derive from (seed, epoch), so a resumed fit repeats
  // the epochs an uninterrupted one would have run.
  std::uint64_t seed = 0;
};

nlohmann::json toJson(const NeuralTrainerConfig& config);
// Missing keys keep their defaults; unknown keys or wrong types are a bp::Error naming the key.
NeuralTrainerConfig neuralTrainerConfigFromJson(const nlohmann::json& json);

// The neuralpredictors normalisation: the model sees (image - mean) / std per channel and
// predicts responses divided by each neuron's train standard deviation (floored at 1% of the
// mean standard deviation, so silent neurons do not blow up).
struct NeuralNormalization {
  std::vector<float> imageMean;      // per channel
  std::vector<float> imageStd;       // per channel
  std::vector<float> responseScale;  // per neuron: original units = model units * responseScale
  // The pixel range of the fitted images: [0, 1], or [0, 255] (the recorded-data convention) when
  // any train pixel exceeds 1. Other image sets are mapped onto it before prediction.
  std::array<float, 2> pixelRange = {0.0f, 255.0f};
  // The train tier's mean and standard deviation of the pupil centre (2) and the behaviour (3), which
  // z-score the shifter's and modulator's inputs; empty when the dataset has none.
  std::vector<float> pupilMean;
  std::vector<float> pupilStd;
  std::vector<float> behaviorMean;
  std::vector<float> behaviorStd;
};

nlohmann::json toJson(const NeuralNormalization& normalization);
NeuralNormalization neuralNormalizationFromJson(const nlohmann::json& json);

// From dataset.statistics["images"] (all trials) when present, otherwise from the train tier;
// response scales and the pixel range always from the train tier.
NeuralNormalization computeNeuralNormalization(const NeuralDataset& dataset);

// A model with everything needed to apply it to new images.
struct FittedNeuralModel {
  NeuralModel model{nullptr};
  NeuralNormalization normalization;
  std::string recording;  // the name of the recording it predicts (its dataset's name when fitted)
};

using NeuralEpochCallback = std::function<void(const NeuralEpochReport&)>;


struct NeuralFitResult {
  // One per recording, in the order given, holding the best weights; with several recordings their
  // models share one core (the same module).
  std::vector<FittedNeuralModel> fitted;
  std::vector<NeuralEpochReport> history;
  int bestEpoch = 0;
  double bestValidationCorrelation = 0.0;
  std::string stopReason;  // "early stopping", "max epochs", "time limit", "stopped"
  double seconds = 0.0;      // training time, including the epochs before a resume
  int resumedAfterEpoch = 0;  // the checkpoint's last epoch when resumed, else 0
  std::string device;        // where it trained: "cpu" or "cuda"
};

// The curve and how it ended (not the weights).
nlohmann::json toJson(const NeuralFitResult& result);

// Poisson negative log-likelihood up to a constant: prediction - target * log(prediction + 1e-8),
// summed over neurons, averaged over the batch.
torch::Tensor poissonLoss(const torch::Tensor& prediction, const torch::Tensor& target);

// How a running fit is kept and steered besides its config.
struct NeuralFitControl {
  // Written atomically after every epoch (weights, best weights, optimizer, curve, counters); empty:
  // no checkpoint. A cancelled or failed fit leaves the last complete epoch there.
  std::filesystem::path checkpoint;
  // Continue from `checkpoint` when it exists. Its model and trainer configs and dataset size must
  // match (bp::Error naming the difference otherwise); the curve continues exactly where it stopped.
  bool resume = false;
  // Asked after every epoch: true ends the fit there with the best weights ("stopped"), unlike a
  // cancelled job, which throws and keeps only the checkpoint.
  std::function<bool()> stopRequested;
  // Data-parallel fitting (docs/distributed.md): each batch is shared out among the group's ranks,
  // batch norm and gradients are summed over them, and the weights are those one process would
  // reach; the ranks stop together (a time limit or a stop request on any rank stops all). Rank 0
  // alone writes the checkpoint; every rank reads it to resume. Null: alone.
  DataParallelGroup* group = nullptr;
};

// Fit settings suited to a dataset: the paper-sized core with a 20-minute budget for a large
// recording (1,000 neurons or more); for a few hundred neurons a lighter 3-layer core (16 feature
// maps, or 4 features x rotations) with a 3-minute budget, which fits in a couple of minutes on two
// cores. The first filter shrinks to fit inside the image.
struct NeuralFitSettings {
  NeuralModelConfig model;
  NeuralTrainerConfig trainer;
};
NeuralFitSettings defaultNeuralFitSettings(const NeuralDataset& dataset, CoreKind core);

// Fits on the train tier, selects on the validation tier. `modelConfig`'s input geometry and
// neuron count are taken from the dataset. Trains on runtimeInfo().device; the fitted model comes
// back on the CPU. Runs on the calling thread (call initializeWorkerThread() first when that is not
// the main thread). Throws bp::Error when the dataset lacks train or validation trials or the loss
// is not finite (the checkpoint keeps the last good epoch), CancelledError when the job is cancelled.
NeuralFitResult fitNeuralModel(const NeuralDataset& dataset, const NeuralModelConfig& modelConfig,
                               const NeuralTrainerConfig& trainerConfig, const Job& job = {},
                               const NeuralEpochCallback& onEpoch = {}, const NeuralFitControl& control = {});
// Several recordings, one model (Li et al.'s corpus; neuralpredictors' multi-session models): one
// core shared by a readout per recording, each recording normalised on its own. Every epoch takes
// every recording's train batches, spread evenly over it; the validation correlation that early
// stopping follows is the recordings' mean (each epoch report also has every recording's). The
// recordings must have one image size (bringToOneImageSize). One recording fits exactly as above.
NeuralFitResult fitNeuralModel(const std::vector<const NeuralDataset*>& recordings,
                               const NeuralModelConfig& modelConfig, const NeuralTrainerConfig& trainerConfig,
                               const Job& job = {}, const NeuralEpochCallback& onEpoch = {},
                               const NeuralFitControl& control = {});

// Predicted responses in the dataset's original units: trials x neurons. `images` are
// count x channels x height x width in the units the model was fitted on.
std::vector<float> predictResponses(const FittedNeuralModel& fitted, const float* images, std::int64_t count,
                                    const Job& job = {});
// With a shifter or modulator, each trial's own eye and behaviour when the dataset has them (the mean
// ones otherwise, with a warning).
std::vector<float> predictResponses(const FittedNeuralModel& fitted, const NeuralDataset& dataset, const Job& job = {});

// One file holding the weights, the model config and the normalisation (a LibTorch archive,
// written atomically), and `<path>.json` beside it with the same config for people and scripts.
void saveNeuralModel(const FittedNeuralModel& fitted, const std::filesystem::path& path);
// Loads onto the CPU whatever device the model was saved from. FileError when unreadable, or when
// the file holds a model of several recordings (loadNeuralModels reads those).
FittedNeuralModel loadNeuralModel(const std::filesystem::path& path);
// A model of several recordings in one file (format version 2): each recording's readout,
// normalisation and name, and their core once. One recording is saved as saveNeuralModel saves it.
void saveNeuralModels(const std::vector<FittedNeuralModel>& recordings, const std::filesystem::path& path);
// Every recording's model of a file either function wrote (the models share one core).
std::vector<FittedNeuralModel> loadNeuralModels(const std::filesystem::path& path);

NeuralModelEvaluation evaluateNeuralModel(const FittedNeuralModel& fitted, const NeuralDataset& dataset,
                                          Tier tier = Tier::Test, const Job& job = {});

}  // namespace bp
