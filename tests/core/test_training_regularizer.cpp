// Each regularizer of the classifier training loop alone: the batch loss it returns for one batch,
// against the same loss written out from its parts (docs/science.md §1 step 5, §2), its per-pixel
// maps, its image perturbation, its reproducible pair draws, and its refusals.
// LibTorch comes before Qt: Qt's `slots` macro would break LibTorch headers that use the word.
#include <torch/nn/functional/loss.h>
#include <torch/utils.h>

#include "classifiers/harmonization.h"
#include "classifiers/similarity_regularizer.h"
#include "classifiers/training_regularizer.h"
#include "runtime/random.h"
#include "test_registry.h"

#include <QtTest>

#include "runtime/error.h"
#include "runtime/runtime.h"

using namespace bp;

namespace {

namespace F = torch::nn::functional;

constexpr std::int64_t kTrainImages = 8;
constexpr std::int64_t kSide = 12;
constexpr std::int64_t kTargetImages = 6;

ClassifierTrainingConfig smallConfig(RegularizerKind kind) {
  ClassifierTrainingConfig config;
  config.model.architecture = ClassifierArchitecture::SmallResNet;
  config.model.width = 4;
  config.model.classCount = 3;
  config.regularizer.kind = kind;
  config.regularizer.alpha = 2.5;
  config.regularizer.pairBatchSize = 4;
  config.regularizer.noiseSigma = 0.2;
  config.regularizer.harmonization.weight = 0.7;
  config.regularizer.harmonization.labelSmoothing = 0.1;
  config.regularizer.harmonization.pyramidLevels = 2;
  return config;
}

// Random train images and labels, a random symmetric target over other images, and importance maps
// for the first half of the train images.
ClassifierTrainingData smallData() {
  torch::manual_seed(7);
  ClassifierTrainingData data;
  data.trainImages = torch::rand({kTrainImages, 1, kSide, kSide});
  data.trainLabels = torch::randint(0, 3, {kTrainImages}, torch::kLong);
  RegularizationTarget target;
  target.images = torch::rand({kTargetImages, 1, kSide, kSide});
  const torch::Tensor raw = torch::rand({kTargetImages, kTargetImages}) * 1.6 - 0.8;
  target.similarity = (raw + raw.t()) / 2;
  target.similarity.fill_diagonal_(1.0);
  data.target = target;
  ImportanceMaps maps;
  maps.maps = torch::rand({kTrainImages, kSide, kSide});
  maps.present = torch::cat({torch::ones({kTrainImages / 2}), torch::zeros({kTrainImages / 2})});
  data.importanceMaps = maps;
  return data;
}

TrainingBatch batchOf(const ClassifierTrainingData& data, const TrainingRegularizer& regularizer,
                      std::vector<std::int64_t> rows) {
  TrainingBatch batch;
  batch.rows = torch::tensor(rows, torch::kLong);
  batch.images = data.trainImages.index_select(0, batch.rows);
  batch.labels = data.trainLabels.index_select(0, batch.rows);
  batch.maps = regularizer.pixelMaps(batch.rows);
  return batch;
}

double value(const torch::Tensor& tensor) { return tensor.item<double>(); }

}  // namespace

