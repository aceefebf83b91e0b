#pragma once
// What a neural-model fit reports, as plain values: the training curve and the per-neuron
// evaluation. Free of LibTorch, so the GUI can hold and draw them without the engine's model headers.
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "data/neural_dataset.h"

namespace bp {

// One line of the training curve, sent after every epoch (plain values, safe to hand to a GUI).
struct NeuralEpochReport {
  int epoch = 0;                       // 1-based
  double trainLoss = 0.0;              // mean Poisson loss + regularization over the epoch's batches
  double validationCorrelation = 0.0;  // mean over neurons of Pearson r on validation trials
  double learningRate = 0.0;
  bool improved = false;  // a new best; these weights are kept
  double seconds = 0.0;   // since training began
};
nlohmann::json toJson(const NeuralEpochReport& report);
NeuralEpochReport neuralEpochReportFromJson(const nlohmann::json& json);

// Per-neuron quality on one tier (NaN where undefined, e.g. a constant neuron).
struct NeuralModelEvaluation {
  std::vector<double> averageCorrelation;      // r between prediction and the trial-averaged response, over images
  std::vector<double> singleTrialCorrelation;  // r between prediction and response, over trials
  std::vector<double> oracleCorrelation;       // jackknife oracle of the tier's repeats (computeReliability)
  std::vector<double> fractionOfOracle;        // singleTrialCorrelation / oracleCorrelation
  std::vector<double> feve;                    // 1 - (MSE - noise var) / (total var - noise var), on repeated trials
  // Means over the neurons where the value is defined.
  double meanAverageCorrelation = 0.0;
  double meanSingleTrialCorrelation = 0.0;
  double meanOracleCorrelation = 0.0;
  double meanFeve = 0.0;
  // neuralpredictors' summary: the least-squares slope through the origin of single-trial
  // correlation against oracle correlation over neurons.
  double fractionOfOracleSlope = 0.0;
};

// The measures for any predictions (trials x neurons, original units) of `dataset`.
NeuralModelEvaluation evaluatePredictions(const NeuralDataset& dataset, const std::vector<float>& predictions,
                                          Tier tier = Tier::Test);

nlohmann::json toJson(const NeuralModelEvaluation& evaluation);

}  // namespace bp
