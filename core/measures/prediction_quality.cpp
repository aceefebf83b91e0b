#include "measures/prediction_quality.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "measures/correlation.h"
#include "measures/reliability.h"
#include "runtime/config_reader.h"
#include "runtime/error.h"

namespace bp {

namespace {

// The means over the neurons where each measure is defined, and the fraction-of-oracle slope.
void summarize(NeuralModelEvaluation& evaluation) {
  evaluation.meanAverageCorrelation = meanOfDefined(evaluation.averageCorrelation);
  evaluation.meanSingleTrialCorrelation = meanOfDefined(evaluation.singleTrialCorrelation);
  evaluation.meanOracleCorrelation = meanOfDefined(evaluation.oracleCorrelation);
  evaluation.meanFeve = meanOfDefined(evaluation.feve);
  double crossProducts = 0.0;
  double oracleSquares = 0.0;
  for (std::size_t n = 0; n < evaluation.singleTrialCorrelation.size(); ++n) {
    const double r = evaluation.singleTrialCorrelation[n];
    const double oracle = evaluation.oracleCorrelation[n];
    if (std::isfinite(r) && std::isfinite(oracle)) {
      crossProducts += r * oracle;
      oracleSquares += oracle * oracle;
    }
  }
  evaluation.fractionOfOracleSlope =
      oracleSquares > 0.0 ? crossProducts / oracleSquares : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace

NeuralModelEvaluation evaluatePredictions(const NeuralDataset& dataset, const std::vector<float>& predictions,
                                          Tier tier) {
  const auto neurons = dataset.neuronCount;
  if (static_cast<std::int64_t>(predictions.size()) != dataset.trialCount() * neurons)
    throw Error("predictions hold " + std::to_string(predictions.size()) + " values; dataset '" + dataset.name +
                "' needs trials x neurons = " + std::to_string(dataset.trialCount() * neurons));
  const std::vector<std::int64_t> trials = dataset.trialsOf(tier);
  std::map<std::int64_t, std::vector<std::int64_t>> trialsOfImage;
  for (const std::int64_t t : trials) trialsOfImage[dataset.imageIds[static_cast<std::size_t>(t)]].push_back(t);
  const auto images = static_cast<std::int64_t>(trialsOfImage.size());

  // Per image: mean response and mean prediction (the model sees the same image, so these agree
  // with each trial's prediction up to rounding).
  std::vector<double> averageResponse(static_cast<std::size_t>(images * neurons), 0.0);
  std::vector<double> averagePrediction(static_cast<std::size_t>(images * neurons), 0.0);
  std::int64_t image = 0;
  for (const auto& [id, imageTrials] : trialsOfImage) {
    for (const std::int64_t t : imageTrials)
      for (std::int64_t n = 0; n < neurons; ++n) {
        averageResponse[static_cast<std::size_t>(image * neurons + n)] += dataset.response(t)[n];
        averagePrediction[static_cast<std::size_t>(image * neurons + n)] +=
            predictions[static_cast<std::size_t>(t * neurons + n)];
      }
    for (std::int64_t n = 0; n < neurons; ++n) {
      averageResponse[static_cast<std::size_t>(image * neurons + n)] /= static_cast<double>(imageTrials.size());
      averagePrediction[static_cast<std::size_t>(image * neurons + n)] /= static_cast<double>(imageTrials.size());
    }
    ++image;
  }

  NeuralModelEvaluation evaluation;
  ReliabilityConfig reliabilityConfig;
  reliabilityConfig.tier = tier;
  evaluation.oracleCorrelation = computeReliability(dataset, reliabilityConfig).oracleCorrelation;
  const auto trialCount = static_cast<std::int64_t>(trials.size());
  std::vector<float> tierResponses(static_cast<std::size_t>(trialCount * neurons));
  std::vector<float> tierPredictions(tierResponses.size());
  for (std::int64_t i = 0; i < trialCount; ++i) {
    const auto t = trials[static_cast<std::size_t>(i)];
    std::copy_n(dataset.response(t), neurons, tierResponses.data() + i * neurons);
    std::copy_n(predictions.data() + t * neurons, neurons, tierPredictions.data() + i * neurons);
  }

  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (std::int64_t n = 0; n < neurons; ++n) {
    evaluation.averageCorrelation.push_back(
        pearson(averagePrediction.data() + n, averageResponse.data() + n, images, neurons, neurons));
    evaluation.singleTrialCorrelation.push_back(
        pearson(tierPredictions.data() + n, tierResponses.data() + n, trialCount, neurons, neurons));
    evaluation.fractionOfOracle.push_back(evaluation.singleTrialCorrelation.back() /
                                          evaluation.oracleCorrelation[static_cast<std::size_t>(n)]);

    // FEVe on the repeated trials: noise variance = mean within-image variance (unbiased),
    // total variance = variance of all repeated trials (unbiased).
    double noiseSum = 0.0;
    std::int64_t repeatedImages = 0;
    double sum = 0.0;
    double squares = 0.0;
    double squaredErrors = 0.0;
    std::int64_t repeatedTrials = 0;
    image = 0;
    for (const auto& [id, imageTrials] : trialsOfImage) {
      if (imageTrials.size() >= 2) {
        const double mean = averageResponse[static_cast<std::size_t>(image * neurons + n)];
        double within = 0.0;
        for (const std::int64_t t : imageTrials) {
          const double response = dataset.response(t)[n];
          const double error = predictions[static_cast<std::size_t>(t * neurons + n)] - response;
          within += (response - mean) * (response - mean);
          sum += response;
          squares += response * response;
          squaredErrors += error * error;
          ++repeatedTrials;
        }
        noiseSum += within / static_cast<double>(imageTrials.size() - 1);
        ++repeatedImages;
      }
      ++image;
    }
    double feve = nan;
    if (repeatedTrials >= 2) {
      const double count = static_cast<double>(repeatedTrials);
      const double totalVariance = (squares - sum * sum / count) / (count - 1.0);
      const double noiseVariance = noiseSum / static_cast<double>(repeatedImages);
      if (totalVariance - noiseVariance > 0.0)
        feve = 1.0 - (squaredErrors / count - noiseVariance) / (totalVariance - noiseVariance);
    }
    evaluation.feve.push_back(feve);
  }

  summarize(evaluation);
  return evaluation;
}

NeuralModelEvaluation poolEvaluations(const std::vector<NeuralModelEvaluation>& evaluations) {
  NeuralModelEvaluation pooled;
  for (const auto& evaluation : evaluations) {
    const auto append = [](std::vector<double>& to, const std::vector<double>& from) {
      to.insert(to.end(), from.begin(), from.end());
    };
    append(pooled.averageCorrelation, evaluation.averageCorrelation);
    append(pooled.singleTrialCorrelation, evaluation.singleTrialCorrelation);
    append(pooled.oracleCorrelation, evaluation.oracleCorrelation);
    append(pooled.fractionOfOracle, evaluation.fractionOfOracle);
    append(pooled.feve, evaluation.feve);
  }
  summarize(pooled);
  return pooled;
}

nlohmann::json toJson(const NeuralModelEvaluation& evaluation) {
  // Undefined per-neuron values become null.
  const auto value = [](double number) { return finiteOrNull(number); };
  const auto values = [](const std::vector<double>& numbers) { return finiteOrNull(numbers); };
  return {{"mean_average_correlation", value(evaluation.meanAverageCorrelation)},
          {"mean_single_trial_correlation", value(evaluation.meanSingleTrialCorrelation)},
          {"mean_oracle_correlation", value(evaluation.meanOracleCorrelation)},
          {"mean_feve", value(evaluation.meanFeve)},
          {"fraction_of_oracle_slope", value(evaluation.fractionOfOracleSlope)},
          {"average_correlation", values(evaluation.averageCorrelation)},
          {"single_trial_correlation", values(evaluation.singleTrialCorrelation)},
          {"oracle_correlation", values(evaluation.oracleCorrelation)},
          {"fraction_of_oracle", values(evaluation.fractionOfOracle)},
          {"feve", values(evaluation.feve)}};
}

}  // namespace bp