class TestTrainingRegularizer : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() { initializeRuntime(); }

  void noneIsPlainCrossEntropy() {
    const ClassifierTrainingData data = smallData();
    const ClassifierTrainingConfig config = smallConfig(RegularizerKind::None);
    Classifier model(config.model);
    auto regularizer = makeTrainingRegularizer(config, data, model, torch::kCPU);
    QVERIFY(regularizer->module() == nullptr);
    QVERIFY(regularizer->gammaValues().empty());
    const TrainingBatch batch = batchOf(data, *regularizer, {0, 1, 2, 3});
    QVERIFY(!batch.maps.defined());
    torch::Tensor images = batch.images.clone();
    regularizer->perturbImages(images);
    QVERIFY(torch::equal(images, batch.images));

    model->eval();
    const StepLoss step = regularizer->loss(model, batch);
    QVERIFY(!step.regularization.defined());
    const double expected = value(F::cross_entropy(model->forward(batch.images), batch.labels));
    QCOMPARE(value(step.classification), expected);
    QCOMPARE(value(step.total), expected);
  }

  void noiseAugmentationPerturbsWithinRange() {
    const ClassifierTrainingData data = smallData();
    const ClassifierTrainingConfig config = smallConfig(RegularizerKind::GaussianNoiseAugmentation);
    Classifier model(config.model);
    auto regularizer = makeTrainingRegularizer(config, data, model, torch::kCPU);
    const TrainingBatch batch = batchOf(data, *regularizer, {0, 1, 2, 3});
    torch::Tensor first = batch.images.clone();
    torch::Tensor second = batch.images.clone();
    torch::manual_seed(3);
    regularizer->perturbImages(first);
    torch::manual_seed(3);
    regularizer->perturbImages(second);
    QVERIFY(torch::equal(first, second));  // from torch's generator: the loop's epoch seed fixes it
    QVERIFY(!torch::equal(first, batch.images));
    QVERIFY(value(first.min()) >= 0.0);
    QVERIFY(value(first.max()) <= 1.0);
    // Away from the clamp, the change is N(0, sigma^2): its standard deviation is near sigma.
    const torch::Tensor change = (first - batch.images).flatten();
    const torch::Tensor interior = (first > 0) & (first < 1);
    const double deviation = value(change.masked_select(interior.flatten()).std());
    QVERIFY2(std::abs(deviation - 0.2) < 0.05, qPrintable(QString::number(deviation)));
    // The loss is plain cross-entropy on the (perturbed) batch.
    model->eval();
    const StepLoss step = regularizer->loss(model, batch);
    QVERIFY(!step.regularization.defined());
    QCOMPARE(value(step.total), value(F::cross_entropy(model->forward(batch.images), batch.labels)));
  }

  void neuralSimilarityAddsAlphaTimesItsPairLoss() {
    const ClassifierTrainingData data = smallData();
    const ClassifierTrainingConfig config = smallConfig(RegularizerKind::NeuralSimilarity);
    Classifier model(config.model);
    auto regularizer = makeTrainingRegularizer(config, data, model, torch::kCPU);
    QVERIFY(regularizer->module() != nullptr);
    QCOMPARE(regularizer->gammaValues().size(), model->tapChannels().size());
    // In evaluation mode the running means stay put, so the same epoch's draws give the same loss.
    model->eval();
    regularizer->module()->eval();
    const TrainingBatch batch = batchOf(data, *regularizer, {0, 1, 2, 3});
    regularizer->beginEpoch(11, 2);
    const StepLoss step = regularizer->loss(model, batch);
    QVERIFY(step.regularization.defined());
    QVERIFY(value(step.regularization) >= 0.0);
    // float32 arithmetic: equal to the precision of the loss
    QVERIFY(std::abs(value(step.total) - (value(step.classification) + 2.5 * value(step.regularization))) < 1e-5);
    QCOMPARE(value(step.classification), value(F::cross_entropy(model->forward(batch.images), batch.labels)));

    // The pairs are drawn from the run's pair stream of that epoch: P pairs of two different target
    // images. Drawn again by hand here, through an untrained regularizer of the same shape.
    RandomStream draws(11, (2ULL << 32) + 2);
    std::vector<std::int64_t> first;
    std::vector<std::int64_t> second;
    for (int p = 0; p < config.regularizer.pairBatchSize; ++p) {
      const auto a = static_cast<std::int64_t>(draws.below(kTargetImages));
      auto b = static_cast<std::int64_t>(draws.below(kTargetImages - 1));
      if (b >= a) ++b;
      first.push_back(a);
      second.push_back(b);
    }
    std::vector<std::int64_t> both = first;
    both.insert(both.end(), second.begin(), second.end());
    SimilarityRegularizer reference(model->tapChannels(), config.regularizer.similarity);
    reference->eval();
    const torch::Tensor pairImages = data.target->images.index_select(0, torch::tensor(both, torch::kLong));
    const torch::Tensor targets =
        data.target->similarity.index({torch::tensor(first, torch::kLong), torch::tensor(second, torch::kLong)});
    const double expected = value(reference->forward(model->forwardWithTaps(pairImages).taps, targets));
    QVERIFY2(std::abs(value(step.regularization) - expected) < 1e-6,
             qPrintable(QString("%1 vs %2").arg(value(step.regularization)).arg(expected)));

    // The same epoch repeats its draws; another epoch draws other pairs.
    regularizer->beginEpoch(11, 2);
    QCOMPARE(value(regularizer->loss(model, batch).regularization), value(step.regularization));
    regularizer->beginEpoch(11, 3);
    QVERIFY(value(regularizer->loss(model, batch).regularization) != value(step.regularization));
  }

  void harmonizationUsesTheMapsOfItsImages() {
    const ClassifierTrainingData data = smallData();
    const ClassifierTrainingConfig config = smallConfig(RegularizerKind::Harmonization);
    Classifier model(config.model);
    auto regularizer = makeTrainingRegularizer(config, data, model, torch::kCPU);
    QVERIFY(regularizer->module() == nullptr);
    model->eval();
    // Rows 1 and 2 have maps; the maps travel with their rows.
    const TrainingBatch withMaps = batchOf(data, *regularizer, {1, 2});
    QVERIFY(torch::equal(withMaps.maps, data.importanceMaps->maps.index_select(0, withMaps.rows)));
    const StepLoss step = regularizer->loss(model, withMaps);
    const Saliency saliency = computeSaliency(model, withMaps.images, withMaps.labels, /*createGraph=*/true);
    const double harmonization =
        value(harmonizationLoss(saliency.maps, withMaps.maps, torch::ones({2}), config.regularizer.harmonization.pyramidLevels));
    const double classification = value(F::cross_entropy(
        saliency.logits, withMaps.labels, F::CrossEntropyFuncOptions().label_smoothing(0.1)));
    QVERIFY(harmonization > 0.0);
    QVERIFY(std::abs(value(step.regularization) - harmonization) < 1e-6);
    QVERIFY(std::abs(value(step.classification) - classification) < 1e-6);
    QVERIFY(std::abs(value(step.total) - (classification + 0.7 * harmonization)) < 1e-6);
    // Rows 5 and 6 have no map: no harmonization loss.
    const StepLoss without = regularizer->loss(model, batchOf(data, *regularizer, {5, 6}));
    QCOMPARE(value(without.regularization), 0.0);
  }

  void refusesMissingInputs() {
    ClassifierTrainingData data = smallData();
    data.target.reset();
    data.importanceMaps.reset();
    const ClassifierTrainingConfig neural = smallConfig(RegularizerKind::NeuralSimilarity);
    Classifier model(neural.model);
    QVERIFY_THROWS_EXCEPTION(Error, makeTrainingRegularizer(neural, data, model, torch::kCPU));
    QVERIFY_THROWS_EXCEPTION(Error,
                             makeTrainingRegularizer(smallConfig(RegularizerKind::Harmonization), data, model, torch::kCPU));
  }
};

BRAINPRIOR_TEST_CLASS(TestTrainingRegularizer)
#include "test_training_regularizer.moc"
