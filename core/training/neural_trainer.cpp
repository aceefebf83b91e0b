#include "training/neural_trainer.h"

#include <torch/optim/adam.h>
#include <torch/serialize.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>
#include <torch/utils.h>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>

#include "measures/correlation.h"
#include "measures/reliability.h"
#include "runtime/atomic_file.h"
#include "runtime/config_reader.h"
#include "runtime/error.h"
#include "runtime/random.h"

namespace bp {

namespace {

constexpr std::int64_t kPredictionBatch = 256;
constexpr const char* kConfigKey = "brainprior_neural_model";

double meanOfDefined(const std::vector<double>& values) {
  double sum = 0.0;
  std::int64_t count = 0;
  for (const double value : values)
    if (std::isfinite(value)) {
      sum += value;
      ++count;
    }
  return count > 0 ? sum / static_cast<double>(count) : std::numeric_limits<double>::quiet_NaN();
}

std::vector<std::int64_t> trialsOfTier(const NeuralDataset& dataset, Tier tier) {
  std::vector<std::int64_t> trials;
  for (std::int64_t t = 0; t < dataset.trialCount(); ++t)
    if (dataset.tiers[static_cast<std::size_t>(t)] == tier) trials.push_back(t);
  return trials;
}

// Rows `trials` of a row-major matrix with `rowSize` floats per row, as a tensor rows x shape...
torch::Tensor gatherRows(const std::vector<float>& matrix, std::int64_t rowSize,
                         const std::vector<std::int64_t>& trials, std::vector<std::int64_t> shape) {
  shape.insert(shape.begin(), static_cast<std::int64_t>(trials.size()));
  torch::Tensor rows = torch::empty(shape);
  float* out = rows.data_ptr<float>();
  for (std::size_t i = 0; i < trials.size(); ++i)
    std::copy_n(matrix.data() + trials[i] * rowSize, rowSize, out + static_cast<std::int64_t>(i) * rowSize);
  return rows;
}

// (images - mean) / std per channel, in place.
void normalizeImages(torch::Tensor& images, const NeuralNormalization& normalization) {
  const auto channels = static_cast<std::int64_t>(normalization.imageMean.size());
  const torch::Tensor mean = torch::tensor(normalization.imageMean).view({1, channels, 1, 1});
  const torch::Tensor deviation = torch::tensor(normalization.imageStd).view({1, channels, 1, 1});
  images.sub_(mean).div_(deviation);
}

// Model rates for normalised images, batch by batch, in evaluation mode and without gradients.
torch::Tensor predictNormalized(NeuralModel& model, const torch::Tensor& images, const Job& job) {
  torch::NoGradGuard noGrad;
  const bool wasTraining = model->is_training();
  model->eval();
  std::vector<torch::Tensor> batches;
  const auto count = images.size(0);
  for (std::int64_t begin = 0; begin < count; begin += kPredictionBatch) {
    job.throwIfCancelled();
    batches.push_back(model->forward(images.slice(0, begin, std::min(count, begin + kPredictionBatch))));
  }
  model->train(wasTraining);
  return batches.empty() ? torch::empty({0, model->config().neuronCount}) : torch::cat(batches, 0);
}

double meanCorrelation(const torch::Tensor& predictions, const torch::Tensor& targets) {
  const torch::Tensor p = predictions.contiguous();
  const torch::Tensor y = targets.contiguous();
  const auto neurons = p.size(1);
  std::vector<double> correlations(static_cast<std::size_t>(neurons));
  for (std::int64_t n = 0; n < neurons; ++n)
    correlations[static_cast<std::size_t>(n)] =
        pearson(p.data_ptr<float>() + n, y.data_ptr<float>() + n, p.size(0), neurons, neurons);
  return meanOfDefined(correlations);
}

std::vector<float> floatVector(const nlohmann::json& json, const char* key) {
  if (!json.contains(key) || !json.at(key).is_array())
    throw Error(std::string("neural model normalisation: '") + key + "' must be an array of numbers");
  return json.at(key).get<std::vector<float>>();
}

// Weights and buffers, copied so that the best epoch can be restored.
std::vector<torch::Tensor> snapshot(const NeuralModel& model) {
  std::vector<torch::Tensor> state;
  for (const auto& parameter : model->parameters()) state.push_back(parameter.detach().clone());
  for (const auto& buffer : model->buffers()) state.push_back(buffer.detach().clone());
  return state;
}

void restore(NeuralModel& model, const std::vector<torch::Tensor>& state) {
  torch::NoGradGuard noGrad;
  std::size_t index = 0;
  for (auto& parameter : model->parameters()) parameter.copy_(state[index++]);
  for (auto& buffer : model->buffers()) buffer.copy_(state[index++]);
}

}  // namespace

nlohmann::json toJson(const NeuralTrainerConfig& config) {
  return {{"batch_size", config.batchSize},
          {"max_epochs", config.maxEpochs},
          {"learning_rate", config.learningRate},
          {"patience", config.patience},
          {"tolerance", config.tolerance},
          {"learning_rate_decays", config.learningRateDecays},
          {"learning_rate_factor", config.learningRateFactor},
          {"max_seconds", config.maxSeconds},
          {"seed", config.seed}};
}

NeuralTrainerConfig neuralTrainerConfigFromJson(const nlohmann::json& json) {
  NeuralTrainerConfig config;
  ConfigReader reader(json, "neural trainer config");
  reader.read("batch_size", config.batchSize);
  reader.read("max_epochs", config.maxEpochs);
  reader.read("learning_rate", config.learningRate);
  reader.read("patience", config.patience);
  reader.read("tolerance", config.tolerance);
  reader.read("learning_rate_decays", config.learningRateDecays);
  reader.read("learning_rate_factor", config.learningRateFactor);
  reader.read("max_seconds", config.maxSeconds);
  reader.read("seed", config.seed);
  reader.finish();
  return config;
}

nlohmann::json toJson(const NeuralNormalization& normalization) {
  return {{"image_mean", normalization.imageMean},
          {"image_std", normalization.imageStd},
          {"response_scale", normalization.responseScale}};
}

NeuralNormalization neuralNormalizationFromJson(const nlohmann::json& json) {
  if (!json.is_object()) throw Error("neural model normalisation: expected a JSON object");
  return {floatVector(json, "image_mean"), floatVector(json, "image_std"), floatVector(json, "response_scale")};
}

NeuralNormalization computeNeuralNormalization(const NeuralDataset& dataset) {
  const std::vector<std::int64_t> train = trialsOfTier(dataset, Tier::Train);
  if (train.empty()) throw Error("dataset '" + dataset.name + "' has no train trials to normalise with");
  const auto channels = static_cast<std::size_t>(dataset.channels);
  const std::int64_t pixels = static_cast<std::int64_t>(dataset.height) * dataset.width;

  NeuralNormalization normalization;
  const auto stored = dataset.statistics.find("images");
  auto storedValues = [&](const char* name) -> std::vector<float> {
    if (stored == dataset.statistics.end()) return {};
    const auto found = stored->second.all.find(name);
    return found == stored->second.all.end() ? std::vector<float>{} : found->second;
  };
  std::vector<float> mean = storedValues("mean");
  std::vector<float> deviation = storedValues("std");
  // A scalar statistic applies to every channel.
  if (mean.size() == 1) mean.assign(channels, mean.front());
  if (deviation.size() == 1) deviation.assign(channels, deviation.front());
  if (mean.size() != channels || deviation.size() != channels) {
    mean.assign(channels, 0.0f);
    deviation.assign(channels, 0.0f);
    for (std::size_t c = 0; c < channels; ++c) {
      double sum = 0.0;
      double squares = 0.0;
      for (const std::int64_t t : train) {
        const float* plane = dataset.image(t) + static_cast<std::int64_t>(c) * pixels;
        for (std::int64_t i = 0; i < pixels; ++i) {
          sum += plane[i];
          squares += static_cast<double>(plane[i]) * plane[i];
        }
      }
      const double count = static_cast<double>(train.size()) * static_cast<double>(pixels);
      mean[c] = static_cast<float>(sum / count);
      deviation[c] = static_cast<float>(std::sqrt(std::max(0.0, squares / count - (sum / count) * (sum / count))));
    }
  }
  for (auto& value : deviation)
    if (!(value > 0.0f)) value = 1.0f;  // a blank stimulus channel: nothing to scale
  normalization.imageMean = mean;
  normalization.imageStd = deviation;

  const auto neurons = static_cast<std::size_t>(dataset.neuronCount);
  std::vector<double> deviations(neurons);
  for (std::size_t n = 0; n < neurons; ++n) {
    double sum = 0.0;
    double squares = 0.0;
    for (const std::int64_t t : train) {
      const double value = dataset.response(t)[n];
      sum += value;
      squares += value * value;
    }
    const double count = static_cast<double>(train.size());
    deviations[n] = std::sqrt(std::max(0.0, squares / count - (sum / count) * (sum / count)));
  }
  const double floor = 0.01 * std::accumulate(deviations.begin(), deviations.end(), 0.0) / static_cast<double>(neurons);
  normalization.responseScale.resize(neurons);
  for (std::size_t n = 0; n < neurons; ++n)
    normalization.responseScale[n] =
        static_cast<float>(deviations[n] > floor ? deviations[n] : (floor > 0.0 ? floor : 1.0));
  return normalization;
}

torch::Tensor poissonLoss(const torch::Tensor& prediction, const torch::Tensor& target) {
  return (prediction - target * (prediction + 1e-8).log()).sum(1).mean();
}

NeuralFitResult fitNeuralModel(const NeuralDataset& dataset, const NeuralModelConfig& modelConfig,
                               const NeuralTrainerConfig& trainerConfig, const Job& job,
                               const NeuralEpochCallback& onEpoch) {
  dataset.validate();
  if (trainerConfig.batchSize < 1 || trainerConfig.maxEpochs < 1 || trainerConfig.patience < 1 ||
      !(trainerConfig.learningRate > 0.0) || trainerConfig.learningRateDecays < 0 ||
      !(trainerConfig.learningRateFactor > 0.0 && trainerConfig.learningRateFactor < 1.0))
    throw Error(
        "neural trainer config: batch size, epochs, patience and learning rate must be positive and "
        "the learning-rate factor in (0, 1)");
  const std::vector<std::int64_t> train = trialsOfTier(dataset, Tier::Train);
  const std::vector<std::int64_t> validation = trialsOfTier(dataset, Tier::Validation);
  if (train.empty() || validation.empty())
    throw Error("dataset '" + dataset.name + "' needs train and validation trials to fit a model");

  // Grad mode is per thread; a caller's inference guard must not leak into training.
  torch::AutoGradMode gradMode(true);
  torch::manual_seed(trainerConfig.seed);
  RandomStream shuffler(trainerConfig.seed, 0);

  NeuralModelConfig config = modelConfig;
  config.inputChannels = dataset.channels;
  config.inputHeight = dataset.height;
  config.inputWidth = dataset.width;
  config.neuronCount = dataset.neuronCount;

  NeuralFitResult result;
  FittedNeuralModel& fitted = result.fitted;
  fitted.normalization = computeNeuralNormalization(dataset);
  fitted.model = NeuralModel(config);
  NeuralModel& model = fitted.model;

  const std::vector<std::int64_t> imageShape = {dataset.channels, dataset.height, dataset.width};
  torch::Tensor trainImages = gatherRows(dataset.images, dataset.imageSize(), train, imageShape);
  torch::Tensor validationImages = gatherRows(dataset.images, dataset.imageSize(), validation, imageShape);
  normalizeImages(trainImages, fitted.normalization);
  normalizeImages(validationImages, fitted.normalization);
  const torch::Tensor responseScale = torch::tensor(fitted.normalization.responseScale).unsqueeze(0);
  const torch::Tensor trainResponses =
      gatherRows(dataset.responses, dataset.neuronCount, train, {dataset.neuronCount}) / responseScale;
  const torch::Tensor validationResponses =
      gatherRows(dataset.responses, dataset.neuronCount, validation, {dataset.neuronCount});
  model->initializeReadoutBias(trainResponses.mean(0));

  torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(trainerConfig.learningRate));
  double learningRate = trainerConfig.learningRate;
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };

  std::vector<torch::Tensor> best = snapshot(model);
  result.bestValidationCorrelation = -std::numeric_limits<double>::infinity();
  int epochsWithoutImprovement = 0;
  int decays = 0;
  result.stopReason = "max epochs";
  std::vector<std::int64_t> order(train.size());
  const auto trainCount = static_cast<std::int64_t>(train.size());

  for (int epoch = 1; epoch <= trainerConfig.maxEpochs; ++epoch) {
    std::iota(order.begin(), order.end(), std::int64_t{0});
    shuffler.shuffle(order);
    const torch::Tensor permutation = torch::tensor(order);
    model->train();
    double lossSum = 0.0;
    std::int64_t batches = 0;
    for (std::int64_t begin = 0; begin < trainCount; begin += trainerConfig.batchSize) {
      job.throwIfCancelled();
      const torch::Tensor indices = permutation.slice(0, begin, std::min(trainCount, begin + trainerConfig.batchSize));
      // Batch norm cannot normalise a single image.
      if (indices.size(0) < 2) continue;
      optimizer.zero_grad();
      const torch::Tensor loss =
          poissonLoss(model->forward(trainImages.index_select(0, indices)), trainResponses.index_select(0, indices)) +
          model->regularization();
      loss.backward();
      optimizer.step();
      lossSum += loss.item<double>();
      ++batches;
    }

    const torch::Tensor validationPredictions = predictNormalized(model, validationImages, job);
    NeuralEpochReport report;
    report.epoch = epoch;
    report.trainLoss = batches > 0 ? lossSum / static_cast<double>(batches) : 0.0;
    report.validationCorrelation = meanCorrelation(validationPredictions, validationResponses);
    report.learningRate = learningRate;
    report.improved = report.validationCorrelation > result.bestValidationCorrelation + trainerConfig.tolerance;
    report.seconds = elapsed();
    if (report.improved) {
      result.bestValidationCorrelation = report.validationCorrelation;
      result.bestEpoch = epoch;
      best = snapshot(model);
      epochsWithoutImprovement = 0;
    } else {
      ++epochsWithoutImprovement;
    }
    result.history.push_back(report);
    if (onEpoch) onEpoch(report);
    job.progress(static_cast<double>(epoch) / trainerConfig.maxEpochs,
                 "epoch " + std::to_string(epoch) + ": loss " + std::to_string(report.trainLoss) +
                     ", validation correlation " + std::to_string(report.validationCorrelation));

    if (epochsWithoutImprovement >= trainerConfig.patience) {
      if (decays >= trainerConfig.learningRateDecays) {
        result.stopReason = "early stopping";
        break;
      }
      // A plateau: go back to the best weights and take smaller steps from there.
      restore(model, best);
      learningRate *= trainerConfig.learningRateFactor;
      for (auto& group : optimizer.param_groups())
        static_cast<torch::optim::AdamOptions&>(group.options()).lr(learningRate);
      ++decays;
      epochsWithoutImprovement = 0;
    }
    if (trainerConfig.maxSeconds > 0.0 && elapsed() >= trainerConfig.maxSeconds) {
      result.stopReason = "time limit";
      break;
    }
  }
  restore(model, best);
  model->eval();
  result.seconds = elapsed();
  job.progress(1.0, "fitted: best validation correlation " + std::to_string(result.bestValidationCorrelation) +
                        " at epoch " + std::to_string(result.bestEpoch));
  return result;
}

