// Several recordings, one model (Li et al.'s corpus): one core shared by a readout per recording,
// fitted on populations driven by the same images; their files, resume, the target as the mean of
// the recordings' matrices, and recordings brought to one image size.
// LibTorch comes before Qt: Qt's `slots` macro would break LibTorch headers that use the word.
#include <torch/utils.h>

#include "models/neural_model.h"
#include "test_registry.h"
#include "training/neural_target.h"
#include "training/neural_trainer.h"

#include <QtTest>

#include <numeric>

#include "data/dataset_io.h"
#include "data/default_data.h"
#include "data/recording_set.h"
#include "runtime/error.h"
#include "runtime/runtime.h"
#include "test_support.h"

using namespace bp;

namespace {

constexpr int kTrain = 150;
constexpr int kValidation = 50;
constexpr int kTest = 30;

// Populations of different neurons (their seeds) shown the same Fashion-MNIST images: each seed
// deals the same images out to its own tiers.
std::vector<NeuralDataset> populationsOfTheSameImages(const std::vector<std::uint64_t>& seeds) {
  ImageLoadOptions load;
  load.maxImages = kTrain + kValidation + kTest;
  const ImageDataset images = loadImageDataset(defaultImageSourcePath(), load, "train");
  std::vector<NeuralDataset> populations;
  for (const auto seed : seeds) {
    SyntheticV1Config config;
    config.neuronCount = 40;
    config.trainImages = kTrain;
    config.validationImages = kValidation;
    config.testImages = kTest;
    config.testRepeats = 5;
    config.seed = seed;
    populations.push_back(generateSyntheticV1(images, config).dataset);
    populations.back().name = "population " + std::to_string(seed);
  }
  return populations;
}

std::vector<const NeuralDataset*> pointersTo(const std::vector<NeuralDataset>& datasets) {
  std::vector<const NeuralDataset*> pointers;
  for (const auto& dataset : datasets) pointers.push_back(&dataset);
  return pointers;
}

NeuralModelConfig smallModel() {
  NeuralModelConfig model;
  model.kernelSizes = {9, 5};
  model.channels = {8, 8};
  return model;
}

NeuralTrainerConfig training(int epochs) {
  NeuralTrainerConfig trainer;
  trainer.maxEpochs = epochs;
  trainer.batchSize = 16;
  trainer.learningRate = 1e-2;
  trainer.seed = 3;
  return trainer;
}

double testCorrelation(const FittedNeuralModel& fitted, const NeuralDataset& dataset) {
  return evaluateNeuralModel(fitted, dataset, Tier::Test).meanAverageCorrelation;
}

void compareWeights(const FittedNeuralModel& a, const FittedNeuralModel& b) {
  const auto left = a.model->parameters();
  const auto right = b.model->parameters();
  QCOMPARE(left.size(), right.size());
  for (std::size_t i = 0; i < left.size(); ++i) QVERIFY(torch::equal(left[i], right[i]));
}

}  // namespace

