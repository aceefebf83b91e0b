#include "probing/predictivity.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <set>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "classifiers/classifier_trainer.h"
#include "classifiers/run_folder.h"
#include "classifiers/run_registry.h"
#include "classifiers/scripted_classifier.h"
#include "data/dataset_io.h"
#include "data/default_data.h"
#include "measures/correlation.h"
#include "probing/layer_features.h"
#include "probing/seed_statistics.h"
#include "runtime/atomic_file.h"
#include "runtime/config_reader.h"
#include "runtime/csv.h"
#include "runtime/error.h"
#include "runtime/undefined.h"

namespace bp {

namespace {

namespace fs = std::filesystem;

constexpr const char* kPredictivityReportFormat = "brainprior predictivity report";

// Training-row statistics of the features, applied alike to the rows to predict.
struct Standardizer {
  torch::Tensor mean;
  torch::Tensor scale;

  explicit Standardizer(const torch::Tensor& features) {
    mean = features.mean(0, true);
    const torch::Tensor deviation = features.std(0, /*unbiased=*/false, true);
    // A constant feature carries nothing; dividing by 1 keeps its centred column at 0.
    scale = torch::where(deviation > 1e-12, deviation, torch::ones_like(deviation));
  }
  torch::Tensor apply(const torch::Tensor& features) const { return (features - mean) / scale; }
};

void checkReadoutShapes(const torch::Tensor& features, const torch::Tensor& responses, const torch::Tensor& query) {
  if (features.dim() != 2 || responses.dim() != 2 || query.dim() != 2 || features.size(0) != responses.size(0) ||
      query.size(1) != features.size(1))
    throw Error("readout: features, responses and query must be matrices with matching rows and units");
  if (features.size(0) < 2) throw Error("readout: at least two training images are needed");
}

// The dominant eigenvector of a symmetric positive semi-definite matrix and its eigenvalue, by
// subspace iteration with Rayleigh-Ritz: `basis` (k x b, orthonormal columns) is the start and
// holds the Ritz vectors on return, a warm start for the next, deflated matrix. The top Ritz vector
// converges like (lambda_{b+1} / lambda_1)^iterations, so near-ties at the top cost little;
// converged when |G v - theta v| <= 1e-12 theta (1,000 iterations at most).
std::pair<torch::Tensor, double> dominantEigenvector(const torch::Tensor& gram, torch::Tensor& basis) {
  torch::Tensor vector;
  double value = 0.0;
  for (int iteration = 0; iteration < 1000; ++iteration) {
    const torch::Tensor image = gram.matmul(basis);
    const torch::Tensor projected = basis.t().matmul(image);
    const auto [values, ritz] = torch::linalg_eigh((projected + projected.t()) / 2.0, "L");  // ascending
    const torch::Tensor top = ritz.select(1, ritz.size(1) - 1).unsqueeze(1);
    value = values[values.size(0) - 1].item<double>();
    vector = basis.matmul(top);
    const double residual = (image.matmul(top) - value * vector).norm().item<double>();
    // Ritz order, largest first, so that the next component starts from the runners-up.
    basis = std::get<0>(torch::linalg_qr(image.matmul(ritz.flip(1))));
    if (residual <= 1e-12 * value || value <= 0.0) break;
  }
  return {vector, value};
}

nlohmann::json toJson(const LayerPredictivity& layer) {
  return {{"tap", layer.tap},
          {"units", layer.units},
          {"median_r", finiteOrNull(layer.score.medianCorrelation)},
          {"normalized_median_r", finiteOrNull(layer.score.normalizedMedian)},
          {"neuron_r", finiteOrNull(layer.score.correlations)}};
}

nlohmann::json toJson(const ModelPredictivity& model) {
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& layer : model.layers) layers.push_back(toJson(layer));
  return {{"folder", model.folder.string()},
          {"name", model.name},
          {"launch", model.launch},
          {"seed", model.seed},
          {"regularizer", model.regularizer},
          {"test_accuracy", finiteOrNull(model.testAccuracy)},
          {"best_layer", model.bestLayer},
          {"layers", layers}};
}

nlohmann::json toJson(const LaunchPredictivity& launch) {
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& layer : launch.layers)
    layers.push_back({{"tap", layer.tap},
                      {"mean_median_r", finiteOrNull(layer.meanMedianCorrelation)},
                      {"sem_median_r", finiteOrNull(layer.semMedianCorrelation)},
                      {"mean_normalized_median_r", finiteOrNull(layer.meanNormalizedMedian)},
                      {"sem_normalized_median_r", finiteOrNull(layer.semNormalizedMedian)}});
  return {{"name", launch.name},
          {"models", launch.models},
          {"seeds", launch.seeds},
          {"mean_test_accuracy", finiteOrNull(launch.meanTestAccuracy)},
          {"sem_test_accuracy", finiteOrNull(launch.semTestAccuracy)},
          {"mean_best_median_r", finiteOrNull(launch.meanBestMedianCorrelation)},
          {"sem_best_median_r", finiteOrNull(launch.semBestMedianCorrelation)},
          {"layers", layers}};
}

