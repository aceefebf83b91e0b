#pragma once
// What the classifier training loop asks of a regularizer: one interface, one implementation per
// RegularizerKind, so the loop never branches on the kind (docs/science.md §1 step 5, §2).
//   none                         loss = CE
//   gaussian_noise_augmentation  loss = CE on images with additive N(0, sigma^2) noise, clamped to [0, 1]
//   neural_similarity            loss = CE + alpha * L_sim over a batch of P pairs of target images
//   harmonization                loss = CE with label smoothing + weight * L_harm(saliency, human maps)
// The loop draws a batch of train images, asks for the regularizer's per-pixel maps of those
// images, augments images and maps alike, lets the regularizer perturb the images, moves the batch
// to the device, then asks for the step's loss.
#include <cstdint>
#include <memory>
#include <vector>

#include <torch/nn/module.h>
#include <torch/types.h>

#include "classifiers/classifier_training_config.h"
#include "classifiers/classifier_training_data.h"
#include "classifiers/resnet.h"

namespace bp {

// One optimizer step's batch of train images, on the model's device: the whole step's batch, or in
// data-parallel training this rank's share of it.
struct TrainingBatch {
  torch::Tensor rows;    // the images' rows in the train set (CPU, int64)
  torch::Tensor images;  // augmented (and perturbed by the regularizer), N x C x H x W
  torch::Tensor labels;  // N, int64
  torch::Tensor maps;    // the regularizer's per-pixel maps, augmented like the images; undefined for none
  double share = 1.0;    // this rank's part of the step's images: its N over the step's
};

// One step's loss and its parts. `regularization` is undefined for a regularizer without a term.
// In data-parallel training each term is this rank's part of the step's term (a mean over its
// share times the share), so that the terms summed over the ranks, and their gradients, are those
// of one process with the whole batch.
struct StepLoss {
  torch::Tensor logits;
  torch::Tensor classification;
  torch::Tensor regularization;
  torch::Tensor total;
};

class TrainingRegularizer {
 public:
  virtual ~TrainingRegularizer() = default;

  // Learnable parameters of the term (the layer weights of the neural similarity), optimized
  // without weight decay and saved in checkpoints; null for none.
  virtual torch::nn::Module* module() { return nullptr; }
  // Called before each epoch: the regularizer's random draws of that epoch are seeded here, so a
  // resumed run repeats an uninterrupted one.
  virtual void beginEpoch(std::uint64_t /*seed*/, int /*epoch*/) {}
  // Per-pixel maps of the train images `rows` (N x H x W, CPU) that must see the same crop and flip
  // as the images; undefined when the term needs none.
  virtual torch::Tensor pixelMaps(const torch::Tensor& /*rows*/) const { return {}; }
  // Changes the augmented images (CPU) before the model sees them; draws from torch's generator.
  virtual void perturbImages(torch::Tensor& /*images*/) const {}
  // The step's loss of `model` on `batch`, with the graph for backward.
  virtual StepLoss loss(Classifier& model, const TrainingBatch& batch) = 0;
  // The term's learned layer weights, for the curves (empty for none).
  virtual std::vector<double> gammaValues() const { return {}; }
};

// The regularizer that `config.regularizer` names, for `model` (already on `device`). `data` must
// hold what the kind needs (a target for neural_similarity, importance maps for harmonization) and
// must outlive the regularizer.
std::unique_ptr<TrainingRegularizer> makeTrainingRegularizer(const ClassifierTrainingConfig& config,
                                                             const ClassifierTrainingData& data, Classifier& model,
                                                             const torch::Device& device);

}  // namespace bp