class TestNeuralCorpus : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() {
    initializeRuntime();
    populations_ = populationsOfTheSameImages({1, 2, 3});
  }

  void populationsOfTheSameImagesFitBetterTogetherThanAlone() {
    // The same passes over every recording's train trials, alone and together: on 150 train images
    // the shared core learns from three times the responses (docs/results.md states the figures).
    double alone = 0.0;
    for (const auto& population : populations_)
      alone += testCorrelation(fitNeuralModel(population, smallModel(), training(30)).fitted.front(), population);
    alone /= static_cast<double>(populations_.size());
    const NeuralFitResult joint = fitNeuralModel(pointersTo(populations_), smallModel(), training(30));
    QCOMPARE(joint.fitted.size(), populations_.size());
    double together = 0.0;
    for (std::size_t r = 0; r < populations_.size(); ++r) {
      QCOMPARE(joint.fitted[r].recording, populations_[r].name);
      QCOMPARE(joint.fitted[r].model->config().neuronCount, populations_[r].neuronCount);
      together += testCorrelation(joint.fitted[r], populations_[r]);
    }
    together /= static_cast<double>(populations_.size());
    qInfo("mean test correlation: %.3f alone, %.3f together", alone, together);
    QVERIFY2(together > alone + 0.005, qPrintable(QStringLiteral("together %1, alone %2").arg(together).arg(alone)));

    // One core: the same tensors in every recording's model; a readout each.
    const auto core = joint.fitted[0].model->stackedCore()->parameters();
    const auto other = joint.fitted[2].model->stackedCore()->parameters();
    for (std::size_t i = 0; i < core.size(); ++i) QCOMPARE(core[i].data_ptr(), other[i].data_ptr());
    QVERIFY(joint.fitted[0].model->recordingParameters().front().data_ptr() !=
            joint.fitted[1].model->recordingParameters().front().data_ptr());
    // Every epoch reports each recording's validation correlation and their mean.
    const auto& report = joint.history.back();
    QCOMPARE(report.recordingCorrelations.size(), populations_.size());
    const double mean = std::accumulate(report.recordingCorrelations.begin(), report.recordingCorrelations.end(), 0.0) /
                        static_cast<double>(populations_.size());
    QVERIFY(std::abs(report.validationCorrelation - mean) < 1e-12);
  }

  void aModelOfSeveralRecordingsSavesLoadsAndResumesExactly() {
    test::ScratchDir scratch;
    std::vector<const NeuralDataset*> recordings = {&populations_[0], &populations_[1]};
    const NeuralFitResult whole = fitNeuralModel(recordings, smallModel(), training(4));

    // Stopped after 2 epochs and resumed: the weights an uninterrupted fit reaches.
    NeuralFitControl control;
    control.checkpoint = scratch / "corpus.checkpoint";
    fitNeuralModel(recordings, smallModel(), training(2), {}, {}, control);
    control.resume = true;
    const NeuralFitResult resumed = fitNeuralModel(recordings, smallModel(), training(4), {}, {}, control);
    QCOMPARE(resumed.resumedAfterEpoch, 2);
    for (std::size_t r = 0; r < 2; ++r) compareWeights(resumed.fitted[r], whole.fitted[r]);
    // A checkpoint of other recordings is refused by name.
    std::vector<const NeuralDataset*> others = {&populations_[0], &populations_[2]};
    QVERIFY_THROWS_EXCEPTION(FileError, fitNeuralModel(others, smallModel(), training(4), {}, {}, control));

    const auto file = scratch / "corpus.pt";
    saveNeuralModels(whole.fitted, file);
    const std::vector<FittedNeuralModel> loaded = loadNeuralModels(file);
    QCOMPARE(loaded.size(), std::size_t(2));
    for (std::size_t r = 0; r < 2; ++r) {
      QCOMPARE(loaded[r].recording, populations_[r].name);
      QCOMPARE(predictResponses(loaded[r], populations_[r]), predictResponses(whole.fitted[r], populations_[r]));
    }
    QCOMPARE(loaded[1].model->stackedCore()->parameters().front().data_ptr(),
             loaded[0].model->stackedCore()->parameters().front().data_ptr());
    try {
      loadNeuralModel(file);
      QFAIL("a model of two recordings loaded as one");
    } catch (const FileError& error) {
      QVERIFY2(std::string(error.what()).find("2 recordings") != std::string::npos, error.what());
    }
    // A one-recording file is the format it always was, and loads both ways.
    saveNeuralModels({whole.fitted.front()}, scratch / "one.pt");
    QCOMPARE(loadNeuralModels(scratch / "one.pt").size(), std::size_t(1));
    loadNeuralModel(scratch / "one.pt");
  }

  void theTargetOfSeveralRecordingsIsTheMeanOfTheirMatrices() {
    std::vector<const NeuralDataset*> recordings = {&populations_[0], &populations_[1]};
    const NeuralFitResult fit = fitNeuralModel(recordings, smallModel(), training(3));
    ImageLoadOptions load = modelInputOptions(fit.fitted.front());
    load.maxImages = 60;
    const ImageDataset images = loadImageDataset(defaultImageSourcePath(), load, "test");
    NeuralTargetConfig config;
    config.check = true;
    const NeuralCorpusTarget target = buildNeuralCorpusTarget(fit.fitted, recordings, &images, config);

    // By hand: each recording's weighted matrix over the images, then the element-wise mean.
    std::vector<SimilarityMatrix> each;
    for (std::size_t r = 0; r < 2; ++r) {
      const NeuralTargetPlan plan = planNeuralTarget(fit.fitted[r], *recordings[r], &images, config);
      QVERIFY(!plan.similarity.unitWeights.empty());
      each.push_back(computeSimilarity(plan.features, plan.similarity));
    }
    QCOMPARE(target.matrix.size, std::int64_t(60));
    QCOMPARE(target.matrix.imageIds, each[0].imageIds);
    for (std::size_t i = 0; i < target.matrix.values.size(); ++i)
      QVERIFY(std::abs(target.matrix.values[i] - 0.5f * (each[0].values[i] + each[1].values[i])) < 1e-6f);
    QVERIFY(each[0].values != each[1].values);  // two recordings, two different matrices
    QCOMPARE(target.plans.size(), std::size_t(2));
    QVERIFY(target.plans[1].check.has_value());
    QCOMPARE(target.matrix.provenance["neural_target"]["mean_of_recordings"].size(), std::size_t(2));

    // Without an image set, over the first recording's test images, which both models predict.
    config.tier = Tier::Test;
    const NeuralCorpusTarget own = buildNeuralCorpusTarget(fit.fitted, recordings, nullptr, config);
    QCOMPARE(own.matrix.size, std::int64_t(kTest));
    QCOMPARE(own.matrix.imageIds, planNeuralTarget(fit.fitted[0], *recordings[0], nullptr, config).features.imageIds);
  }

  void recordingsAreBroughtToOneImageSizeAndTold() {
    std::vector<NeuralDataset> recordings = {populations_[0], populations_[1]};
    // The second recording at half the size, with a constant image.
    NeuralDataset& small = recordings[1];
    std::vector<float> shrunk;
    for (std::int64_t t = 0; t < small.trialCount(); ++t)
      for (int y = 0; y < small.height; y += 2)
        for (int x = 0; x < small.width; x += 2) shrunk.push_back(t == 0 ? 7.0f : small.image(t)[y * small.width + x]);
    small.images = shrunk;
    small.height /= 2;
    small.width /= 2;
    small.validate();
    const auto told = bringToOneImageSize(recordings);
    QCOMPARE(told.size(), std::size_t(1));
    QVERIFY2(told.front().find("14x14 to 28x28") != std::string::npos, told.front().c_str());
    QCOMPARE(small.height, 28);
    QCOMPARE(small.width, 28);
    small.validate();
    for (std::int64_t p = 0; p < small.imageSize(); ++p) QCOMPARE(small.image(0)[p], 7.0f);
    fitNeuralModel(pointersTo(recordings), smallModel(), training(1));

    recordings[1].channels = 2;
    recordings[1].images.resize(recordings[1].images.size() * 2);
    QVERIFY_THROWS_EXCEPTION(Error, bringToOneImageSize(recordings));

    // Recordings of one name are told apart.
    std::vector<NeuralDataset> named(3, populations_[0]);
    named[0].sourcePath = "/data/a.h5";
    named[1].sourcePath = "/data/b.h5";
    named[2].sourcePath = "/data/b.h5";
    giveDistinctNames(named);
    QCOMPARE(named[0].name, std::string("population 1 (a.h5)"));
    QCOMPARE(named[1].name, std::string("population 1 (b.h5) #1"));
    QCOMPARE(named[2].name, std::string("population 1 (b.h5) #2"));
  }

 private:
  std::vector<NeuralDataset> populations_;
};

BRAINPRIOR_TEST_CLASS(TestNeuralCorpus)
#include "test_neural_corpus.moc"