LaunchPredictivity summarizeLaunch(const std::string& name, const std::vector<const ModelPredictivity*>& models) {
  LaunchPredictivity launch;
  launch.name = name;
  std::vector<double> accuracies;
  std::vector<double> best;
  for (const ModelPredictivity* model : models) {
    launch.models.push_back(model->name);
    launch.seeds.push_back(model->seed);
    accuracies.push_back(model->testAccuracy);
    double bestMedian = kUndefined;
    for (const auto& layer : model->layers)
      if (layer.tap == model->bestLayer) bestMedian = layer.score.medianCorrelation;
    best.push_back(bestMedian);
  }
  const MeanAndSem accuracy = meanAndSem(accuracies);
  launch.meanTestAccuracy = accuracy.mean;
  launch.semTestAccuracy = accuracy.sem;
  const MeanAndSem bestMedian = meanAndSem(best);
  launch.meanBestMedianCorrelation = bestMedian.mean;
  launch.semBestMedianCorrelation = bestMedian.sem;
  for (const auto& tap : models.front()->layers) {
    std::vector<double> medians;
    std::vector<double> normalized;
    for (const ModelPredictivity* model : models)
      for (const auto& layer : model->layers)
        if (layer.tap == tap.tap) {
          medians.push_back(layer.score.medianCorrelation);
          normalized.push_back(layer.score.normalizedMedian);
        }
    LaunchLayerPredictivity layer;
    layer.tap = tap.tap;
    const MeanAndSem median = meanAndSem(medians);
    layer.meanMedianCorrelation = median.mean;
    layer.semMedianCorrelation = median.sem;
    const MeanAndSem normalizedMedian = meanAndSem(normalized);
    layer.meanNormalizedMedian = normalizedMedian.mean;
    layer.semNormalizedMedian = normalizedMedian.sem;
    launch.layers.push_back(layer);
  }
  return launch;
}

}  // namespace

const char* readoutMethodName(ReadoutMethod method) { return method == ReadoutMethod::Ridge ? "ridge" : "pls"; }

nlohmann::json toJson(const PredictivityConfig& config) {
  return {{"method", readoutMethodName(config.method)},
          {"components", config.components},
          {"lambda", config.lambda},
          {"folds", config.folds},
          {"seed", config.seed},
          {"pool_size", config.poolSize},
          {"max_images", config.maxImages},
          {"batch_size", config.batchSize},
          {"layers", config.layers}};
}

PredictivityConfig predictivityConfigFromJson(const nlohmann::json& json) {
  PredictivityConfig config;
  ConfigReader reader(json, "predictivity config");
  if (const auto* method = reader.find("method")) {
    const std::string name = method->is_string() ? method->get<std::string>() : "";
    if (name == "ridge")
      config.method = ReadoutMethod::Ridge;
    else if (name == "pls")
      config.method = ReadoutMethod::Pls;
    else
      reader.fail("method", "must be \"ridge\" or \"pls\"");
  }
  reader.read("components", config.components);
  reader.read("lambda", config.lambda);
  reader.read("folds", config.folds);
  reader.read("seed", config.seed);
  reader.read("pool_size", config.poolSize);
  reader.read("max_images", config.maxImages);
  reader.read("batch_size", config.batchSize);
  reader.read("layers", config.layers);
  reader.finish();
  return config;
}

