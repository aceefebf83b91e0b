// The shifter and the modulator (neuralpredictors; Sinz et al. 2018) on populations whose responses
// depend on where the eye looked and on what the animal did, in known ways: each one predicts
// single trials better than the same model without it, and both survive a save and a load.
// LibTorch comes before Qt: Qt's `slots` macro would break LibTorch headers that use the word.
#include <torch/utils.h>

#include "models/neural_model.h"
#include "test_registry.h"
#include "training/neural_trainer.h"

#include <QtTest>

#include <cmath>
#include <random>

#include "data/dataset_io.h"
#include "data/default_data.h"
#include "measures/correlation.h"
#include "runtime/error.h"
#include "runtime/runtime.h"
#include "test_support.h"

using namespace bp;

namespace {

SyntheticV1Config population() {
  SyntheticV1Config config;
  config.neuronCount = 30;
  config.trainImages = 500;
  config.validationImages = 100;
  config.testImages = 30;
  config.testRepeats = 6;
  config.meanRate = 1.0;
  return config;
}

NeuralModelConfig smallModel() {
  NeuralModelConfig model;
  model.kernelSizes = {9, 5};
  model.channels = {8, 8};
  return model;
}

NeuralTrainerConfig training() {
  NeuralTrainerConfig trainer;
  trainer.maxEpochs = 25;
  trainer.batchSize = 32;
  trainer.learningRate = 1e-2;
  trainer.seed = 2;
  return trainer;
}

// The source images moved `dx` pixels to the right (edge pixels repeated).
ImageDataset shifted(const ImageDataset& source, int dx) {
  ImageDataset moved = source;
  for (std::int64_t i = 0; i < source.imageCount(); ++i)
    for (int y = 0; y < source.height; ++y)
      for (int x = 0; x < source.width; ++x) {
        const int from = std::clamp(x - dx, 0, source.width - 1);
        moved.pixels[static_cast<std::size_t>((i * source.height + y) * source.width + x)] =
            source.pixels[static_cast<std::size_t>((i * source.height + y) * source.width + from)];
      }
  return moved;
}

double singleTrialCorrelation(const NeuralFitResult& fit, const NeuralDataset& dataset) {
  return evaluateNeuralModel(fit.fitted.front(), dataset, Tier::Test).meanSingleTrialCorrelation;
}

// Mean over neurons of Pearson r between the prediction and the noise-free rate, over test trials.
double truthCorrelation(const NeuralFitResult& fit, const NeuralDataset& dataset) {
  const std::vector<float> predictions = predictResponses(fit.fitted.front(), dataset);
  const std::vector<std::int64_t> test = dataset.trialsOf(Tier::Test);
  double sum = 0.0;
  int counted = 0;
  for (std::int64_t n = 0; n < dataset.neuronCount; ++n) {
    std::vector<float> predicted, truth;
    for (const auto t : test) {
      predicted.push_back(predictions[static_cast<std::size_t>(t * dataset.neuronCount + n)]);
      truth.push_back(dataset.noiseFreeRates[static_cast<std::size_t>(t * dataset.neuronCount + n)]);
    }
    const double r = pearson(predicted.data(), truth.data(), static_cast<std::int64_t>(truth.size()));
    if (std::isfinite(r)) {
      sum += r;
      ++counted;
    }
  }
  return sum / counted;
}

}  // namespace