std::vector<float> predictResponses(const FittedNeuralModel& fitted, const float* images, std::int64_t count,
                                    const Job& job) {
  NeuralModel model = fitted.model;
  const NeuralModelConfig& config = model->config();
  std::vector<float> pixels(images, images + count * config.inputChannels * config.inputHeight * config.inputWidth);
  torch::Tensor input =
      torch::from_blob(pixels.data(), {count, config.inputChannels, config.inputHeight, config.inputWidth});
  normalizeImages(input, fitted.normalization);
  const torch::Tensor rates =
      (predictNormalized(model, input, job) * torch::tensor(fitted.normalization.responseScale).unsqueeze(0))
          .contiguous();
  return std::vector<float>(rates.data_ptr<float>(), rates.data_ptr<float>() + rates.numel());
}

std::vector<float> predictResponses(const FittedNeuralModel& fitted, const NeuralDataset& dataset, const Job& job) {
  const NeuralModelConfig& config = fitted.model->config();
  if (dataset.channels != config.inputChannels || dataset.height != config.inputHeight ||
      dataset.width != config.inputWidth || dataset.neuronCount != config.neuronCount)
    throw Error("dataset '" + dataset.name + "' has " + std::to_string(dataset.channels) + "x" +
                std::to_string(dataset.height) + "x" + std::to_string(dataset.width) + " images and " +
                std::to_string(dataset.neuronCount) + " neurons; the model expects " +
                std::to_string(config.inputChannels) + "x" + std::to_string(config.inputHeight) + "x" +
                std::to_string(config.inputWidth) + " and " + std::to_string(config.neuronCount));
  return predictResponses(fitted, dataset.images.data(), dataset.trialCount(), job);
}