void validate(const PredictivityConfig& config) {
  if (config.components < 1) throw Error("predictivity: components must be positive");
  if (!std::isfinite(config.lambda) || config.lambda < 0.0)
    throw Error("predictivity: lambda must be a finite number >= 0");
  if (config.folds < 2) throw Error("predictivity: folds must be at least 2");
  if (config.poolSize < 1) throw Error("predictivity: pool_size must be positive");
  if (config.maxImages < 0) throw Error("predictivity: max_images must be >= 0 (0: every image)");
  if (config.batchSize < 1) throw Error("predictivity: batch_size must be positive");
  for (const auto& layer : config.layers)
    if (layer.empty()) throw Error("predictivity: layers must name layers (an empty name was given)");
}

torch::Tensor ridgePredict(const torch::Tensor& features, const torch::Tensor& responses, const torch::Tensor& query,
                           double lambda) {
  checkReadoutShapes(features, responses, query);
  const torch::Tensor x = features.to(torch::kDouble);
  const torch::Tensor y = responses.to(torch::kDouble);
  const Standardizer standardizer(x);
  const torch::Tensor z = standardizer.apply(x);
  const torch::Tensor yMean = y.mean(0, true);
  const std::int64_t rows = z.size(0);
  const std::int64_t units = z.size(1);
  // With more units than images, the dual form solves an images x images system instead of
  // units x units: (Z'Z + lI)^-1 Z' = Z'(ZZ' + lI)^-1. Without a penalty the dual system is
  // singular as soon as rows exceed the rank, so the primal form keeps lambda 0 for tall problems.
  torch::Tensor coefficients;
  if (units > rows && lambda > 0.0) {
    const torch::Tensor gram = z.matmul(z.t()) + lambda * torch::eye(rows, z.options());
    coefficients = z.t().matmul(torch::linalg_solve(gram, y - yMean, true));
  } else {
    const torch::Tensor gram = z.t().matmul(z) + lambda * torch::eye(units, z.options());
    // lstsq rather than solve: with lambda 0 a rank-deficient Z'Z still has a least-squares answer.
    coefficients = std::get<0>(torch::linalg_lstsq(gram, z.t().matmul(y - yMean), c10::nullopt, "gelsd"));
  }
  return yMean + standardizer.apply(query.to(torch::kDouble)).matmul(coefficients);
}

