// Imported TorchScript models (scripted_classifier.h). Fixtures are made here: small modules
// compiled from TorchScript source by LibTorch itself (always), and torchvision's ResNet18 traced and
// scripted by Python PyTorch (where a Python with torch and torchvision is found; skipped, saying
// why, elsewhere). Checked: the declared preprocessing is applied in order, logits and dictionary
// outputs give their layers, BrainPrior's logits and layer outputs equal Python's on the same images
// to 1e-5, the probe and predictivity take imported models next to nothing else, layer features line
// up with the neural matrix's rows, and every error a user will hit says what happened.
// LibTorch comes before Qt: Qt's `slots` macro would break LibTorch headers that use the word.
#include <torch/script.h>
#include <torch/torch.h>
#include <caffe2/serialize/inline_container.h>

#include "classifiers/harmonization.h"
#include "classifiers/scripted_classifier.h"
#include "data/dataset_io.h"
#include "data/npy.h"
#include "probing/layer_features.h"
#include "probing/predictivity.h"
#include "probing/probe_runner.h"
#include "rsa/features.h"
#include "test_registry.h"

#include <QJsonArray>
#include <QProcess>
#include <QtTest>

#include <optional>

#include "cli_run.h"
#include "file_error_message.h"
#include "python_torch.h"
#include "runtime/atomic_file.h"
#include "runtime/error.h"
#include "runtime/runtime.h"
#include "striped_images.h"
#include "test_support.h"
#include "torchscript_fixture.h"

using namespace bp;

namespace {

namespace fs = std::filesystem;

ScriptedModelDescription description(int channels, std::int64_t side) {
  ScriptedModelDescription described;
  described.input.channels = channels;
  described.input.height = side;
  described.input.width = side;
  described.input.rangeLow = 0.0;
  described.input.rangeHigh = 255.0;
  for (int c = 0; c < channels; ++c) {
    described.input.mean.push_back(100.0f + 10.0f * static_cast<float>(c));
    described.input.std.push_back(50.0f + 10.0f * static_cast<float>(c));
  }
  return described;
}

fs::path saveFixture(const fs::path& folder, const std::string& name, const std::string& source, std::int64_t side) {
  const fs::path file = folder / name;
  test::writeTorchScriptModel(file, static_cast<int>(side), 5, source);
  return file;
}

// A copy of the TorchScript archive `from` that claims a file format version no LibTorch reads yet.
void writeWithFutureVersion(const fs::path& from, const fs::path& to) {
  caffe2::serialize::PyTorchStreamReader reader(from.string());
  caffe2::serialize::PyTorchStreamWriter writer(to.string());
  writer.setMinVersion(99);
  for (const std::string& record : reader.getAllRecords()) {
    if (record == "version" || record == ".data/version") continue;
    auto [data, size] = reader.getRecord(record);
    writer.writeRecord(record, data.get(), size);
  }
  writer.writeEndOfFile();
}

// torchvision's ResNet18 (10 classes, random weights of seed 0) saved twice, traced to return its
// logits and scripted to return its stages and logits (create_feature_extractor), with 32 images of
// 3 x 32 x 32 in [0, 1] and what Python computes from them with ImageNet normalisation.
constexpr const char* kTorchvisionFixture = R"(
import sys, json, numpy, torch, torchvision
from torchvision.models.feature_extraction import create_feature_extractor
folder = sys.argv[1]
torch.manual_seed(0)
model = torchvision.models.resnet18(num_classes=10).eval()
images = torch.rand(32, 3, 32, 32)
mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
torch.jit.trace(model, (images[:2] - mean) / std).save(folder + "/resnet18.pt")
stages = create_feature_extractor(model, return_nodes={"layer1": "stage1", "layer2": "stage2", "layer3": "stage3",
                                                       "layer4": "stage4", "fc": "logits"})
torch.jit.script(stages).save(folder + "/resnet18-stages.pt")
description = {"input": {"channels": 3, "size": [32, 32], "range": [0, 1], "mean": [0.485, 0.456, 0.406],
                         "std": [0.229, 0.224, 0.225]}}
for name in ("resnet18.pt", "resnet18-stages.pt"):
    json.dump(description, open(folder + "/" + name + ".json", "w"))
with torch.no_grad():
    outputs = stages((images - mean) / std)
numpy.save(folder + "/images.npy", images.numpy())
for name, value in outputs.items():
    numpy.save(folder + "/" + name + ".npy", value.numpy())
)";

}  // namespace

