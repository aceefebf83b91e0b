#pragma once
// The denoised neural similarity of Li et al. 2019 (docs/science.md §1 steps 2-4): a fitted model's
// predictions replace the noisy single trials, each neuron is weighted by reliability x prediction
// quality (w_a * v_a), and the similarity engine turns the weighted predictions into the target
// matrix that brain-regularized training pulls a classifier toward.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "data/image_dataset.h"
#include "data/neural_dataset.h"
#include "rsa/compare.h"
#include "rsa/features.h"
#include "rsa/similarity.h"
#include "runtime/job.h"
#include "training/neural_trainer.h"

namespace bp {

// Per neuron, the paper's weights. Undefined or non-finite values (a neuron without repeats, a
// constant prediction, a noiseless repeat set) give weight 0: such a neuron drops out instead of
// dominating.
struct NeuronWeighting {
  std::vector<double> reliability;  // w_a = sigma_a / eta_a from the tier's repeats
  std::vector<double> quality;      // v_a = Pearson r of prediction and single trials on the tier, floored at 0
  std::vector<float> combined;      // w_a * v_a, the unit weights handed to the similarity engine
  Tier tier = Tier::Test;
  std::int64_t usedNeurons = 0;  // neurons with a positive weight
};

// `evaluation` is the model's evaluation on the same `tier` (evaluateNeuralModel).
NeuronWeighting neuronWeighting(const NeuralDataset& dataset, const NeuralModelEvaluation& evaluation,
                                Tier tier = Tier::Test);
nlohmann::json toJson(const NeuronWeighting& weighting);

// The options that load any image dataset as this model's input: its channel count (colour to
// luminance when the model is grayscale), its height and width (a plain resize, no cropping: a
// 32x32 CIFAR image becomes 36x64, as the paper fed other images to a mouse model), and the pixel
// range the model was fitted on.
ImageLoadOptions modelInputOptions(const FittedNeuralModel& fitted);

// Model predictions (original response units) as similarity features, one row per image.
// From a neural dataset's per-trial predictions (trials x neurons, as predictResponses gives them):
// each distinct image of `tier` (all tiers when nullopt) once, in order of its first trial, as
// featuresFromDataset orders rows.
FeatureMatrix predictedFeatures(const NeuralDataset& dataset, const std::vector<float>& trialPredictions,
                                std::optional<Tier> tier);
// From any image dataset loaded with modelInputOptions (bp::Error when the geometry differs); the
// row labels are the class names and the image ids the dataset indices.
FeatureMatrix predictedFeatures(const FittedNeuralModel& fitted, const ImageDataset& images, const Job& job = {});

// The paper's validation: on the tier's repeated images, how close the similarity of the model's
// predictions is to the similarity of the repeat-averaged responses, against single trials'.
struct DenoisingCheck {
  double predictedAgreement = 0.0;                // compare(S_predicted, S_repeat-average)
  double singleTrialAgreement = 0.0;              // mean over repeats k of compare(S_trial k, S_repeat-average)
  double singleTrialAgreementOtherRepeats = 0.0;  // the same against the other repeats' average (no shared noise)
  std::int64_t images = 0;
  int repeats = 0;
  ComparisonMethod method = ComparisonMethod::Pearson;
};

// `trialPredictions` as for predictedFeatures. Every matrix uses `similarity` (pass the neuron
// weighting's combined weights as its unit weights to check the target as it will be built).
// Throws bp::Error with fewer than 3 repeated images.
DenoisingCheck checkDenoising(const NeuralDataset& dataset, const std::vector<float>& trialPredictions,
                              const SimilarityConfig& similarity, Tier tier = Tier::Test,
                              ComparisonMethod method = ComparisonMethod::Pearson, const Job& job = {});
// Keys: {"predicted_vs_repeat_average", "single_trial_vs_repeat_average", "single_trial_vs_other_repeats",
// "images", "repeats", "method", "denoises"}, and "warning" when it does not denoise.
nlohmann::json toJson(const DenoisingCheck& check);
// The target denoises when the predicted similarity agrees better with the repeat average than a
// single trial does with the other repeats' average (the comparison without shared noise).
bool denoises(const DenoisingCheck& check);
// Why a target that does not denoise must not be presented as a neural prior; nothing when it does.
std::optional<std::string> denoisingCheckWarning(const DenoisingCheck& check);

struct NeuralTargetConfig {
  SimilarityMeasure measure = SimilarityMeasure::CentredCosine;
  bool weighted = true;      // unit weights w·v; false: every neuron counts equally
  std::optional<Tier> tier;  // rows when the target is over the dataset's own images (nullopt: all tiers)
  bool check = false;        // also run the denoising check on the test repeats
};

// Everything the target needs but the similarity computation, which the caller runs in memory or
// streams to disk: the rows, the similarity config with the weights, and the check.
struct NeuralTargetPlan {
  FeatureMatrix features;
  SimilarityConfig similarity;
  NeuronWeighting weighting;  // from the dataset's test tier
  std::optional<DenoisingCheck> check;
  nlohmann::json provenance;  // what the target is made of, for the matrix file's metadata
};

// The model predicts the dataset once; the weights come from its test repeats. The rows are the
// dataset's images of config.tier, or `images` (loaded with modelInputOptions) when given.
NeuralTargetPlan planNeuralTarget(const FittedNeuralModel& fitted, const NeuralDataset& dataset,
                                  const ImageDataset* images, const NeuralTargetConfig& config, const Job& job = {});

// The target of a model of several recordings, as Li et al. built theirs from several scans: one
// matrix per recording over the same images, each with that recording's w·v weights, then their
// element-wise mean. `fitted[r]` models `datasets[r]` (brought to one image size), and each
// recording's weights and denoising check come from its own data. The rows are `images` when
// given, else the first recording's images of config.tier, which every recording's model predicts
// (with the mean eye and behaviour). In memory (up to kInMemorySimilarityLimit images); bp::Error
// otherwise, or for recordings fitted on different pixel ranges without `images`.
struct NeuralCorpusTarget {
  SimilarityMatrix matrix;              // the mean; its provenance lists every recording's plan
  std::vector<NeuralTargetPlan> plans;  // one per recording: its weighting and denoising check
};
NeuralCorpusTarget buildNeuralCorpusTarget(const std::vector<FittedNeuralModel>& fitted,
                                           const std::vector<const NeuralDataset*>& datasets,
                                           const ImageDataset* images, const NeuralTargetConfig& config,
                                           const Job& job = {});

}  // namespace bp
