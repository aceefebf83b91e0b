// Predictive models of neurons: module shapes and gradients, the Poisson loss, checkpoints, and a
// short fit on the synthetic population that must denoise single trials.
// LibTorch comes before Qt: Qt's `slots` macro would break LibTorch headers that use the word.
#include <torch/utils.h>

#include "models/neural_model.h"
#include "test_registry.h"
#include "training/neural_trainer.h"

#include <QtTest>

#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>

#include "data/default_data.h"
#include "measures/correlation.h"
#include "runtime/error.h"
#include "runtime/runtime.h"
#include "neural_model_checks.h"
#include "test_support.h"

using namespace bp;

namespace {

NeuralModelConfig smallConfig(ReadoutKind readout) {
  NeuralModelConfig config;
  config.inputChannels = 1;
  config.inputHeight = 16;
  config.inputWidth = 24;
  config.neuronCount = 5;
  config.kernelSizes = {5, 3, 3};
  config.channels = {4, 6, 3};
  config.readout = readout;
  config.groupSparsityPenalty = 0.1;
  return config;
}

}  // namespace

class TestNeuralModel : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() { initializeRuntime(); }

  void gaussianReadoutModelHasShapesAndGradients() {
    NeuralModel model(smallConfig(ReadoutKind::Gaussian));
    QVERIFY(!model->gaussianReadout().is_empty());
    QVERIFY(model->factorizedReadout().is_empty());
    test::verifyEveryParameterLearns(model, 16, 24);
  }

  void factorizedReadoutModelHasShapesAndGradients() {
    NeuralModel model(smallConfig(ReadoutKind::Factorized));
    QCOMPARE(model->factorizedReadout()->mask.size(1), std::int64_t{12});  // 16 - 5 + 1
    QCOMPARE(model->factorizedReadout()->mask.size(2), std::int64_t{20});  // 24 - 5 + 1
    test::verifyEveryParameterLearns(model, 16, 24);
  }

  void coreConcatenatesLayersWhenAsked() {
    NeuralModelConfig config = smallConfig(ReadoutKind::Gaussian);
    config.concatenateLayers = true;
    QCOMPARE(coreOutputShape(config).channels, std::int64_t{13});
    StackedCore core(config);
    const torch::Tensor maps = core->forward(torch::randn({2, 1, 16, 24}));
    QCOMPARE(maps.size(1), std::int64_t{13});
    QCOMPARE(maps.size(2), std::int64_t{12});
    QCOMPARE(maps.size(3), std::int64_t{20});
  }

  void gaussianReadoutReadsAtItsMeanPositionInEvaluation() {
    NeuralModel model(smallConfig(ReadoutKind::Gaussian));
    model->eval();
    const torch::Tensor images = torch::randn({2, 1, 16, 24});
    QVERIFY(torch::equal(model->forward(images), model->forward(images)));
    // In training the positions are sampled: the same maps give different rates.
    GaussianReadout readout = model->gaussianReadout();
    readout->train();
    const torch::Tensor maps = torch::randn({2, 3, 12, 20});
    QVERIFY(!torch::equal(readout->forward(maps), readout->forward(maps)));
  }

  void laplacianIgnoresConstantFiltersInTheInterior() {
    NeuralModelConfig config = smallConfig(ReadoutKind::Gaussian);
    StackedCore core(config);
    {
      torch::NoGradGuard noGrad;
      core->convolution(0)->weight.fill_(1.0);
    }
    QVERIFY(core->laplacianSmoothness().item<double>() < 1e-10);
  }

  void poissonLossMatchesHandValue() {
    const torch::Tensor prediction = torch::tensor({1.0f, 2.0f, 0.5f, 3.0f}).view({2, 2});
    const torch::Tensor target = torch::tensor({0.0f, 1.0f, 2.0f, 1.0f}).view({2, 2});
    const double first = 1.0 + 2.0 - std::log(2.0 + 1e-8);
    const double second = 0.5 - 2.0 * std::log(0.5 + 1e-8) + 3.0 - std::log(3.0 + 1e-8);
    QVERIFY(std::abs(poissonLoss(prediction, target).item<double>() - (first + second) / 2.0) < 1e-5);
  }

  void configRoundTripsThroughJson() {
    NeuralModelConfig config = smallConfig(ReadoutKind::Factorized);
    config.positiveMask = false;
    const nlohmann::json json = toJson(config);
    QVERIFY(toJson(neuralModelConfigFromJson(json)) == json);
    QVERIFY_THROWS_EXCEPTION(Error, neuralModelConfigFromJson({{"kernel_size", 3}}));
    QVERIFY_THROWS_EXCEPTION(Error, neuralModelConfigFromJson({{"readout", "linear"}}));
    config.channels = {4};
    QVERIFY_THROWS_EXCEPTION(Error, NeuralModel{config});
  }

  void checkpointRoundTripGivesIdenticalPredictions() {
    FittedNeuralModel fitted;
    fitted.model = NeuralModel(smallConfig(ReadoutKind::Gaussian));
    fitted.normalization = {{0.5f}, {0.25f}, {1.0f, 2.0f, 3.0f, 0.5f, 1.5f}, {0.0f, 255.0f}, {}, {}, {}, {}};
    // Batch-norm statistics are part of the state: move them away from their initial values.
    fitted.model->train();
    fitted.model->forward(torch::randn({4, 1, 16, 24}) * 3.0 + 1.0);
    fitted.model->eval();
    std::vector<float> images(6 * 16 * 24);
    for (std::size_t i = 0; i < images.size(); ++i) images[i] = static_cast<float>((i * 37) % 101) / 100.0f;

    test::ScratchDir scratch;
    saveNeuralModel(fitted, scratch / "model.pt");
    QVERIFY(std::filesystem::exists(scratch / "model.pt.json"));
    const FittedNeuralModel loaded = loadNeuralModel(scratch / "model.pt");
    QVERIFY(toJson(loaded.model->config()) == toJson(fitted.model->config()));
    QVERIFY(predictResponses(loaded, images.data(), 6) == predictResponses(fitted, images.data(), 6));

    test::writeBytes(scratch / "broken.pt", "not an archive");
    QVERIFY_THROWS_EXCEPTION(FileError, loadNeuralModel(scratch / "broken.pt"));
  }

  void fitStopsWhenCancelled() {
    SyntheticV1Config synthetic;
    synthetic.neuronCount = 4;
    synthetic.trainImages = 20;
    synthetic.validationImages = 10;
    synthetic.testImages = 4;
    const NeuralDataset dataset = generateDefaultDataset(synthetic).dataset;
    auto cancel = std::make_shared<CancelToken>();
    cancel->cancel();
    NeuralModelConfig model;
    model.kernelSizes = {5};
    model.channels = {2};
    QVERIFY_THROWS_EXCEPTION(CancelledError, fitNeuralModel(dataset, model, {}, Job({}, cancel)));
  }

  void fitRecoversNoiseFreeRatesBetterThanSingleTrials() {
    SyntheticV1Config synthetic;
    synthetic.neuronCount = 30;
    synthetic.trainImages = 800;
    synthetic.validationImages = 150;
    synthetic.testImages = 40;
    synthetic.testRepeats = 5;
    synthetic.meanRate = 0.25;
    const NeuralDataset dataset = generateDefaultDataset(synthetic).dataset;

    NeuralModelConfig model;
    model.kernelSizes = {9, 5};
    model.channels = {8, 8};
    NeuralTrainerConfig trainer;
    trainer.maxEpochs = 12;
    trainer.batchSize = 32;
    trainer.learningRate = 1e-2;
    int epochs = 0;
    const NeuralFitResult fit = fitNeuralModel(dataset, model, trainer, {}, [&](const NeuralEpochReport& report) {
      ++epochs;
      qInfo("epoch %d: loss %.4f, validation r %.4f, %.1f s", report.epoch, report.trainLoss,
            report.validationCorrelation, report.seconds);
    });
    QCOMPARE(static_cast<int>(fit.history.size()), epochs);
    QVERIFY(fit.bestValidationCorrelation > fit.history.front().validationCorrelation);

    const std::vector<float> predictions = predictResponses(fit.fitted.front(), dataset);
    double modelSum = 0.0;
    double trialSum = 0.0;
    std::int64_t measured = 0;
    std::vector<float> truth;
    std::vector<float> predicted;
    std::vector<float> observed;
    const auto neurons = dataset.neuronCount;
    for (std::int64_t n = 0; n < neurons; ++n) {
      truth.clear();
      predicted.clear();
      observed.clear();
      for (std::int64_t t = 0; t < dataset.trialCount(); ++t) {
        if (dataset.tiers[static_cast<std::size_t>(t)] != Tier::Test) continue;
        const auto index = static_cast<std::size_t>(t * neurons + n);
        truth.push_back(dataset.noiseFreeRates[index]);
        predicted.push_back(predictions[index]);
        observed.push_back(dataset.responses[index]);
      }
      const auto count = static_cast<std::int64_t>(truth.size());
      const double modelR = pearson(predicted.data(), truth.data(), count);
      const double trialR = pearson(observed.data(), truth.data(), count);
      // A neuron whose true rate never changes on the test images has no correlation to recover.
      if (std::isnan(modelR) || std::isnan(trialR)) continue;
      modelSum += modelR;
      trialSum += trialR;
      ++measured;
    }
    QVERIFY(measured > neurons / 2);
    const double modelCorrelation = modelSum / static_cast<double>(measured);
    const double trialCorrelation = trialSum / static_cast<double>(measured);
    qInfo("epochs %d (%s, %.1f s); r(prediction, truth) = %.3f, r(single trial, truth) = %.3f", epochs,
          fit.stopReason.c_str(), fit.seconds, modelCorrelation, trialCorrelation);
    QVERIFY(modelCorrelation > trialCorrelation + 0.1);

    const NeuralModelEvaluation evaluation = evaluateNeuralModel(fit.fitted.front(), dataset);
    qInfo("test: average r %.3f, single-trial r %.3f, oracle %.3f, fraction of oracle %.3f, FEVe %.3f",
          evaluation.meanAverageCorrelation, evaluation.meanSingleTrialCorrelation, evaluation.meanOracleCorrelation,
          evaluation.fractionOfOracleSlope, evaluation.meanFeve);
    QCOMPARE(static_cast<std::int64_t>(evaluation.feve.size()), neurons);
    QVERIFY(evaluation.meanAverageCorrelation > evaluation.meanSingleTrialCorrelation);
    QVERIFY(evaluation.fractionOfOracleSlope > 0.5);
  }
};

BRAINPRIOR_TEST_CLASS(TestNeuralModel)
#include "test_neural_model.moc"
