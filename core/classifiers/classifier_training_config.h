#pragma once
// The settings of a brain-regularized classifier run (docs/science.md §1 steps 5-6, §2): data,
// model, optimizer, learning-rate schedule and regularizer, with their JSON form and validation.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "classifiers/regularization_target.h"
#include "classifiers/resnet.h"
#include "classifiers/similarity_regularizer.h"

namespace bp {

struct AugmentationConfig {
  bool enabled = true;
  bool randomCrop = true;  // pad by cropPadding zeros on every side, cut a random image-sized window
  int cropPadding = 4;
  bool horizontalFlip = true;  // mirror left-right with probability 1/2
};

// How the images' (image - mean) / std inside the model is set.
enum class NormalizationSource {
  Model,        // the model config's image_mean and image_std (default: grayscale CIFAR-10)
  TrainImages,  // per channel mean and std of the (subset of) train images, written into the model config
};

struct ClassifierDataConfig {
  // A CIFAR binary folder, an IDX folder (MNIST / Fashion-MNIST) or an image folder (one subfolder
  // per class, or train/ and test/ each holding class subfolders), read with loadImageDataset.
  std::string path;
  // The test images, when they are elsewhere (an image folder per split: path ".../train",
  // test_path ".../test"); empty: `path` with testSplit.
  std::string testPath;
  std::string trainSplit = "train";
  std::string testSplit = "test";
  bool grayscale = true;  // the paper trains on grayscale images
  // 0: every image. Otherwise a subset: "random" draws it with splitSeed (every class present in an
  // image folder, whose file order is class by class); "first" takes the first images in file order
  // (faster for large IDX and CIFAR files, which only read what they keep).
  std::int64_t maxTrainImages = 0;
  std::int64_t maxTestImages = 0;
  std::string subset = "random";
  // Part of the (subset of) train images held out for validation, drawn with splitSeed; 0.01 as the
  // public re-implementation. With a positive fraction at least one image is held out.
  double validationFraction = 0.01;
  // Seed of the subsets and the validation split: the same images for every run seed, so seeds
  // differ only in initialisation and batch order.
  std::uint64_t splitSeed = 0;
  NormalizationSource normalization = NormalizationSource::Model;
  AugmentationConfig augmentation;
};

enum class OptimizerKind { Sgd, Adam, AdamW };

struct ClassifierOptimizerConfig {
  OptimizerKind kind = OptimizerKind::Sgd;
  double learningRate = 0.1;
  double momentum = 0.9;  // SGD only
  bool nesterov = false;  // SGD only; needs a positive momentum
  // L2 penalty on the model's parameters (decoupled for adamw); never on the regularizer's layer weights.
  double weightDecay = 5e-4;
};

enum class ScheduleKind { Constant, Step, Cosine, Cyclic };

// The learning rate of epoch e (1-based) of E, lr0 the optimizer's learning rate:
//   constant: lr0
//   step:     lr0 * factor^floor((e - 1) / step_epochs)
//   cosine:   min + (lr0 - min) * (1 + cos(pi * (e - 1) / E)) / 2        (min = minimum_learning_rate)
//   cyclic:   lr0 * factor^floor(((e - 1) mod cycle_epochs) / step_epochs)
// The cyclic default (factor 0.3, step 4, cycle 20) is our reading of the re-implementation's
// "lr x0.3 every 4 epochs in cycles": 0.1, 0.03, 0.009, 0.0027, 0.00081 for 4 epochs each, then
// back to 0.1 at epoch 21. The rate changes between epochs, never inside one.
struct LearningRateSchedule {
  ScheduleKind kind = ScheduleKind::Cyclic;
  int stepEpochs = 4;
  double factor = 0.3;
  int cycleEpochs = 20;
  double minimumLearningRate = 0.0;
};

double learningRateAt(double baseLearningRate, const LearningRateSchedule& schedule, int epoch, int epochs);

enum class RegularizerKind { None, NeuralSimilarity, Harmonization, GaussianNoiseAugmentation };

const char* regularizerKindName(RegularizerKind kind);  // "none", "neural_similarity", "harmonization", ...
std::optional<RegularizerKind> parseRegularizerKind(const std::string& name);

struct HarmonizationConfig {
  // Human (or any) importance maps of the train images: an HDF5 file or a folder of PNGs; see
  // loadImportanceMaps. Train images without a map contribute no harmonization loss.
  std::string importanceMaps;
  std::string hdf5Dataset = "importance_maps";
  double weight = 1.0;          // L = CE + weight * L_harm
  double labelSmoothing = 0.1;  // of the cross-entropy
  int pyramidLevels = 5;
};

struct RegularizerConfig {
  RegularizerKind kind = RegularizerKind::None;
  // neural_similarity: L = CE + alpha * L_sim, with the paper's atanh (a re-implementation's
  // log((1+x)/(1-x)) makes L_sim 4x larger, so its alpha is 4x ours). 20 in the paper, 10 for a
  // thresholded target (Attias et al. 2024).
  double alpha = 20.0;
  int pairBatchSize = 16;  // pairs per regularization batch
  RegularizationTargetConfig target;
  SimilarityRegularizerConfig similarity;
  HarmonizationConfig harmonization;
  // gaussian_noise_augmentation: every training image gets additive N(0, sigma^2) noise per pixel,
  // clamped to [0, 1].
  double noiseSigma = 0.1;
};

enum class ModelSelection { Final, BestValidation };
enum class BatchNormAcrossWorkers { Synchronized, PerWorker };

struct ClassifierTrainingConfig {
  std::string name;  // run folders are "<name>-seed<seed>"; empty: "<architecture>-<regularizer>"
  ClassifierDataConfig data;
  ClassifierConfig model;
  ClassifierOptimizerConfig optimizer;
  LearningRateSchedule schedule;
  int epochs = 40;
  int batchSize = 64;
  std::uint64_t seed = 0;
  // Several runs from one config: one run (and run folder) per seed; empty: `seed` only.
  std::vector<std::uint64_t> seeds;
  RegularizerConfig regularizer;
  // A sweep over the neural-similarity regularizer's strength: one launch per alpha, named
  // "<name>-alpha<alpha>", each with every seed; empty: `regularizer.alpha` only.
  std::vector<double> alphas;
  // Which weights the trained model keeps: the last epoch's, or the epoch with the best
  // validation accuracy (needs a validation fraction above 0).
  ModelSelection keep = ModelSelection::Final;
  // Batch norm in data-parallel training (docs/distributed.md): statistics over the whole step's
  // batch, summed over the workers (the weights do not depend on the number of workers; one
  // exchange per batch-norm layer each way), or each worker's own share's, as PyTorch's
  // DistributedDataParallel does (one exchange per step; the running statistics are rank 0's).
  BatchNormAcrossWorkers batchNorm = BatchNormAcrossWorkers::Synchronized;
};

// Keys are snake_case: {"name", "data": {"path", "test_path", "train_split", "test_split", "grayscale",
// "max_train_images", "max_test_images", "subset", "validation_fraction", "split_seed",
// "normalization": "model" | "train_images", "augmentation": {"enabled", "random_crop",
// "crop_padding", "horizontal_flip"}}, "model": ClassifierConfig, "optimizer": {"kind": "sgd" |
// "adam" | "adamw", "learning_rate", "momentum", "nesterov", "weight_decay"}, "schedule": {"kind":
// "constant" | "step" | "cosine" | "cyclic", "step_epochs", "factor", "cycle_epochs",
// "minimum_learning_rate"}, "epochs", "batch_size", "seed", "seeds", "alphas", "regularizer": {"kind",
// "alpha", "pair_batch_size", "target": RegularizationTargetConfig, "similarity":
// SimilarityRegularizerConfig, "harmonization": {"importance_maps", "hdf5_dataset", "weight",
// "label_smoothing", "pyramid_levels"}, "noise_sigma"}, "keep": "final" | "best_validation", "batch_norm": "synchronized" | "per_worker"}.
nlohmann::json toJson(const ClassifierTrainingConfig& config);
// Missing keys keep their defaults; an unknown key or a wrong type is a bp::Error naming it.
ClassifierTrainingConfig classifierTrainingConfigFromJson(const nlohmann::json& json);
// Throws bp::Error naming the first invalid setting (sizes, rates, a regularizer without the
// files it needs, nesterov without momentum, ...). Files are checked when they are read.
void validate(const ClassifierTrainingConfig& config);

}  // namespace bp
