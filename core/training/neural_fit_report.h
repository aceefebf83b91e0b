#pragma once
// What a neural-model fit reports, as plain values: the training curve and the per-neuron
// evaluation (measures/prediction_quality.h). Free of LibTorch, so the GUI can hold and draw them without the engine's model headers.
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "data/neural_dataset.h"
#include "measures/prediction_quality.h"

namespace bp {

// One line of the training curve, sent after every epoch (plain values, safe to hand to a GUI).
struct NeuralEpochReport {
  int epoch = 0;                       // 1-based
  double trainLoss = 0.0;              // mean Poisson loss + regularization over the epoch's batches
  double validationCorrelation = 0.0;  // mean over neurons of Pearson r on validation trials (over recordings: their mean)
  std::vector<double> recordingCorrelations;  // with several recordings, each one's; else empty
  double learningRate = 0.0;
  bool improved = false;  // a new best; these weights are kept
  double seconds = 0.0;   // since training began
};
nlohmann::json toJson(const NeuralEpochReport& report);
NeuralEpochReport neuralEpochReportFromJson(const nlohmann::json& json);

}  // namespace bp
