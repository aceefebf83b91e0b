// The rotation-equivariant core (Ecker et al. 2019): its Hermite basis, equivariance to 90-degree
// turns of the input, its place in NeuralModel, and the functional types read from its readouts.
// LibTorch comes before Qt: Qt's `slots` macro would break LibTorch headers that use the word.
#include <torch/optim/adam.h>
#include <torch/utils.h>

#include "models/functional_types.h"
#include "models/neural_model.h"
#include "models/rotation_equivariant_core.h"
#include "test_registry.h"
#include "training/neural_trainer.h"

#include <QtTest>

#include <cmath>
#include <nlohmann/json.hpp>

#include "runtime/error.h"
#include "runtime/runtime.h"
#include "neural_model_checks.h"
#include "test_support.h"

using namespace bp;

namespace {

NeuralModelConfig smallConfig(ReadoutKind readout) {
  NeuralModelConfig config = defaultNeuralModelConfig(CoreKind::RotationEquivariant);
  config.inputHeight = 17;
  config.inputWidth = 17;
  config.neuronCount = 5;
  config.kernelSizes = {7, 3, 3};
  config.channels = {3, 4, 2};
  config.groupSparsityPenalty = 0.1;
  config.readout = readout;
  return config;
}

double maxAbsDifference(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

// Maps of rotation-major channels (batch x rotations * features x h x w) with rotation r moved to
// r + shift.
torch::Tensor shiftRotations(const torch::Tensor& maps, int rotations, int shift) {
  const torch::Tensor grouped = maps.reshape({maps.size(0), rotations, -1, maps.size(2), maps.size(3)});
  return torch::roll(grouped, {shift}, {1}).reshape(maps.sizes());
}

}  // namespace

class TestRotationEquivariantCore : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() { initializeRuntime(); }

  void hermiteBasisHasOneFunctionPerCoefficientAndIsNearOrthonormal() {
    for (const int size : {5, 13}) {
      QCOMPARE(hermiteBasisSize(size), size * (size + 1) / 2);
      const torch::Tensor basis = hermiteBasis(size, 2, 0.0);
      QCOMPARE(basis.size(0), std::int64_t{hermiteBasisSize(size)});
      QCOMPARE(basis.size(1), std::int64_t{2 * size});
      QCOMPARE(basis.size(2), std::int64_t{2 * size});
      const torch::Tensor flat = basis.reshape({basis.size(0), -1}).to(torch::kDouble);
      const torch::Tensor gram = flat.matmul(flat.t());
      // The square's edge cuts a little off the highest orders; nothing else departs from identity.
      QVERIFY(maxAbsDifference(gram, torch::eye(basis.size(0), torch::kDouble)) < 0.05);
    }
    // Pixels integrate the functions: none gains norm, and the smooth lowest order keeps nearly all.
    const torch::Tensor pixels = downsampleBasis(hermiteBasis(13, 2, 0.0), 2);
    QCOMPARE(pixels.sizes().vec(), (std::vector<std::int64_t>{91, 13, 13}));
    const torch::Tensor norms = pixels.pow(2).sum({1, 2});
    QVERIFY(norms.max().item<double>() < 1.01);
    QVERIFY(norms[0].item<double>() > 0.95);
  }

  void rotatingTheBasisTurnsItCounterclockwiseWithinEachOrder() {
    const torch::Tensor upright = hermiteBasis(5, 2, 0.0);
    // A quarter turn is exact on the grid, and goes the way torch::rot90 does.
    QVERIFY(maxAbsDifference(hermiteBasis(5, 2, M_PI / 2.0), torch::rot90(upright, 1, {1, 2})) < 1e-5);
    // Any other turn stays in the span of its own order's functions.
    const torch::Tensor turned = hermiteBasis(5, 2, 0.4).reshape({15, -1}).to(torch::kDouble);
    const torch::Tensor flat = upright.reshape({15, -1}).to(torch::kDouble);
    int first = 0;
    for (int order = 0; order < 5; ++order) {
      const torch::Tensor own = flat.narrow(0, first, order + 1);
      const torch::Tensor rotated = turned.narrow(0, first, order + 1);
      const torch::Tensor projection = rotated.matmul(own.t()).matmul(torch::inverse(own.matmul(own.t()))).matmul(own);
      QVERIFY2(maxAbsDifference(projection, rotated) < 1e-3, qPrintable(QString("order %1").arg(order)));
      if (order > 0) QVERIFY(maxAbsDifference(rotated, own) > 0.01);  // order 0 is round
      first += order + 1;
    }
  }