void saveNeuralModel(const FittedNeuralModel& fitted, const std::filesystem::path& path) {
  const nlohmann::json description = {{"format", "brainprior neural model"},
                                      {"version", 1},
                                      {"model", toJson(fitted.model->config())},
                                      {"normalization", toJson(fitted.normalization)}};
  writeAtomically(path, [&](const std::filesystem::path& temporary) {
    torch::serialize::OutputArchive archive;
    fitted.model->save(archive);
    // The config travels inside the archive, so weights and the shapes they need cannot diverge.
    archive.write(kConfigKey, c10::IValue(description.dump()));
    archive.save_to(temporary.string());
  });
  writeFileAtomically(path.string() + ".json", description.dump(2) + "\n");
}

FittedNeuralModel loadNeuralModel(const std::filesystem::path& path) {
  torch::serialize::InputArchive archive;
  nlohmann::json description;
  try {
    archive.load_from(path.string(), torch::Device(torch::kCPU));
    c10::IValue stored;
    archive.read(kConfigKey, stored);
    description = nlohmann::json::parse(stored.toStringRef());
  } catch (const c10::Error& error) {
    throw FileError(path.string(), std::string("not a BrainPrior neural model: ") + error.what_without_backtrace());
  } catch (const nlohmann::json::exception& error) {
    throw FileError(path.string(), std::string("corrupt model description: ") + error.what());
  }
  FittedNeuralModel fitted;
  try {
    fitted.model = NeuralModel(neuralModelConfigFromJson(description.at("model")));
    fitted.normalization = neuralNormalizationFromJson(description.at("normalization"));
    fitted.model->load(archive);
  } catch (const c10::Error& error) {
    throw FileError(path.string(),
                    std::string("weights do not match the model config: ") + error.what_without_backtrace());
  } catch (const nlohmann::json::exception& error) {
    throw FileError(path.string(), std::string("corrupt model description: ") + error.what());
  } catch (const Error& error) {
    throw FileError(path.string(), error.what());
  }
  fitted.model->eval();
  return fitted;
}