torch::Tensor plsPredict(const torch::Tensor& features, const torch::Tensor& responses, const torch::Tensor& query,
                         int components) {
  checkReadoutShapes(features, responses, query);
  const torch::Tensor x = features.to(torch::kDouble);
  const torch::Tensor y = responses.to(torch::kDouble);
  const Standardizer standardizer(x);
  torch::Tensor xResidual = standardizer.apply(x);
  const torch::Tensor yMean = y.mean(0, true);
  const std::int64_t units = x.size(1);
  const std::int64_t count = std::min<std::int64_t>({components, units, x.size(0) - 1});

  // NIPALS' X weight converges to the dominant left singular vector of the deflated cross-covariance
  // M = X'Y, and both deflations together change M by a rank-1 term: X't = (t't) p and Y't = M'w
  // = (t't) q give M <- M - p (t't) q' = (I - p w') M. So M is formed once, the singular vector comes
  // from the Gram matrix of M's shorter side (kept current by the rank-2 terms of that product), and
  // the images x neurons responses are never touched inside the loop.
  torch::Tensor crossCovariance = xResidual.t().matmul(y - yMean);  // units x neurons
  const bool unitGram = units <= y.size(1);
  torch::Tensor gram =
      unitGram ? crossCovariance.matmul(crossCovariance.t()) : crossCovariance.t().matmul(crossCovariance);
  // Start from the Gram columns of largest diagonal (NIPALS starts from the response of largest variance).
  const std::int64_t blockSize = std::min<std::int64_t>(gram.size(0), 8);
  torch::Tensor basis =
      std::get<0>(torch::linalg_qr(gram.index_select(1, std::get<1>(gram.diagonal().topk(blockSize)))));

  std::vector<torch::Tensor> weights;
  std::vector<torch::Tensor> xLoadings;
  std::vector<torch::Tensor> yLoadings;
  const double xScale = xResidual.pow(2).sum().item<double>();
  double firstEigenvalue = 0.0;
  for (std::int64_t component = 0; component < count; ++component) {
    // Stop once X is exhausted: further scores would be numerical noise.
    if (xResidual.pow(2).sum().item<double>() <= 1e-20 * std::max(xScale, 1e-300)) break;
    const auto [eigenvector, eigenvalue] = dominantEigenvector(gram, basis);
    if (component == 0) firstEigenvalue = eigenvalue;
    // Stop once the responses are explained (M = 0): further weights would be arbitrary.
    if (!(eigenvalue > 1e-24 * firstEigenvalue)) break;
    torch::Tensor w = unitGram ? eigenvector : crossCovariance.matmul(eigenvector);
    w = w / w.norm();
    const torch::Tensor t = xResidual.matmul(w);
    // A score of zero would make P'W singular.
    if (t.pow(2).sum().item<double>() <= 1e-20 * std::max(xScale, 1e-300)) break;
    const torch::Tensor tt = t.pow(2).sum();
    const torch::Tensor p = xResidual.t().matmul(t) / tt;
    const torch::Tensor covariance = crossCovariance.t().matmul(w);  // Y't = (t't) q
    if (unitGram) {
      const torch::Tensor image = gram.matmul(w);  // (I - p w') G (I - w p')
      gram = gram - p.matmul(image.t()) - image.matmul(p.t()) + w.t().matmul(image) * p.matmul(p.t());
    } else {
      const torch::Tensor loadingCovariance = crossCovariance.t().matmul(p);  // M' (I - w p')(I - p w') M
      gram = gram - covariance.matmul(loadingCovariance.t()) - loadingCovariance.matmul(covariance.t()) +
             p.pow(2).sum() * covariance.matmul(covariance.t());
    }
    crossCovariance = crossCovariance - p.matmul(covariance.t());
    xResidual = xResidual - t.matmul(p.t());
    weights.push_back(w);
    xLoadings.push_back(p);
    yLoadings.push_back(covariance / tt);
  }
  if (weights.empty()) return yMean.expand({query.size(0), y.size(1)}).clone();
  const torch::Tensor W = torch::cat(weights, 1);
  const torch::Tensor P = torch::cat(xLoadings, 1);
  const torch::Tensor Q = torch::cat(yLoadings, 1);
  // B = W (P'W)^-1 Q' maps standardised features straight to centred responses.
  const torch::Tensor coefficients = W.matmul(torch::linalg_solve(P.t().matmul(W), Q.t(), true));
  return yMean + standardizer.apply(query.to(torch::kDouble)).matmul(coefficients);
}

torch::Tensor crossValidatedPredictions(const torch::Tensor& features, const torch::Tensor& responses,
                                        const PredictivityConfig& config, const Job& job) {
  validate(config);
  const std::int64_t images = features.size(0);
  if (images != responses.size(0)) throw Error("predictivity: features and responses differ in images");
  if (images < 2 * static_cast<std::int64_t>(config.folds))
    throw Error("predictivity: " + std::to_string(images) + " images are too few for " +
                std::to_string(config.folds) + " folds (at least 2 per fold)");
  std::vector<std::int64_t> order(static_cast<std::size_t>(images));
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 random(config.seed);
  std::shuffle(order.begin(), order.end(), random);

  const torch::Tensor x = features.to(torch::kDouble);
  const torch::Tensor y = responses.to(torch::kDouble);
  torch::Tensor predictions = torch::empty({images, y.size(1)}, y.options());
  for (int fold = 0; fold < config.folds; ++fold) {
    job.throwIfCancelled();
    std::vector<std::int64_t> train;
    std::vector<std::int64_t> heldOut;
    for (std::size_t i = 0; i < order.size(); ++i)
      (static_cast<int>(i % static_cast<std::size_t>(config.folds)) == fold ? heldOut : train).push_back(order[i]);
    const torch::Tensor trainRows = torch::tensor(train, torch::kLong);
    const torch::Tensor heldOutRows = torch::tensor(heldOut, torch::kLong);
    const torch::Tensor trainX = x.index_select(0, trainRows);
    const torch::Tensor trainY = y.index_select(0, trainRows);
    const torch::Tensor query = x.index_select(0, heldOutRows);
    predictions.index_copy_(0, heldOutRows,
                            config.method == ReadoutMethod::Ridge ? ridgePredict(trainX, trainY, query, config.lambda)
                                                                  : plsPredict(trainX, trainY, query, config.components));
    job.progress(static_cast<double>(fold + 1) / config.folds, "fold " + std::to_string(fold + 1));
  }
  return predictions;
}

