#include "training/neural_target.h"

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "measures/reliability.h"
#include "runtime/number_format.h"
#include "rsa/rsa_reliability.h"
#include "runtime/config_reader.h"
#include "runtime/error.h"

namespace bp {

namespace {

// Distinct images of `tier` in order of their first trial, with that trial.
struct ImageRows {
  std::vector<std::int64_t> firstTrial;
  std::vector<std::int64_t> imageIds;
  std::vector<std::int64_t> trialCounts;
};

ImageRows imageRows(const NeuralDataset& dataset, std::optional<Tier> tier) {
  ImageRows rows;
  std::map<std::int64_t, std::size_t> rowOfImage;
  for (std::int64_t t = 0; t < dataset.trialCount(); ++t) {
    if (tier && dataset.tiers[static_cast<std::size_t>(t)] != *tier) continue;
    const std::int64_t id = dataset.imageIds[static_cast<std::size_t>(t)];
    const auto [found, inserted] = rowOfImage.emplace(id, rows.firstTrial.size());
    if (inserted) {
      rows.firstTrial.push_back(t);
      rows.imageIds.push_back(id);
      rows.trialCounts.push_back(0);
    }
    ++rows.trialCounts[found->second];
  }
  return rows;
}

// Keeps the rows whose mask entry is true.
FeatureMatrix selectRows(const FeatureMatrix& features, const std::vector<bool>& keep) {
  FeatureMatrix selected;
  selected.cols = features.cols;
  selected.source = features.source;
  for (std::int64_t r = 0; r < features.rows; ++r) {
    if (!keep[static_cast<std::size_t>(r)]) continue;
    selected.values.insert(selected.values.end(), features.row(r), features.row(r) + features.cols);
    selected.imageIds.push_back(features.imageIds[static_cast<std::size_t>(r)]);
    if (!features.labels.empty()) selected.labels.push_back(features.labels[static_cast<std::size_t>(r)]);
    ++selected.rows;
  }
  return selected;
}

}  // namespace

NeuronWeighting neuronWeighting(const NeuralDataset& dataset, const NeuralModelEvaluation& evaluation, Tier tier) {
  const auto neurons = static_cast<std::size_t>(dataset.neuronCount);
  if (evaluation.singleTrialCorrelation.size() != neurons)
    throw Error("the model evaluation covers " + std::to_string(evaluation.singleTrialCorrelation.size()) +
                " neurons; dataset '" + dataset.name + "' has " + std::to_string(neurons));
  ReliabilityConfig reliabilityConfig;
  reliabilityConfig.tier = tier;
  NeuronWeighting weighting;
  weighting.tier = tier;
  weighting.reliability = reliabilityWeights(computeReliability(dataset, reliabilityConfig));
  weighting.quality.resize(neurons);
  weighting.combined.resize(neurons);
  for (std::size_t n = 0; n < neurons; ++n) {
    const double r = evaluation.singleTrialCorrelation[n];
    weighting.quality[n] = std::isfinite(r) && r > 0.0 ? r : 0.0;
    const double w = weighting.reliability[n];
    const double combined = std::isfinite(w) ? w * weighting.quality[n] : 0.0;
    weighting.combined[n] = static_cast<float>(combined);
    if (combined > 0.0) ++weighting.usedNeurons;
  }
  return weighting;
}

nlohmann::json toJson(const NeuronWeighting& weighting) {
  return {{"tier", tierName(weighting.tier)},
          {"used_neurons", weighting.usedNeurons},
          {"reliability", finiteOrNull(weighting.reliability)},
          {"quality", finiteOrNull(weighting.quality)},
          {"combined", weighting.combined}};
}

ImageLoadOptions modelInputOptions(const FittedNeuralModel& fitted) {
  const NeuralModelConfig& config = fitted.model->config();
  ImageLoadOptions options;
  options.grayscale = config.inputChannels == 1;
  options.resizeHeight = config.inputHeight;
  options.resizeWidth = config.inputWidth;
  options.rangeMin = fitted.normalization.pixelRange[0];
  options.rangeMax = fitted.normalization.pixelRange[1];
  return options;
}

FeatureMatrix predictedFeatures(const NeuralDataset& dataset, const std::vector<float>& trialPredictions,
                                std::optional<Tier> tier) {
  const auto neurons = dataset.neuronCount;
  if (static_cast<std::int64_t>(trialPredictions.size()) != dataset.trialCount() * neurons)
    throw Error("predictions hold " + std::to_string(trialPredictions.size()) + " values; dataset '" + dataset.name +
                "' needs trials x neurons = " + std::to_string(dataset.trialCount() * neurons));
  const ImageRows rows = imageRows(dataset, tier);
  if (rows.firstTrial.empty())
    throw Error("dataset '" + dataset.name + "' has no " + (tier ? std::string(tierName(*tier)) + " " : "") +
                "images to predict");
  FeatureMatrix features;
  features.rows = static_cast<std::int64_t>(rows.firstTrial.size());
  features.cols = neurons;
  features.values.reserve(static_cast<std::size_t>(features.rows * neurons));
  // Every repeat of an image has the same prediction: its first trial's row stands for all.
  for (const std::int64_t t : rows.firstTrial)
    features.values.insert(features.values.end(), trialPredictions.begin() + t * neurons,
                           trialPredictions.begin() + (t + 1) * neurons);
  features.imageIds = rows.imageIds;
  if (!dataset.imageClasses.empty())
    for (const std::int64_t t : rows.firstTrial) features.labels.push_back(dataset.imageClasses[static_cast<std::size_t>(t)]);
  features.source = "model predictions for " + dataset.name + (tier ? std::string(", ") + tierName(*tier) + " tier" : "");
  return features;
}

FeatureMatrix predictedFeatures(const FittedNeuralModel& fitted, const ImageDataset& images, const Job& job) {
  images.validate();
  const NeuralModelConfig& config = fitted.model->config();
  if (images.channels != config.inputChannels || images.height != config.inputHeight ||
      images.width != config.inputWidth)
    throw Error("image dataset '" + images.name + "' has " + std::to_string(images.channels) + "x" +
                std::to_string(images.height) + "x" + std::to_string(images.width) +
                " images; load it with the model's input options (" + std::to_string(config.inputChannels) + "x" +
                std::to_string(config.inputHeight) + "x" + std::to_string(config.inputWidth) + ")");
  if (images.imageCount() == 0) throw Error("image dataset '" + images.name + "' is empty");
  FeatureMatrix features;
  features.rows = images.imageCount();
  features.cols = config.neuronCount;
  features.values = predictResponses(fitted, images.pixels.data(), features.rows, job);
  for (std::int64_t i = 0; i < features.rows; ++i) {
    features.imageIds.push_back(i);
    features.labels.push_back(images.classNames[static_cast<std::size_t>(images.labels[static_cast<std::size_t>(i)])]);
  }
  features.source = "model predictions for " + images.name;
  return features;
}

DenoisingCheck checkDenoising(const NeuralDataset& dataset, const std::vector<float>& trialPredictions,
                              const SimilarityConfig& similarity, Tier tier, ComparisonMethod method,
                              const Job& job) {
  // The single-trial agreements define which images count as repeated; the predicted and
  // repeat-averaged matrices use exactly those images.
  SingleTrialConfig singleTrial;
  singleTrial.tier = tier;
  singleTrial.similarity = similarity;
  singleTrial.method = method;
  singleTrial.reference = SingleTrialReference::AllRepeats;
  const SingleTrialResult againstAll = singleTrialAgreement(dataset, singleTrial, job.subJob(0.0, 0.45));
  singleTrial.reference = SingleTrialReference::OtherRepeats;
  const SingleTrialResult againstOthers = singleTrialAgreement(dataset, singleTrial, job.subJob(0.45, 0.9));

  const ImageRows rows = imageRows(dataset, tier);
  std::vector<bool> repeated;
  for (const std::int64_t count : rows.trialCounts) repeated.push_back(count >= 2);
  FeatureSelection averaged;
  averaged.tier = tier;
  const FeatureMatrix reference = selectRows(featuresFromDataset(dataset, averaged), repeated);
  const FeatureMatrix predicted = selectRows(predictedFeatures(dataset, trialPredictions, tier), repeated);
  job.throwIfCancelled();

  DenoisingCheck check;
  check.predictedAgreement =
      compareMatrices(computeSimilarity(predicted, similarity), computeSimilarity(reference, similarity), method);
  check.singleTrialAgreement = againstAll.mean;
  check.singleTrialAgreementOtherRepeats = againstOthers.mean;
  check.images = againstAll.images;
  check.repeats = againstAll.repeats;
  check.method = method;
  job.progress(1.0, "denoising check done");
  return check;
}

nlohmann::json toJson(const DenoisingCheck& check) {
  nlohmann::json json = {{"predicted_vs_repeat_average", check.predictedAgreement},
                         {"single_trial_vs_repeat_average", check.singleTrialAgreement},
                         {"single_trial_vs_other_repeats", check.singleTrialAgreementOtherRepeats},
                         {"images", check.images},
                         {"repeats", check.repeats},
                         {"method", comparisonMethodName(check.method)},
                         {"denoises", denoises(check)}};
  if (const auto warning = denoisingCheckWarning(check)) json["warning"] = *warning;
  return json;
}

bool denoises(const DenoisingCheck& check) {
  return check.predictedAgreement > check.singleTrialAgreementOtherRepeats;
}

std::optional<std::string> denoisingCheckWarning(const DenoisingCheck& check) {
  if (denoises(check)) return std::nullopt;
  // formatFixed, not printf: the GUI runs in the user's locale, which may write 0,26.
  return "the denoising check failed: the predicted similarity agrees " + formatFixed(check.predictedAgreement, 2) +
         " with the repeat average, a single trial " + formatFixed(check.singleTrialAgreementOtherRepeats, 2) +
         " with the other repeats' average, so the target is noisier than one recording; fit the model longer or "
         "on more data before using it as a prior";
}

NeuralTargetPlan planNeuralTarget(const FittedNeuralModel& fitted, const NeuralDataset& dataset,
                                  const ImageDataset* images, const NeuralTargetConfig& config, const Job& job) {
  const std::vector<float> trialPredictions = predictResponses(fitted, dataset, job.subJob(0.0, 0.4));
  NeuralTargetPlan plan;
  plan.weighting = neuronWeighting(dataset, evaluatePredictions(dataset, trialPredictions, Tier::Test), Tier::Test);
  plan.similarity.measure = config.measure;
  if (config.weighted) plan.similarity.unitWeights = plan.weighting.combined;
  plan.features = images ? predictedFeatures(fitted, *images, job.subJob(0.4, 0.6))
                         : predictedFeatures(dataset, trialPredictions, config.tier);
  if (config.check)
    plan.check = checkDenoising(dataset, trialPredictions, plan.similarity, Tier::Test, ComparisonMethod::Pearson,
                                job.subJob(0.6, 1.0));
  plan.provenance = {{"dataset", dataset.name},
                     {"dataset_path", dataset.sourcePath},
                     {"rows", plan.features.source},
                     {"weighting", config.weighted ? "reliability x prediction quality (w·v)" : "none"},
                     {"weighted_neurons", config.weighted ? plan.weighting.usedNeurons : dataset.neuronCount}};
  job.progress(1.0, "target planned: " + std::to_string(plan.features.rows) + " images");
  return plan;
}

NeuralCorpusTarget buildNeuralCorpusTarget(const std::vector<FittedNeuralModel>& fitted,
                                           const std::vector<const NeuralDataset*>& datasets,
                                           const ImageDataset* images, const NeuralTargetConfig& config,
                                           const Job& job) {
  if (fitted.empty() || fitted.size() != datasets.size())
    throw Error("a target needs one dataset per recording of the model: " + std::to_string(fitted.size()) +
                " recording(s), " + std::to_string(datasets.size()) + " dataset(s)");
  NeuralCorpusTarget target;
  std::vector<double> sum;
  const auto count = static_cast<double>(fitted.size());
  const NeuralDataset& first = *datasets.front();
  for (std::size_t r = 0; r < fitted.size(); ++r) {
    const Job part = job.subJob(static_cast<double>(r) / count, static_cast<double>(r + 1) / count);
    // Each recording's weights and check come from its own data.
    NeuralTargetPlan plan = planNeuralTarget(fitted[r], *datasets[r], images, config, part.subJob(0.0, 0.5));
    if (!images && r > 0) {
      // Without an image set the rows are the first recording's images, which every model predicts.
      if (fitted[r].normalization.pixelRange != fitted.front().normalization.pixelRange)
        throw Error("recording '" + datasets[r]->name + "' was fitted on another pixel range than '" + first.name +
                    "', whose images are the target's rows; give one image set for all (--images)");
      NeuralDataset rows;  // the first recording's trials, for this recording's neurons
      rows.name = first.name;
      rows.neuronCount = fitted[r].model->config().neuronCount;
      rows.tiers = first.tiers;
      rows.imageIds = first.imageIds;
      rows.imageClasses = first.imageClasses;
      plan.features = predictedFeatures(
          rows, predictResponses(fitted[r], first.images.data(), first.trialCount(), part.subJob(0.5, 0.6)), config.tier);
      plan.provenance["rows"] = plan.features.source;
    }
    if (plan.features.rows > kInMemorySimilarityLimit)
      throw Error("a target of several recordings is built in memory: " + std::to_string(plan.features.rows) +
                  " images is more than " + std::to_string(kInMemorySimilarityLimit));
    const SimilarityMatrix matrix = computeSimilarity(plan.features, plan.similarity, part.subJob(0.6, 1.0));
    if (r == 0) {
      target.matrix = matrix;
      sum.assign(matrix.values.begin(), matrix.values.end());
    } else {
      for (std::size_t i = 0; i < sum.size(); ++i) sum[i] += matrix.values[i];
    }
    target.plans.push_back(std::move(plan));
  }
  for (std::size_t i = 0; i < sum.size(); ++i) target.matrix.values[i] = static_cast<float>(sum[i] / count);
  // Each recording weighted its own neurons: the mean has no one set of unit weights.
  target.matrix.config.unitWeights.clear();
  nlohmann::json recordings = nlohmann::json::array();
  for (const auto& plan : target.plans) recordings.push_back(plan.provenance);
  target.matrix.provenance["neural_target"] = {{"mean_of_recordings", recordings},
                                               {"rows", target.plans.front().features.source}};
  return target;
}

}  // namespace bp