  void coreOutputIsRotationsTimesFeaturesWithoutFirstLayerPadding() {
    NeuralModelConfig config = smallConfig(ReadoutKind::Gaussian);
    RotationEquivariantCore core(config);
    const torch::Tensor maps = core->forward(torch::randn({2, 1, 17, 17}));
    const CoreShape shape = coreOutputShape(config);
    QCOMPARE(shape.channels, std::int64_t{16});  // 8 rotations x 2 features
    QCOMPARE(maps.size(1), shape.channels);
    QCOMPARE(maps.size(2), shape.height);
    QCOMPARE(maps.size(3), shape.width);
    QCOMPARE(shape.height, std::int64_t{11});  // 17 - 7 + 1
    QCOMPARE(core->featureCount(), std::int64_t{2});

    config.concatenateLayers = true;
    RotationEquivariantCore concatenated(config);
    QCOMPARE(coreOutputShape(config).channels, std::int64_t{72});  // 8 x (3 + 4 + 2)
    QCOMPARE(concatenated->forward(torch::randn({2, 1, 17, 17})).size(1), std::int64_t{72});
    QCOMPARE(concatenated->featureCount(), std::int64_t{9});

    const torch::Tensor first = core->filters(0);
    QCOMPARE(first.sizes().vec(), (std::vector<std::int64_t>{24, 1, 7, 7}));
    QCOMPARE(core->filters(1).sizes().vec(), (std::vector<std::int64_t>{32, 24, 3, 3}));
    // Rotation 2 of 8 is rotation 0 turned a quarter.
    QVERIFY(maxAbsDifference(first.narrow(0, 6, 3), torch::rot90(first.narrow(0, 0, 3), 1, {2, 3})) < 1e-5);
  }

  void modelsWithEitherReadoutGiveEveryParameterAGradient() {
    for (const ReadoutKind readout : {ReadoutKind::Gaussian, ReadoutKind::Factorized}) {
      NeuralModel model(smallConfig(readout));
      QVERIFY(model->stackedCore().is_empty());
      QVERIFY(!model->rotationEquivariantCore().is_empty());
      QCOMPARE(model->firstLayerFilters().sizes().vec(), (std::vector<std::int64_t>{24, 1, 7, 7}));
      QVERIFY(!model->firstLayerFilters().requires_grad());
      test::verifyEveryParameterLearns(model, 17, 17);
    }
  }

  void turningTheInputAQuarterTurnsTheMapsAndShiftsTheRotations() {
    torch::manual_seed(5);
    for (const bool concatenate : {false, true}) {
      NeuralModelConfig config = smallConfig(ReadoutKind::Gaussian);
      config.concatenateLayers = concatenate;
      RotationEquivariantCore core(config);
      const torch::Tensor images = torch::randn({2, 1, 17, 17});
      const torch::Tensor turned = torch::rot90(images, 1, {2, 3});
      // In training the batch statistics are shared by a feature's rotations, so they are
      // equivariant too; in evaluation the running statistics are.
      for (const bool training : {true, false}) {
        core->train(training);
        const torch::Tensor maps = core->forward(images);
        const torch::Tensor expected = shiftRotations(torch::rot90(maps, 1, {2, 3}), 8, 2);
        const torch::Tensor actual = core->forward(turned);
        const double scale = maps.abs().max().item<double>();
        QVERIFY2(maxAbsDifference(actual, expected) < 1e-4 * scale, training ? "training" : "evaluation");
        // Not trivially so: without the shift the maps differ.
        QVERIFY(maxAbsDifference(actual, torch::rot90(maps, 1, {2, 3})) > 0.1 * scale);
      }
    }
  }

  void functionalTypesFollowTheEnergyOfHandMadeWeights() {
    // 4 rotations x 3 features, rotation-major: channel = rotation * 3 + feature.
    const int rotations = 4;
    torch::Tensor features = torch::zeros({4, 12}, torch::kDouble);
    features[0][2 * 3 + 1] = -5.0;  // all on feature 1 at rotation 2
    features[1][0 * 3 + 0] = 2.0;   // feature 0: 4 + 1, feature 2: 4 of 9
    features[1][1 * 3 + 0] = 1.0;
    features[1][3 * 3 + 2] = 2.0;
    features[2][0 * 3 + 0] = 1.0;  // spread: feature 2 leads with 1.44 of 3.44
    features[2][2 * 3 + 1] = 1.0;
    features[2][1 * 3 + 2] = 1.2;
    // neuron 3: no weights

    const FunctionalTypes types = computeFunctionalTypes(features.to(torch::kFloat), rotations);
    QCOMPARE(types.rotations, 4);
    QCOMPARE(types.featureCount, std::int64_t{3});
    QCOMPARE(types.types, (std::vector<int>{1, 0, 2, -1}));
    QCOMPARE(types.clean, (std::vector<bool>{true, true, false, false}));
    QCOMPARE(types.preferredRotations, (std::vector<int>{2, 0, 1, -1}));
    QVERIFY(std::abs(types.energyFractions[0] - 1.0) < 1e-6);
    QVERIFY(std::abs(types.energyFractions[1] - 5.0 / 9.0) < 1e-6);
    QVERIFY(std::abs(types.energyFractions[2] - 1.44 / 3.44) < 1e-6);
    QCOMPARE(types.energyFractions[3], 0.0);
    QVERIFY(std::abs(types.energies[1 * 3 + 2] - 4.0 / 9.0) < 1e-6);
    QCOMPARE(types.typeCounts, (std::vector<std::int64_t>{1, 1, 1}));
    QCOMPARE(types.cleanTypeCounts, (std::vector<std::int64_t>{1, 1, 0}));

    const nlohmann::json json = toJson(types);
    QCOMPARE(json.at("types").size(), std::size_t{4});
    QCOMPARE(json.at("energies").at(1).size(), std::size_t{3});
    QCOMPARE(json.at("clean_type_counts").at(1).get<int>(), 1);

    QVERIFY_THROWS_EXCEPTION(Error, computeFunctionalTypes(torch::zeros({2, 10}), 4));
  }

