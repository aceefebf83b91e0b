#include "classifiers/training_regularizer.h"

#include <torch/nn/functional/loss.h>
#include <torch/utils.h>

#include "classifiers/harmonization.h"
#include "classifiers/similarity_regularizer.h"
#include "distributed/data_parallel_group.h"
#include "runtime/error.h"
#include "runtime/random.h"

namespace bp {

namespace {

namespace F = torch::nn::functional;

// The random stream of the pair draws of one run (kept from the single-loop trainer, so runs and
// checkpoints stay reproducible across versions).
constexpr std::uint64_t kPairStream = 2ULL << 32;

torch::Tensor crossEntropy(const torch::Tensor& logits, const torch::Tensor& labels, double labelSmoothing = 0.0) {
  return F::cross_entropy(logits, labels, F::CrossEntropyFuncOptions().label_smoothing(labelSmoothing));
}

class PlainClassification : public TrainingRegularizer {
 public:
  StepLoss loss(Classifier& model, const TrainingBatch& batch) override {
    StepLoss step;
    step.logits = model->forward(batch.images);
    step.classification = crossEntropy(step.logits, batch.labels) * batch.share;
    step.total = step.classification;
    return step;
  }
};

class GaussianNoiseAugmentation : public PlainClassification {
 public:
  explicit GaussianNoiseAugmentation(double sigma) : sigma_(sigma) {}
  void perturbImages(torch::Tensor& images) const override {
    if (sigma_ > 0.0) images = (images + sigma_ * torch::randn_like(images)).clamp(0.0, 1.0);
  }

 private:
  double sigma_;
};

class NeuralSimilarityTerm : public TrainingRegularizer {
 public:
  NeuralSimilarityTerm(const RegularizerConfig& config, const RegularizationTarget& target, Classifier& model,
                       const torch::Device& device)
      : alpha_(config.alpha),
        pairs_(config.pairBatchSize),
        target_(target),
        targetSimilarity_(target.similarity.to(device)),
        device_(device),
        regularizer_(model->tapChannels(), config.similarity) {
    regularizer_->to(device);
  }

  torch::nn::Module* module() override { return regularizer_.get(); }
  void beginEpoch(std::uint64_t seed, int epoch) override {
    pairDraws_ = RandomStream(seed, kPairStream + static_cast<std::uint64_t>(epoch));
  }

  StepLoss loss(Classifier& model, const TrainingBatch& batch) override {
    StepLoss step;
    step.logits = model->forward(batch.images);
    step.classification = crossEntropy(step.logits, batch.labels) * batch.share;
    // The pair batch: P pairs of two different target images, drawn uniformly (by every rank alike;
    // each sends its share of the pairs through the model).
    const std::int64_t targetSize = target_.size();
    std::vector<std::int64_t> first(static_cast<std::size_t>(pairs_));
    std::vector<std::int64_t> second(static_cast<std::size_t>(pairs_));
    for (std::int64_t p = 0; p < pairs_; ++p) {
      const auto a = static_cast<std::int64_t>(pairDraws_.below(static_cast<std::uint64_t>(targetSize)));
      auto b = static_cast<std::int64_t>(pairDraws_.below(static_cast<std::uint64_t>(targetSize - 1)));
      if (b >= a) ++b;
      first[static_cast<std::size_t>(p)] = a;
      second[static_cast<std::size_t>(p)] = b;
    }
    const DataParallelGroup* group = currentDataParallelGroup();
    const RowShare share = group ? rowShare(pairs_, group->rank(), group->size()) : RowShare{0, pairs_};
    first = {first.begin() + share.begin, first.begin() + share.end};
    second = {second.begin() + share.begin, second.begin() + share.end};
    std::vector<std::int64_t> both = first;
    both.insert(both.end(), second.begin(), second.end());
    const torch::Tensor pairImages = target_.images.index_select(0, torch::tensor(both, torch::kLong)).to(device_);
    const torch::Tensor rows = torch::tensor(first, torch::kLong).to(device_);
    const torch::Tensor columns = torch::tensor(second, torch::kLong).to(device_);
    const torch::Tensor targets = targetSimilarity_.index({rows, columns});
    step.regularization = regularizer_->forward(model->forwardWithTaps(pairImages).taps, targets) *
                          (static_cast<double>(share.end - share.begin) / static_cast<double>(pairs_));
    step.total = step.classification + alpha_ * step.regularization;
    return step;
  }

  std::vector<double> gammaValues() const override { return regularizer_->gammaValues(); }

 private:
  double alpha_;
  std::int64_t pairs_;
  const RegularizationTarget& target_;
  torch::Tensor targetSimilarity_;  // on the device: looked up every step
  torch::Device device_;
  SimilarityRegularizer regularizer_;
  RandomStream pairDraws_{0, kPairStream};
};

class HarmonizationTerm : public TrainingRegularizer {
 public:
  HarmonizationTerm(const HarmonizationConfig& config, const ImportanceMaps& maps) : config_(config), maps_(maps) {}

  torch::Tensor pixelMaps(const torch::Tensor& rows) const override { return maps_.maps.index_select(0, rows); }

  StepLoss loss(Classifier& model, const TrainingBatch& batch) override {
    StepLoss step;
    const Saliency saliency = computeSaliency(model, batch.images, batch.labels, /*createGraph=*/true);
    step.logits = saliency.logits;
    const torch::Tensor present = maps_.present.index_select(0, batch.rows).to(batch.images.device());
    step.regularization =
        harmonizationLoss(saliency.maps, batch.maps, present, config_.pyramidLevels) * batch.share;
    step.classification = crossEntropy(step.logits, batch.labels, config_.labelSmoothing) * batch.share;
    step.total = step.classification + config_.weight * step.regularization;
    return step;
  }

 private:
  HarmonizationConfig config_;
  const ImportanceMaps& maps_;
};

}  // namespace

std::unique_ptr<TrainingRegularizer> makeTrainingRegularizer(const ClassifierTrainingConfig& config,
                                                             const ClassifierTrainingData& data, Classifier& model,
                                                             const torch::Device& device) {
  const RegularizerConfig& regularizer = config.regularizer;
  switch (regularizer.kind) {
    case RegularizerKind::None:
      return std::make_unique<PlainClassification>();
    case RegularizerKind::GaussianNoiseAugmentation:
      return std::make_unique<GaussianNoiseAugmentation>(regularizer.noiseSigma);
    case RegularizerKind::NeuralSimilarity:
      if (!data.target || data.target->size() < 2)
        throw Error("classifier training: the neural-similarity regularizer needs a target of at least 2 images");
      return std::make_unique<NeuralSimilarityTerm>(regularizer, *data.target, model, device);
    case RegularizerKind::Harmonization: {
      const std::int64_t trainCount = data.trainImages.defined() ? data.trainImages.size(0) : 0;
      if (!data.importanceMaps || data.importanceMaps->maps.size(0) != trainCount)
        throw Error("classifier training: harmonization needs one importance map row per train image");
      return std::make_unique<HarmonizationTerm>(regularizer.harmonization, *data.importanceMaps);
    }
  }
  throw Error("classifier training: unknown regularizer");
}

}  // namespace bp