class TestShifterModulator : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() { initializeRuntime(); }

  void theModulatorLearnsAGainFromRunning() {
    // Responses drawn again at the noise-free rate times a gain that grows with running speed.
    NeuralDataset dataset = generateDefaultDataset(population()).dataset;
    std::mt19937 random(11);
    std::normal_distribution<float> normal;
    dataset.behavior.resize(static_cast<std::size_t>(dataset.trialCount() * 3));
    for (std::int64_t t = 0; t < dataset.trialCount(); ++t) {
      float* behavior = dataset.behavior.data() + t * 3;
      for (int k = 0; k < 3; ++k) behavior[k] = 4.0f + 2.0f * normal(random);
      const double gain = std::exp(0.5 * (behavior[2] - 4.0) / 2.0);
      for (std::int64_t n = 0; n < dataset.neuronCount; ++n) {
        const auto index = static_cast<std::size_t>(t * dataset.neuronCount + n);
        std::poisson_distribution<int> poisson(std::max(1e-6, dataset.noiseFreeRates[index] * gain));
        dataset.responses[index] = static_cast<float>(poisson(random));
      }
    }
    NeuralModelConfig modulated = smallModel();
    modulated.modulator = true;
    const NeuralFitResult without = fitNeuralModel(dataset, smallModel(), training());
    const NeuralFitResult with = fitNeuralModel(dataset, modulated, training());
    const double plain = singleTrialCorrelation(without, dataset);
    const double gained = singleTrialCorrelation(with, dataset);
    qInfo("test single-trial correlation: %.3f without the modulator, %.3f with it", plain, gained);
    QVERIFY2(gained > plain + 0.02, qPrintable(QStringLiteral("%1 vs %2").arg(gained).arg(plain)));

    // Saved and loaded, it predicts the same; without behaviour it predicts the mean animal's.
    test::ScratchDir scratch;
    saveNeuralModel(with.fitted.front(), scratch / "modulated.pt");
    const FittedNeuralModel loaded = loadNeuralModel(scratch / "modulated.pt");
    QCOMPARE(loaded.normalization.behaviorMean.size(), std::size_t(3));
    QCOMPARE(predictResponses(loaded, dataset), predictResponses(with.fitted.front(), dataset));
    NeuralDataset still = dataset;
    still.behavior.clear();
    QVERIFY(predictResponses(loaded, still) != predictResponses(loaded, dataset));
    // A dataset without behaviour cannot be fitted with a modulator.
    QVERIFY_THROWS_EXCEPTION(Error, fitNeuralModel(still, modulated, training()));
  }

  void theShifterLearnsWhereTheEyeLooked() {
    // The same neurons (one seed) seeing the images moved 3 pixels left or right, as an eye that
    // looked right or left would see them: each trial takes one of the two, and its pupil centre says which.
    ImageLoadOptions load;
    const SyntheticV1Config config = population();
    load.maxImages = config.trainImages + config.validationImages + config.testImages;
    const ImageDataset images = loadImageDataset(defaultImageSourcePath(), load, "train");
    const NeuralDataset left = generateSyntheticV1(shifted(images, -3), config).dataset;
    const NeuralDataset right = generateSyntheticV1(shifted(images, 3), config).dataset;
    NeuralDataset dataset = generateSyntheticV1(images, config).dataset;
    QCOMPARE(left.imageIds, dataset.imageIds);
    std::mt19937 random(5);
    std::bernoulli_distribution side;
    dataset.pupilCenter.resize(static_cast<std::size_t>(dataset.trialCount() * 2));
    for (std::int64_t t = 0; t < dataset.trialCount(); ++t) {
      const bool toRight = side(random);
      dataset.pupilCenter[static_cast<std::size_t>(t * 2)] = toRight ? 1.0f : -1.0f;
      dataset.pupilCenter[static_cast<std::size_t>(t * 2 + 1)] = 0.0f;
      const NeuralDataset& seen = toRight ? right : left;
      std::copy_n(seen.response(t), dataset.neuronCount, dataset.responses.begin() + t * dataset.neuronCount);
      std::copy_n(seen.noiseFreeRates.begin() + t * dataset.neuronCount, dataset.neuronCount,
                  dataset.noiseFreeRates.begin() + t * dataset.neuronCount);
    }
    NeuralModelConfig shifting = smallModel();
    shifting.shifter = true;
    const NeuralFitResult without = fitNeuralModel(dataset, smallModel(), training());
    const NeuralFitResult with = fitNeuralModel(dataset, shifting, training());
    // Against the rates the neurons had on each trial (the version the eye saw), free of noise.
    const double plain = truthCorrelation(without, dataset);
    const double followed = truthCorrelation(with, dataset);
    qInfo("test correlation with the noise-free rates: %.3f without the shifter, %.3f with it", plain, followed);
    QVERIFY2(followed > plain + 0.02, qPrintable(QStringLiteral("%1 vs %2").arg(followed).arg(plain)));

    NeuralModelConfig factorized = shifting;
    factorized.readout = ReadoutKind::Factorized;
    QVERIFY_THROWS_EXCEPTION(Error, fitNeuralModel(dataset, factorized, training()));
  }
};

BRAINPRIOR_TEST_CLASS(TestShifterModulator)
#include "test_shifter_modulator.moc"
