#pragma once
// How well predictions of neural responses match the recorded ones, per neuron: correlation with
// the trial averages and with single trials, the fraction of the oracle correlation, and the
// fraction of explainable variance explained (FEVe) on repeated trials (docs/science.md §3). Kept
// apart from training, as neuralpredictors keeps its measures: any predictions can be scored, a
// fitted model's or another tool's.
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "data/neural_dataset.h"

namespace bp {

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

// Several recordings' evaluations as one population: their neurons side by side, the means and the
// slope over all of them.
NeuralModelEvaluation poolEvaluations(const std::vector<NeuralModelEvaluation>& evaluations);

nlohmann::json toJson(const NeuralModelEvaluation& evaluation);

}  // namespace bp