std::vector<double> columnCorrelations(const torch::Tensor& predictions, const torch::Tensor& responses) {
  const torch::Tensor a = predictions.to(torch::kDouble).t().contiguous();
  const torch::Tensor b = responses.to(torch::kDouble).t().contiguous();
  std::vector<double> correlations;
  for (std::int64_t neuron = 0; neuron < a.size(0); ++neuron)
    correlations.push_back(pearson(a[neuron].data_ptr<double>(), b[neuron].data_ptr<double>(), a.size(1)));
  return correlations;
}

double finiteMedian(const std::vector<double>& values) {
  std::vector<double> finite;
  for (const double value : values)
    if (std::isfinite(value)) finite.push_back(value);
  if (finite.empty()) return kUndefined;
  std::sort(finite.begin(), finite.end());
  const std::size_t middle = finite.size() / 2;
  return finite.size() % 2 == 1 ? finite[middle] : (finite[middle - 1] + finite[middle]) / 2.0;
}

ReadoutScore scoreReadout(const torch::Tensor& features, const torch::Tensor& responses,
                          const std::vector<double>& ceilings, const PredictivityConfig& config, const Job& job) {
  ReadoutScore score;
  score.correlations = columnCorrelations(crossValidatedPredictions(features, responses, config, job), responses);
  score.medianCorrelation = finiteMedian(score.correlations);
  std::vector<double> normalized;
  for (std::size_t neuron = 0; neuron < ceilings.size() && neuron < score.correlations.size(); ++neuron)
    if (std::isfinite(ceilings[neuron]) && ceilings[neuron] > 0.0)
      normalized.push_back(score.correlations[neuron] / ceilings[neuron]);
  score.normalizedMedian = finiteMedian(normalized);
  return score;
}

NeuralTargets neuralTargets(const NeuralDataset& dataset, std::int64_t maxImages) {
  dataset.validate();
  if (dataset.trialCount() == 0) throw Error("predictivity: the neural dataset has no trials");
  // Trials of each distinct image, images in order of their first trial.
  std::vector<std::int64_t> ids;
  std::map<std::int64_t, std::vector<std::int64_t>> trials;
  for (std::int64_t trial = 0; trial < dataset.trialCount(); ++trial) {
    const std::int64_t id = dataset.imageIds[static_cast<std::size_t>(trial)];
    auto& list = trials[id];
    if (list.empty()) {
      if (maxImages > 0 && static_cast<std::int64_t>(ids.size()) == maxImages) {
        trials.erase(id);
        continue;
      }
      ids.push_back(id);
    }
    list.push_back(trial);
  }

  const std::int64_t images = static_cast<std::int64_t>(ids.size());
  const std::int64_t neurons = dataset.neuronCount;
  std::vector<std::int64_t> firstTrials;
  for (const std::int64_t id : ids) firstTrials.push_back(trials[id].front());

  NeuralTargets targets;
  targets.imageIds = ids;
  targets.images = datasetImages(dataset, firstTrials);
  torch::Tensor averages = torch::zeros({images, neurons}, torch::kDouble);
  torch::Tensor firstHalf = torch::zeros({images, neurons}, torch::kDouble);
  torch::Tensor secondHalf = torch::zeros({images, neurons}, torch::kDouble);
  std::vector<std::int64_t> repeated;
  const auto responsesOf = [&](std::int64_t trial) {
    return torch::from_blob(const_cast<float*>(dataset.response(trial)), {neurons}, torch::kFloat)
        .to(torch::kDouble);
  };
  for (std::int64_t image = 0; image < images; ++image) {
    const std::vector<std::int64_t>& list = trials[ids[static_cast<std::size_t>(image)]];
    std::vector<torch::Tensor> halves[2];
    for (std::size_t k = 0; k < list.size(); ++k) {
      const torch::Tensor response = responsesOf(list[k]);
      averages[image] += response / static_cast<double>(list.size());
      halves[k % 2].push_back(response);
    }
    if (list.size() >= 2) {
      firstHalf[image].copy_(torch::stack(halves[0]).mean(0));
      secondHalf[image].copy_(torch::stack(halves[1]).mean(0));
      repeated.push_back(image);
    }
  }
  targets.responses = averages.to(torch::kFloat);
  targets.repeatedImages = static_cast<std::int64_t>(repeated.size());
  const torch::Tensor rows = torch::tensor(repeated, torch::kLong);
  const std::vector<double> halfCorrelations =
      repeated.size() < 2 ? std::vector<double>(static_cast<std::size_t>(neurons), kUndefined)
                          : columnCorrelations(firstHalf.index_select(0, rows), secondHalf.index_select(0, rows));
  for (const double r : halfCorrelations) targets.ceilings.push_back(2.0 * r / (1.0 + r));
  return targets;
}

