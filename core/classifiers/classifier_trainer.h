#pragma once
// Brain-regularized classifier training (docs/science.md §1 steps 5-6, §2): a ResNet learns to classify
// images while a regularizer pulls it towards a brain prior, loss = CE + alpha * L_sim (the neural
// similarity of Li et al. 2019, or one of its controls), CE with label smoothing + weight * L_harm
// (the harmonization of Fel et al. 2022), or plain CE on noisy images (the noise-augmentation
// baseline). After every epoch: validation and clean test accuracy, the learned layer weights, an
// atomic checkpoint from which a resumed run repeats exactly what an uninterrupted one would do.
//
// The loop, per optimizer step: one classification batch (shuffled train images, random crop and
// horizontal flip when enabled) and, for the neural-similarity regularizer, one batch of P pairs
// drawn uniformly from the target's images (two different images per pair, each pair's target
// looked up in S). The pair images go through the model at their own size (the trunk is fully
// convolutional), in training mode like the classification batch, so batch norm sees both. The two
// losses are summed and backpropagated together: loss = CE + alpha * L_sim.
//
// The loop itself lives here; its settings in classifier_training_config.h, its data and
// augmentation in classifier_training_data.h, each regularizer's loss behind the interface of
// training_regularizer.h, the checkpoint codec in training/training_checkpoint.h and the trained
// model's file in trained_classifier.h. Per step the loop has one place that moves the batch to the
// device (nextBatch) and one that turns the loss into an update (optimizerStep).
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "classifiers/classifier_training_config.h"
#include "classifiers/classifier_training_data.h"
#include "classifiers/run_registry.h"
#include "classifiers/trained_classifier.h"
#include "runtime/job.h"

namespace bp {

class DataParallelGroup;

using ClassifierEpochCallback = std::function<void(const ClassifierEpochReport&)>;

struct ClassifierTrainingResult {
  TrainedClassifier trained;  // on the CPU, in evaluation mode; final or best-validation weights
  std::vector<ClassifierEpochReport> history;
  int keptEpoch = 0;  // the epoch whose weights `trained` holds
  int bestEpoch = 0;  // best validation accuracy (0 without validation images)
  double bestValidationAccuracy = 0.0;
  double testAccuracy = 0.0;        // of the kept weights
  double validationAccuracy = 0.0;  // of the kept weights (NaN without validation images)
  double seconds = 0.0;             // training time, including epochs before a resume
  int resumedAfterEpoch = 0;        // the checkpoint's epoch when resumed, else 0
  std::string device;               // "cpu" or "cuda"
  std::vector<std::string> tapNames;
  std::int64_t trainImages = 0;
  std::int64_t validationImages = 0;
  std::int64_t testImages = 0;
  std::int64_t targetImages = 0;  // images with a target similarity (neural similarity only)
  std::string targetDescription;
};

nlohmann::json toJson(const ClassifierTrainingResult& result);  // curve and outcome, not the weights

struct ClassifierFitControl {
  // Written atomically after every epoch (model, regularizer, optimizer, best weights, curve);
  // empty: none. A failed or cancelled run leaves the last complete epoch there.
  std::filesystem::path checkpoint;
  // Continue from `checkpoint` when it exists. Everything but `epochs`, `seeds` and `name` must
  // match the run that wrote it (bp::Error otherwise); the curve continues exactly.
  bool resume = false;
  // Data-parallel training: each step's batch (and pair batch) is shared out among the group's
  // ranks, batch norm and gradients are summed over them, and the weights are those one process
  // with the whole batch would reach (docs/distributed.md). Rank 0 alone writes the checkpoint; every
  // rank reads it to resume, so the run folder must be on a file system they all see. Null: alone.
  DataParallelGroup* group = nullptr;
};

// Trains config.seed's run on `data`. Runs on runtimeInfo().device ("cuda": fp32, no mixed
// precision) on the calling thread (call initializeWorkerThread() first when that is not the main
// thread). Throws CancelledError when the job is cancelled (checked every batch), bp::Error when the
// loss is not finite (naming the epoch and batch; the checkpoint keeps the last good epoch).
ClassifierTrainingResult trainClassifier(const ClassifierTrainingConfig& config, const ClassifierTrainingData& data,
                                         const Job& job = {}, const ClassifierEpochCallback& onEpoch = {},
                                         const ClassifierFitControl& control = {});
// loadClassifierTrainingData, then the above.
ClassifierTrainingResult trainClassifier(const ClassifierTrainingConfig& config, const Job& job = {},
                                         const ClassifierEpochCallback& onEpoch = {},
                                         const ClassifierFitControl& control = {});

// What a checkpoint says about its run (without loading weights).
struct ClassifierCheckpointInfo {
  int epoch = 0;
  double seconds = 0.0;
  std::vector<ClassifierEpochReport> history;
  nlohmann::json identity;  // the config it belongs to
};
ClassifierCheckpointInfo readClassifierCheckpointInfo(const std::filesystem::path& checkpoint);

// Throws FileError (naming the differing settings) unless `checkpoint` was written by a run of this
// config, so that a refused resume can be told before anything is written. The data sizes are
// checked later, by trainClassifier.
void checkResumable(const std::filesystem::path& checkpoint, const ClassifierTrainingConfig& config);

}  // namespace bp