NeuralModelEvaluation evaluatePredictions(const NeuralDataset& dataset, const std::vector<float>& predictions,
                                          Tier tier) {
  const auto neurons = dataset.neuronCount;
  if (static_cast<std::int64_t>(predictions.size()) != dataset.trialCount() * neurons)
    throw Error("predictions hold " + std::to_string(predictions.size()) + " values; dataset '" + dataset.name +
                "' needs trials x neurons = " + std::to_string(dataset.trialCount() * neurons));
  const std::vector<std::int64_t> trials = trialsOfTier(dataset, tier);
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

  evaluation.meanAverageCorrelation = meanOfDefined(evaluation.averageCorrelation);
  evaluation.meanSingleTrialCorrelation = meanOfDefined(evaluation.singleTrialCorrelation);
  evaluation.meanOracleCorrelation = meanOfDefined(evaluation.oracleCorrelation);
  evaluation.meanFeve = meanOfDefined(evaluation.feve);
  double crossProducts = 0.0;
  double oracleSquares = 0.0;
  for (std::int64_t n = 0; n < neurons; ++n) {
    const double r = evaluation.singleTrialCorrelation[static_cast<std::size_t>(n)];
    const double oracle = evaluation.oracleCorrelation[static_cast<std::size_t>(n)];
    if (std::isfinite(r) && std::isfinite(oracle)) {
      crossProducts += r * oracle;
      oracleSquares += oracle * oracle;
    }
  }
  evaluation.fractionOfOracleSlope = oracleSquares > 0.0 ? crossProducts / oracleSquares : nan;
  return evaluation;
}

NeuralModelEvaluation evaluateNeuralModel(const FittedNeuralModel& fitted, const NeuralDataset& dataset, Tier tier,
                                          const Job& job) {
  return evaluatePredictions(dataset, predictResponses(fitted, dataset, job), tier);
}

nlohmann::json toJson(const NeuralModelEvaluation& evaluation) {
  // JSON has no NaN: undefined per-neuron values become null.
  auto values = [](const std::vector<double>& numbers) {
    nlohmann::json array = nlohmann::json::array();
    for (const double number : numbers)
      array.push_back(std::isfinite(number) ? nlohmann::json(number) : nlohmann::json());
    return array;
  };
  auto value = [](double number) { return std::isfinite(number) ? nlohmann::json(number) : nlohmann::json(); };
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