std::vector<LayerPredictivity> layerPredictivity(const TrainedClassifier& trained, const NeuralTargets& targets,
                                                 const PredictivityConfig& config, const Job& job) {
  validate(config);
  std::vector<std::string> chosen;
  for (const std::string& tap : trained.model->tapNames())
    if (config.layers.empty() || std::find(config.layers.begin(), config.layers.end(), tap) != config.layers.end())
      chosen.push_back(tap);
  if (chosen.empty())
    throw Error("the model has none of the layers " + layerNames(config.layers) + "; its layers: " +
                layerNames(trained.model->tapNames()));
  const LayerFeatures features =
      layerFeatures(trained, targets.images, chosen, config.poolSize, config.batchSize, job.subJob(0.0, 0.2));
  std::vector<LayerPredictivity> layers;
  const double share = 0.8 / static_cast<double>(features.layers.size());
  for (std::size_t tap = 0; tap < features.layers.size(); ++tap) {
    LayerPredictivity layer;
    layer.tap = features.layers[tap];
    layer.units = features.features[tap].size(1);
    const double begin = 0.2 + share * static_cast<double>(tap);
    layer.score = scoreReadout(features.features[tap], targets.responses, targets.ceilings, config,
                               job.subJob(begin, begin + share));
    layers.push_back(std::move(layer));
  }
  return layers;
}

std::vector<LaunchPredictivity> summarizeLaunches(const std::vector<ModelPredictivity>& models) {
  std::vector<LaunchPredictivity> launches;
  for (const auto& [name, members] : groupByLaunch(models)) launches.push_back(summarizeLaunch(name, members));
  return launches;
}

nlohmann::json toJson(const PredictivityReport& report) {
  nlohmann::json models = nlohmann::json::array();
  for (const auto& model : report.models) models.push_back(toJson(model));
  nlohmann::json launches = nlohmann::json::array();
  for (const auto& launch : report.launches) launches.push_back(toJson(launch));
  return {{"format", kPredictivityReportFormat},
          {"version", 1},
          {"config", toJson(report.config)},
          {"runtime", toJson(report.runtime)},
          {"neural",
           {{"path", report.neuralPath},
            {"images", report.images},
            {"neurons", report.neurons},
            {"repeated_images", report.repeatedImages},
            {"median_ceiling", finiteOrNull(report.medianCeiling)}}},
          {"models", models},
          {"launches", launches}};
}

PredictivityReport predictivityOfRuns(const std::vector<fs::path>& runFolders, const NeuralDataset& dataset,
                                      const PredictivityConfig& config, const Job& job,
                                      const std::vector<fs::path>& importedModels) {
  validate(config);
  const std::vector<RunRecord> runs = readModelRecords({runFolders, importedModels}, "predictivity");
  PredictivityReport report;
  report.config = config;
  report.runtime = runtimeInfo();
  report.neuralPath = dataset.sourcePath;
  const NeuralTargets targets = neuralTargets(dataset, config.maxImages);
  report.images = targets.images.size(0);
  report.neurons = dataset.neuronCount;
  report.repeatedImages = targets.repeatedImages;
  report.medianCeiling = finiteMedian(targets.ceilings);

  const double share = 1.0 / static_cast<double>(runs.size());
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const RunRecord& run = runs[i];
    ModelPredictivity model;
    model.folder = run.folder;
    model.name = run.name;
    model.launch = run.group;
    model.seed = run.seed;
    model.regularizer = run.regularizer;
    const auto accuracy = run.summary.find("test_accuracy");
    model.testAccuracy = accuracy == run.summary.end() ? kUndefined : numberOrNaN(*accuracy);
    TrainedClassifier trained = loadAnalysisModel(run.folder);
    trained.model->to(torch::Device(runtimeInfo().device == "cuda" ? torch::kCUDA : torch::kCPU));
    const double begin = share * static_cast<double>(i);
    try {
      model.layers = layerPredictivity(trained, targets, config, job.subJob(begin, begin + share));
    } catch (const CancelledError&) {
      throw;
    } catch (const FileError&) {
      throw;
    } catch (const Error& error) {
      throw FileError(run.folder.string(), error.what());  // which model lacks the layers
    }
    double best = -std::numeric_limits<double>::infinity();
    for (const auto& layer : model.layers)
      if (std::isfinite(layer.score.medianCorrelation) && layer.score.medianCorrelation > best) {
        best = layer.score.medianCorrelation;
        model.bestLayer = layer.tap;
      }
    report.models.push_back(std::move(model));
    job.throwIfCancelled();
  }
  report.launches = summarizeLaunches(report.models);
  return report;
}