class TestScriptedClassifier : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() {
    initializeRuntime();
    layers_ = saveFixture(scratch_.path(), "layers.pt", test::kTinyClassifierSource, 16);
  }

  void aDictionaryModelOffersItsLayersAndLogits() {
    TrainedClassifier trained = loadScriptedClassifier(layers_);
    QCOMPARE(trained.model->tapNames(), (std::vector<std::string>{"conv", "pool", "logits"}));
    QCOMPARE(trained.model->tapChannels(), (std::vector<std::int64_t>{4, 4, 5}));
    QCOMPARE(trained.model->classCount(), 5);
    QCOMPARE(trained.imageShape, (std::vector<std::int64_t>{3, 16, 16}));
    const std::vector<LayerShape> shapes = layerShapes(trained.model, trained.imageShape);
    QCOMPARE(shapes.size(), std::size_t{3});
    QCOMPARE(shapes[0].shape, (std::vector<std::int64_t>{4, 16, 16}));
    QCOMPARE(shapes[1].shape, (std::vector<std::int64_t>{4}));
  }

  void theDeclaredPreprocessingIsAppliedInOrder() {
    // Grey 10x10 images in [0, 1] for a model declared as 3 x 16 x 16 in 0..255 with its mean and
    // std: grey repeated, resized bilinearly, scaled to the range, then normalised.
    TrainedClassifier trained = loadScriptedClassifier(layers_);
    torch::manual_seed(8);
    const torch::Tensor images = torch::rand({6, 1, 10, 10});
    const torch::Tensor resized = torch::nn::functional::interpolate(
        images.expand({6, 3, 10, 10}),
        torch::nn::functional::InterpolateFuncOptions().size(std::vector<std::int64_t>{16, 16}).mode(torch::kBilinear).align_corners(false));
    const torch::Tensor input = (resized * 255.0 - torch::tensor({100.0f, 110.0f, 120.0f}).view({1, 3, 1, 1})) /
                                torch::tensor({50.0f, 60.0f, 70.0f}).view({1, 3, 1, 1});
    const torch::jit::Module reference = torch::jit::load(layers_.string());
    const torch::Tensor expected =
        const_cast<torch::jit::Module&>(reference).forward({input}).toGenericDict().at("logits").toTensor();
    torch::NoGradGuard noGrad;
    QVERIFY(test::relativeDifference(trained.model->forward(images), expected) < 1e-5);
  }

  void aLogitsModelHasOneLayer() {
    const fs::path file = saveFixture(scratch_.path(), "logits.pt", R"(
def forward(self, x):
    return torch.mm(torch.relu(torch.conv2d(x, self.conv, None, [1, 1], [1, 1])).mean([2, 3]), self.fc.t())
)",
                                      12);
    TrainedClassifier trained = loadScriptedClassifier(file);
    QCOMPARE(trained.model->tapNames(), std::vector<std::string>{"logits"});
    QCOMPARE(trained.model->classCount(), 5);
  }

  void gradientsReachTheImages() {
    // Attacks and saliency need the input gradient through the imported network.
    TrainedClassifier trained = loadScriptedClassifier(layers_);
    const torch::Tensor images = torch::rand({4, 3, 16, 16});
    const Saliency saliency = computeSaliency(trained.model, images, torch::tensor({0, 1, 2, 3}, torch::kLong));
    QVERIFY(saliency.maps.abs().sum().item<double>() > 0.0);
  }

  void aModelWithoutLogitsServesLayersButCannotClassify() {
    const fs::path file = saveFixture(scratch_.path(), "no-logits.pt", R"(
def forward(self, x):
    return {"conv": torch.conv2d(x, self.conv, None, [1, 1], [1, 1])}
)",
                                      12);
    TrainedClassifier trained = loadScriptedClassifier(file);
    QCOMPARE(trained.model->classCount(), 0);
    const QString message = test::fileErrorMessage([&] { trained.model->forward(torch::rand({1, 3, 12, 12})); });
    QVERIFY2(message.contains("no logits"), qPrintable(message));
    const LayerFeatures features = layerFeatures(trained, torch::rand({5, 1, 8, 8}), {"conv"}, 2, 2);
    QCOMPARE(features.features.front().sizes(), (c10::IntArrayRef{5, 16}));
  }

  void refusalsSayWhatHappened_data() {
    QTest::addColumn<QString>("source");
    QTest::addColumn<QString>("expected");
    QTest::newRow("tuple") << "def forward(self, x):\n    return (x, x)\n" << "returns a Tuple";
    QTest::newRow("3-D tensor") << "def forward(self, x):\n    return x.mean(1)\n" << "3 dimensions";
    QTest::newRow("input size") << "def forward(self, x):\n    return torch.mm(x.flatten(1), self.flat.t())\n"
                                << "rejects the declared input of 3 x 12 x 12";
    QTest::newRow("memory") << "def forward(self, x):\n    big = torch.empty([1125899906842624])\n    return "
                               "x.mean([2, 3]) + big[0]\n"
                            << "does not fit in the cpu memory";
  }

  void refusalsSayWhatHappened() {
    QFETCH(QString, source);
    QFETCH(QString, expected);
    const fs::path file = saveFixture(scratch_.path(), "refused.pt", source.toStdString(), 12);
    const QString message = test::fileErrorMessage([&] { loadScriptedClassifier(file); });
    QVERIFY2(message.contains(expected), qPrintable(message));
    QVERIFY2(message.contains("refused.pt"), qPrintable(message));
  }

  void aFileFromANewerPyTorchNamesBothVersions() {
    const fs::path future = scratch_.path() / "future.pt";
    writeWithFutureVersion(layers_, future);
    writeScriptedModelDescription(future, description(3, 16));
    const QString message = test::fileErrorMessage([&] { loadScriptedClassifier(future); });
    QVERIFY2(message.contains("saved by a newer PyTorch"), qPrintable(message));
    QVERIFY2(message.contains("version 99"), qPrintable(message));
    QVERIFY2(message.contains(TORCH_VERSION), qPrintable(message));
  }

  void notTorchScriptAndMissingDescriptionsAreNamed() {
    const fs::path garbage = scratch_.path() / "garbage.pt";
    test::writeBytes(garbage, std::string(1000, 'x'));
    writeScriptedModelDescription(garbage, description(3, 16));
    QString message = test::fileErrorMessage([&] { loadScriptedClassifier(garbage); });
    QVERIFY2(message.contains("garbage.pt: not a TorchScript model"), qPrintable(message));

    const fs::path bare = scratch_.path() / "bare.pt";
    fs::copy_file(layers_, bare);
    message = test::fileErrorMessage([&] { loadScriptedClassifier(bare); });
    QVERIFY2(message.contains("bare.pt.json: missing") && message.contains("\"mean\""), qPrintable(message));

    writeFileAtomically(scriptedModelDescriptionPath(bare), R"({"input": {"channels": 3, "size": [16, 16]}})");
    message = test::fileErrorMessage([&] { loadScriptedClassifier(bare); });
    QVERIFY2(message.contains("'range' is required"), qPrintable(message));
  }

  void anAbsentLayerListsTheLayersThereAre() {
    TrainedClassifier trained = loadScriptedClassifier(layers_);
    try {
      layerFeatures(trained, torch::rand({2, 3, 16, 16}), {"stage9"}, 2, 2);
      QFAIL("no error for an absent layer");
    } catch (const Error& error) {
      QCOMPARE(QString(error.what()), QString("the model has no layer 'stage9'; its layers: conv, pool, logits"));
    }
  }

  void theProbeTakesImportedModelsOnTheImagesItIsGiven() {
    const fs::path stripes = scratch_.path() / "stripes";
    fs::create_directories(stripes);
    test::writeStripedIdxSplit(stripes, "t10k", 20, 2, 12);
    ProbeConfig config;
    config.maxImages = 20;
    config.corruptions.front().severities = {0.0, 0.2};
    for (auto& search : config.minimumNormSearches) {
      search.pgd.steps = 2;
      search.searchSteps = 2;
    }
    config.boundaryAttack = false;
    config.successCurves.clear();
    QVERIFY_THROWS_EXCEPTION(Error, probeRuns({}, config, {}, {layers_}));  // no images named
    config.images.path = stripes.string();
    const ProbeReport report = probeRuns({}, config, {}, {layers_});
    QCOMPARE(report.models.size(), std::size_t{1});
    QCOMPARE(report.models[0].name, std::string("layers.pt"));
    QCOMPARE(report.models[0].regularizer, std::string("imported"));
    QCOMPARE(report.images.count, std::int64_t{20});
    TrainedClassifier trained = loadScriptedClassifier(layers_);
    ImageLoadOptions options;
    options.grayscale = true;
    const ImageDataset images = loadImageDataset(stripes, options, "test");
    const torch::Tensor pixels =
        torch::from_blob(const_cast<float*>(images.pixels.data()), {20, 1, 12, 12}, torch::kFloat).clone();
    const torch::Tensor labels =
        torch::from_blob(const_cast<std::int32_t*>(images.labels.data()), {20}, torch::kInt).to(torch::kLong);
    QCOMPARE(report.models[0].cleanAccuracy, classifierAccuracy(trained.model, pixels, labels));
    QCOMPARE(report.models[0].corruptions[0].accuracies[0], report.models[0].cleanAccuracy);
  }

  void layerFeaturesLineUpWithTheNeuralRows() {
    NeuralDataset dataset;
    dataset.channels = 1;
    dataset.height = 8;
    dataset.width = 8;
    dataset.neuronCount = 2;
    torch::manual_seed(4);
    for (int trial = 0; trial < 12; ++trial) {
      const torch::Tensor image = torch::rand({64}) * 255.0;
      dataset.images.insert(dataset.images.end(), image.data_ptr<float>(), image.data_ptr<float>() + 64);
      dataset.responses.push_back(static_cast<float>(trial));
      dataset.responses.push_back(1.0f);
      dataset.imageIds.push_back(trial % 6 == 0 ? 100 : 10 + trial);  // trials 0 and 6 show one image
      dataset.trialIds.push_back(trial);
      dataset.tiers.push_back(Tier::Test);
    }
    TrainedClassifier trained = loadScriptedClassifier(layers_);
    const FeatureMatrix neural = featuresFromDataset(dataset);
    const FeatureMatrix layer = layerFeatureMatrix(trained, "layers.pt", dataset, {}, "pool", 2, 4);
    QCOMPARE(layer.imageIds, neural.imageIds);
    QCOMPARE(layer.cols, std::int64_t{4});
    // Row 1 is the image of trial 1, scaled from the dataset's 0..255 to [0, 1].
    const torch::Tensor image = datasetImages(dataset, {1});
    QCOMPARE(image.max().item<float>() <= 1.0f, true);
    const torch::Tensor expected = layerFeatures(trained, image, {"pool"}, 2, 1).features.front();
    QVERIFY(std::abs(static_cast<double>(layer.row(1)[0]) - expected[0][0].item<double>()) < 1e-5);
  }

  void theCommandLineTakesAnImportedModel() {
    // layers, probe (on named images), predictivity and a layer's similarity matrix, as a user runs them.
    const QString model = QString::fromStdString(layers_.string());
    test::CliRun run = test::runCli({"layers", model});
    QVERIFY2(run.exitCode == 0, run.err.constData());
    QCOMPARE(run.json().value("layers").toArray().size(), 3);
    QCOMPARE(run.json().value("kind").toString(), QString("torchscript"));

    const fs::path stripes = scratch_.path() / "cli-stripes";
    fs::create_directories(stripes);
    test::writeStripedIdxSplit(stripes, "t10k", 12, 2, 12);
    const fs::path probeConfig = scratch_.path() / "probe.json";
    writeFileAtomically(probeConfig, R"({"max_images": 12, "corruptions": [{"kind": "gaussian_noise", "severities": [0, 0.1]}],
      "minimum_norm_searches": [], "boundary_attack": false, "success_curves": []})");
    run = test::runCli({"probe", model, "--images", QString::fromStdString(stripes.string()), "--config",
                        QString::fromStdString(probeConfig.string())});
    QVERIFY2(run.exitCode == 0, run.err.constData());
    QCOMPARE(run.json().value("models").toArray().at(0).toObject().value("regularizer").toString(), QString("imported"));
    run = test::runCli({"probe", model});
    QCOMPARE(run.exitCode, 1);
    QVERIFY2(run.err.contains("imported models need probe images"), run.err.constData());

    run = test::runCli({"predictivity", model, "--neural", "default"});
    QVERIFY2(run.exitCode == 0, run.err.constData());
    const QJsonArray layers = run.json().value("models").toArray().at(0).toObject().value("layers").toArray();
    QCOMPARE(layers.size(), 3);
    QVERIFY(std::isfinite(layers.at(0).toObject().value("median_r").toDouble()));
    // Chosen layers, in the model's order; a model with none of them is named with the layers it has.
    run = test::runCli({"predictivity", model, "--neural", "default", "--layers", "logits,pool"});
    QVERIFY2(run.exitCode == 0, run.err.constData());
    const QJsonArray chosen = run.json().value("models").toArray().at(0).toObject().value("layers").toArray();
    QCOMPARE(chosen.size(), 2);
    QCOMPARE(chosen.at(0).toObject().value("tap").toString(), QString("pool"));
    run = test::runCli({"predictivity", model, "--neural", "default", "--layers", "fc7"});
    QVERIFY2(run.err.contains("layers.pt: the model has none of the layers fc7; its layers: conv, pool, logits"),
             run.err.constData());

    const QString matrix = QString::fromStdString((scratch_.path() / "conv.h5").string());
    run = test::runCli({"rsa", "default", "--tier", "test", "--model", model, "--layer", "conv", "-o", matrix});
    QVERIFY2(run.exitCode == 0, run.err.constData());
    QCOMPARE(run.json().value("units").toInt(), 4 * 4 * 4);
    // Over a labelled image set: one row per image, in order, labelled by class.
    run = test::runCli({"rsa", QString::fromStdString(stripes.string()), "--model", model, "--layer", "pool", "-o",
                        matrix, "--order", "label"});
    QVERIFY2(run.exitCode == 0, run.err.constData());
    QCOMPARE(run.json().value("images").toInt(), 12);
    QCOMPARE(run.json().value("units").toInt(), 4);
    run = test::runCli({"rsa", "default", "--model", model, "--layer", "fc7", "-o", matrix});
    QVERIFY2(run.err.contains("no layer 'fc7'; its layers: conv, pool, logits"), run.err.constData());
  }

  void torchvisionModelsGiveWhatPythonGives() {
    const std::optional<QString> python = test::pythonWithTorchvision();
    if (!python) QSKIP(test::kNoPythonWithTorchvision);
    const fs::path folder = scratch_.path() / "torchvision";
    fs::create_directories(folder);
    QProcess process;
    process.start(*python, {"-c", kTorchvisionFixture, QString::fromStdString(folder.string())});
    QVERIFY(process.waitForFinished(600000));
    QVERIFY2(process.exitCode() == 0, process.readAllStandardError().constData());

    const torch::Tensor images = test::readNpyTensor(folder / "images.npy");
    torch::NoGradGuard noGrad;
    TrainedClassifier traced = loadScriptedClassifier(folder / "resnet18.pt");
    QCOMPARE(traced.model->classCount(), 10);
    const double logitsDifference = test::relativeDifference(traced.model->forward(images), test::readNpyTensor(folder / "logits.npy"));
    QVERIFY2(logitsDifference < 1e-5, qPrintable(QString::number(logitsDifference)));

    TrainedClassifier stages = loadScriptedClassifier(folder / "resnet18-stages.pt");
    QCOMPARE(stages.model->tapNames(), (std::vector<std::string>{"stage1", "stage2", "stage3", "stage4", "logits"}));
    const ClassifierOutput output = stages.model->forwardWithTaps(images);
    const std::vector<std::string> names = stages.model->tapNames();
    for (std::size_t tap = 0; tap < names.size(); ++tap) {
      const double difference = test::relativeDifference(output.taps[tap], test::readNpyTensor(folder / (names[tap] + ".npy")));
      QVERIFY2(difference < 1e-5, qPrintable(QString::fromStdString(names[tap]) + " " + QString::number(difference)));
    }
  }

 private:
  test::ScratchDir scratch_;
  fs::path layers_;
};

BRAINPRIOR_TEST_CLASS(TestScriptedClassifier)
#include "test_scripted_classifier.moc"
