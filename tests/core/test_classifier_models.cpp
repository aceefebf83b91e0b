// Classifiers for brain-regularized training: output and tap shapes for CIFAR-sized and V1-sized
// images, gradients reaching every parameter, normalisation inside the model, the config.
// LibTorch comes before Qt: Qt's `slots` macro would break LibTorch headers that use the word.
#include <torch/nn/functional/loss.h>
#include <torch/utils.h>

#include "classifiers/resnet.h"
#include "test_registry.h"

#include <QtTest>

#include <nlohmann/json.hpp>

#include "runtime/error.h"
#include "runtime/runtime.h"

using namespace bp;

Q_DECLARE_METATYPE(bp::ClassifierArchitecture)

namespace {

ClassifierConfig configFor(ClassifierArchitecture architecture) {
  ClassifierConfig config;
  config.architecture = architecture;
  config.classCount = 7;
  return config;
}

}  // namespace

class TestClassifierModels : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() { initializeRuntime(); }

  void modelsGiveLogitsAndTapsForAnyImageSize_data() {
    QTest::addColumn<ClassifierArchitecture>("architecture");
    QTest::addColumn<int>("height");
    QTest::addColumn<int>("width");
    QTest::addColumn<std::vector<std::int64_t>>("channels");
    // Tap sizes: the stem and the first stage keep the image size, each later stage halves it
    // (rounding up).
    QTest::addColumn<std::vector<std::int64_t>>("heights");
    QTest::addColumn<std::vector<std::int64_t>>("widths");
    const std::vector<std::int64_t> resnetChannels = {64, 64, 128, 256, 512};
    QTest::newRow("resnet18 32x32") << ClassifierArchitecture::ResNet18 << 32 << 32 << resnetChannels
                                    << std::vector<std::int64_t>{32, 32, 16, 8, 4}
                                    << std::vector<std::int64_t>{32, 32, 16, 8, 4};
    QTest::newRow("resnet18 36x64") << ClassifierArchitecture::ResNet18 << 36 << 64 << resnetChannels
                                    << std::vector<std::int64_t>{36, 36, 18, 9, 5}
                                    << std::vector<std::int64_t>{64, 64, 32, 16, 8};
    QTest::newRow("resnet34 32x32") << ClassifierArchitecture::ResNet34 << 32 << 32 << resnetChannels
                                    << std::vector<std::int64_t>{32, 32, 16, 8, 4}
                                    << std::vector<std::int64_t>{32, 32, 16, 8, 4};
    const std::vector<std::int64_t> smallChannels = {16, 16, 32, 64};
    QTest::newRow("small 32x32") << ClassifierArchitecture::SmallResNet << 32 << 32 << smallChannels
                                 << std::vector<std::int64_t>{32, 32, 16, 8}
                                 << std::vector<std::int64_t>{32, 32, 16, 8};
    QTest::newRow("small 36x64") << ClassifierArchitecture::SmallResNet << 36 << 64 << smallChannels
                                 << std::vector<std::int64_t>{36, 36, 18, 9}
                                 << std::vector<std::int64_t>{64, 64, 32, 16};
  }

  void modelsGiveLogitsAndTapsForAnyImageSize() {
    QFETCH(ClassifierArchitecture, architecture);
    QFETCH(int, height);
    QFETCH(int, width);
    QFETCH(std::vector<std::int64_t>, channels);
    QFETCH(std::vector<std::int64_t>, heights);
    QFETCH(std::vector<std::int64_t>, widths);
    Classifier model(configFor(architecture));
    model->eval();
    QCOMPARE(model->tapChannels(), channels);
    QCOMPARE(model->tapNames().size(), channels.size());
    QCOMPARE(model->tapNames().front(), std::string("stem"));
    QCOMPARE(model->tapNames().back(), "stage" + std::to_string(channels.size() - 1));

    const torch::Tensor images = torch::rand({2, 1, height, width});
    const ClassifierOutput output = model->forwardWithTaps(images);
    QCOMPARE(output.logits.sizes().vec(), (std::vector<std::int64_t>{2, 7}));
    QCOMPARE(output.taps.size(), channels.size());
    for (std::size_t tap = 0; tap < channels.size(); ++tap) {
      QCOMPARE(output.taps[tap].sizes().vec(),
               (std::vector<std::int64_t>{2, channels[tap], heights[tap], widths[tap]}));
    }
    QVERIFY(torch::allclose(model->forward(images), output.logits));
  }

  void everyParameterGetsAGradient_data() {
    QTest::addColumn<ClassifierArchitecture>("architecture");
    QTest::newRow("resnet18") << ClassifierArchitecture::ResNet18;
    QTest::newRow("resnet34") << ClassifierArchitecture::ResNet34;
    QTest::newRow("small_resnet") << ClassifierArchitecture::SmallResNet;
  }

  // Nothing is detached or left unregistered: the loss reaches every parameter, and the
  // normalisation constants are buffers, not parameters the optimizer would move.
  void everyParameterGetsAGradient() {
    QFETCH(ClassifierArchitecture, architecture);
    torch::manual_seed(5);
    Classifier model(configFor(architecture));
    model->train();
    const torch::Tensor logits = model->forward(torch::rand({4, 1, 32, 32}));
    torch::nn::functional::cross_entropy(logits, torch::tensor({0, 3, 6, 2}, torch::kLong)).backward();
    for (const auto& parameter : model->named_parameters()) {
      QVERIFY2(parameter.value().grad().defined(), parameter.key().c_str());
      QVERIFY2(parameter.value().grad().abs().sum().item<double>() > 0.0, parameter.key().c_str());
    }
    QVERIFY(model->named_buffers().contains("image_mean"));
    QVERIFY(model->named_buffers().contains("image_std"));
    QVERIFY(!model->named_parameters().contains("image_mean"));
  }

  // A model with mean m and std s on images x computes what the same weights with mean 0 and std 1
  // compute on (x - m) / s: callers hand over images in [0, 1].
  void modelNormalisesItsInput() {
    ClassifierConfig normalising = configFor(ClassifierArchitecture::SmallResNet);
    normalising.inputChannels = 2;
    normalising.imageMean = {0.3f, 0.6f};
    normalising.imageStd = {0.5f, 0.2f};
    ClassifierConfig identity = normalising;
    identity.imageMean = {0.0f, 0.0f};
    identity.imageStd = {1.0f, 1.0f};
    torch::manual_seed(11);
    Classifier first(normalising);
    torch::manual_seed(11);
    Classifier second(identity);
    first->eval();
    second->eval();
    const torch::Tensor images = torch::rand({2, 2, 20, 24});
    const torch::Tensor mean = torch::tensor({0.3f, 0.6f}).view({1, 2, 1, 1});
    const torch::Tensor std = torch::tensor({0.5f, 0.2f}).view({1, 2, 1, 1});
    const torch::Tensor expected = second->forward((images - mean) / std);
    QVERIFY(torch::allclose(first->forward(images), expected, 1e-4, 1e-5));
    QVERIFY(!torch::allclose(second->forward(images), expected, 1e-4, 1e-5));
  }

  void smallResNetWidthSetsItsChannels() {
    ClassifierConfig config = configFor(ClassifierArchitecture::SmallResNet);
    config.width = 8;
    Classifier model(config);
    QCOMPARE(model->tapChannels(), (std::vector<std::int64_t>{8, 8, 16, 32}));
  }

  void rejectsImagesWithTheWrongChannelCount() {
    Classifier model(configFor(ClassifierArchitecture::SmallResNet));
    QVERIFY_THROWS_EXCEPTION(Error, model->forward(torch::rand({2, 3, 32, 32})));
    QVERIFY_THROWS_EXCEPTION(Error, model->forward(torch::rand({1, 32, 32})));
  }

  void configRoundTripsThroughJson() {
    ClassifierConfig config = configFor(ClassifierArchitecture::SmallResNet);
    config.inputChannels = 3;
    config.imageMean = {0.25f, 0.5f, 0.75f};
    config.imageStd = {0.5f, 0.25f, 0.125f};
    config.width = 24;
    const nlohmann::json json = toJson(config);
    QCOMPARE(json.at("architecture").get<std::string>(), std::string("small_resnet"));
    QVERIFY(toJson(classifierConfigFromJson(json)) == json);
    QVERIFY(classifierConfigFromJson({{"architecture", "resnet34"}}).architecture == ClassifierArchitecture::ResNet34);
    QVERIFY_THROWS_EXCEPTION(Error, classifierConfigFromJson({{"classes", 10}}));
    QVERIFY_THROWS_EXCEPTION(Error, classifierConfigFromJson({{"architecture", "vgg16"}}));
    QVERIFY_THROWS_EXCEPTION(Error, classifierConfigFromJson({{"class_count", "ten"}}));
  }

  void validateRejectsInconsistentConfigs() {
    ClassifierConfig config;
    validate(config);
    config.imageMean = {0.5f, 0.5f};
    QVERIFY_THROWS_EXCEPTION(Error, validate(config));
    config = ClassifierConfig{};
    config.imageStd = {0.0f};
    QVERIFY_THROWS_EXCEPTION(Error, validate(config));
    config = ClassifierConfig{};
    config.classCount = 1;
    QVERIFY_THROWS_EXCEPTION(Error, Classifier{config});
    config = ClassifierConfig{};
    config.width = 0;
    QVERIFY_THROWS_EXCEPTION(Error, validate(config));
  }
};

BRAINPRIOR_TEST_CLASS(TestClassifierModels)
#include "test_classifier_models.moc"