void writePredictivityTable(const PredictivityReport& report, const fs::path& file) {
  std::string table = "name,launch,seed,regularizer,test_accuracy,tap,units,median_r,normalized_median_r,best\n";
  for (const auto& model : report.models)
    for (const auto& layer : model.layers)
      table += csvField(model.name) + "," + csvField(model.launch) + "," + std::to_string(model.seed) + "," +
               csvField(model.regularizer) + "," + csvNumber(model.testAccuracy) + "," + csvField(layer.tap) + "," +
               std::to_string(layer.units) + "," + csvNumber(layer.score.medianCorrelation) + "," +
               csvNumber(layer.score.normalizedMedian) + "," + (layer.tap == model.bestLayer ? "1" : "0") + "\n";
  writeFileAtomically(file, table);
}

void writePredictivityLaunchTable(const PredictivityReport& report, const fs::path& file) {
  std::string table =
      "launch,models,seeds,mean_test_accuracy,sem_test_accuracy,tap,mean_median_r,sem_median_r,"
      "mean_normalized_median_r,sem_normalized_median_r,mean_best_median_r,sem_best_median_r\n";
  for (const auto& launch : report.launches) {
    std::string seeds;
    for (const auto seed : launch.seeds) seeds += (seeds.empty() ? "" : ";") + std::to_string(seed);
    for (const auto& layer : launch.layers)
      table += csvField(launch.name) + "," + std::to_string(launch.models.size()) + "," + seeds + "," +
               csvNumber(launch.meanTestAccuracy) + "," + csvNumber(launch.semTestAccuracy) + "," +
               csvField(layer.tap) + "," + csvNumber(layer.meanMedianCorrelation) + "," +
               csvNumber(layer.semMedianCorrelation) + "," + csvNumber(layer.meanNormalizedMedian) + "," +
               csvNumber(layer.semNormalizedMedian) + "," + csvNumber(launch.meanBestMedianCorrelation) + "," +
               csvNumber(launch.semBestMedianCorrelation) + "\n";
  }
  writeFileAtomically(file, table);
}

PredictivityReportFolder writePredictivityReportFolder(const PredictivityReportFolderConfig& config, const Job& job,
                                                       const RunsCollectedCallback& onRunsCollected) {
  validate(config.predictivity);
  nlohmann::json skipped = nlohmann::json::array();
  const ModelArguments models = collectModels(config.runs, skipped);
  if (onRunsCollected) onRunsCollected(skipped);
  const NeuralDataset dataset = loadNeuralOrDefault(config.neuralPath.string(), job.subJob(0.0, 0.1));
  PredictivityReportFolder folder;
  folder.report = predictivityOfRuns(models.runFolders, dataset, config.predictivity, job.subJob(0.1, 1.0),
                                     models.importedModels);
  folder.json = toJson(folder.report);
  folder.json["skipped"] = skipped;
  if (!config.outputDir.empty()) {
    fs::create_directories(config.outputDir);
    writeFileAtomically(config.outputDir / "report.json", folder.json.dump(2) + "\n");
    writePredictivityTable(folder.report, config.outputDir / "predictivity-table.csv");
    writePredictivityLaunchTable(folder.report, config.outputDir / "predictivity-launches.csv");
  }
  return folder;
}

}  // namespace bp