  void functionalTypesComeFromEitherReadoutOfARotationEquivariantModel() {
    for (const ReadoutKind readout : {ReadoutKind::Gaussian, ReadoutKind::Factorized}) {
      NeuralModel model(smallConfig(readout));
      const FunctionalTypes types = computeFunctionalTypes(model);
      QCOMPARE(types.featureCount, std::int64_t{2});
      QCOMPARE(static_cast<std::int64_t>(types.types.size()), std::int64_t{5});
    }
    NeuralModelConfig stacked = smallConfig(ReadoutKind::Gaussian);
    stacked.core = CoreKind::Stacked;
    QVERIFY_THROWS_EXCEPTION(Error, computeFunctionalTypes(NeuralModel(stacked)));
  }

  void configRoundTripsThroughJsonWithCoreKeys() {
    NeuralModelConfig config = smallConfig(ReadoutKind::Factorized);
    config.rotations = 4;
    config.hermiteUpsampling = 3;
    const nlohmann::json json = toJson(config);
    QCOMPARE(json.at("core").get<std::string>(), std::string("rotation_equivariant"));
    QVERIFY(toJson(neuralModelConfigFromJson(json)) == json);

    // Layers left out take the paper's defaults: 13, 5, 5 pixels, 16 features, 8 rotations.
    const NeuralModelConfig paper = neuralModelConfigFromJson({{"core", "rotation_equivariant"}});
    QCOMPARE(paper.kernelSizes, (std::vector<int>{13, 5, 5}));
    QCOMPARE(paper.channels, (std::vector<int>{16, 16, 16}));
    QCOMPARE(coreOutputShape(paper).channels, std::int64_t{128});
    QCOMPARE(neuralModelConfigFromJson(nlohmann::json::object()).core, CoreKind::Stacked);

    QVERIFY_THROWS_EXCEPTION(Error, neuralModelConfigFromJson({{"core", "hexagonal"}}));
    QVERIFY_THROWS_EXCEPTION(Error, neuralModelConfigFromJson({{"rotations", "eight"}}));
    config.rotations = 0;
    QVERIFY_THROWS_EXCEPTION(Error, NeuralModel{config});
  }

  void checkpointRoundTripKeepsTheCoreAndItsPredictions() {
    FittedNeuralModel fitted;
    fitted.model = NeuralModel(smallConfig(ReadoutKind::Factorized));
    fitted.normalization.imageMean = {0.5f};
    fitted.normalization.imageStd = {0.25f};
    fitted.normalization.responseScale = {1.0f, 2.0f, 3.0f, 0.5f, 1.5f};
    // Batch-norm statistics are part of the state: move them away from their initial values.
    fitted.model->train();
    fitted.model->forward(torch::randn({4, 1, 17, 17}) * 3.0 + 1.0);
    fitted.model->eval();
    std::vector<float> images(3 * 17 * 17);
    for (std::size_t i = 0; i < images.size(); ++i) images[i] = static_cast<float>((i * 37) % 101) / 100.0f;

    test::ScratchDir scratch;
    saveNeuralModel(fitted, scratch / "model.pt");
    const FittedNeuralModel loaded = loadNeuralModel(scratch / "model.pt");
    QVERIFY(!loaded.model->rotationEquivariantCore().is_empty());
    QVERIFY(predictResponses(loaded, images.data(), 3) == predictResponses(fitted, images.data(), 3));
  }

  void rotationEquivariantModelLowersItsLossInAFewSteps() {
    torch::manual_seed(11);
    NeuralModel model(smallConfig(ReadoutKind::Gaussian));
    model->train();
    const torch::Tensor images = torch::randn({32, 1, 17, 17});
    const torch::Tensor targets = torch::rand({32, 5}) * 2.0;
    torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(1e-2));
    std::vector<double> losses;
    for (int step = 0; step < 15; ++step) {
      optimizer.zero_grad();
      const torch::Tensor loss = poissonLoss(model->forward(images), targets) + model->regularization();
      loss.backward();
      optimizer.step();
      losses.push_back(loss.item<double>());
    }
    qInfo("loss %.4f -> %.4f", losses.front(), losses.back());
    QVERIFY(losses.back() < losses.front());
  }
};

BRAINPRIOR_TEST_CLASS(TestRotationEquivariantCore)
#include "test_rotation_equivariant_core.moc"
