// Trained models out to Python (python_export.h): the state_dict file holds every tensor under
// torchvision's names (read back here with LibTorch's own pickle reader, which is what Python's
// torch.load reads), and Python loads an exported ResNet18 into torchvision's architecture with the
// exported lines of code and reproduces BrainPrior's logits on 32 images to 1e-5, and the same
// network traced back to TorchScript and imported gives them too (skipped, saying why, without a
// Python that has torch and torchvision). Neural models keep LibTorch's names.
// LibTorch comes before Qt: Qt's `slots` macro would break LibTorch headers that use the word.
#include <torch/serialize.h>
#include <torch/torch.h>

#include "classifiers/python_export.h"
#include "classifiers/resnet.h"
#include "classifiers/scripted_classifier.h"
#include "training/neural_trainer.h"
#include "test_registry.h"

#include <QProcess>
#include <QtTest>

#include <map>
#include <nlohmann/json.hpp>

#include "python_torch.h"
#include "runtime/atomic_file.h"
#include "runtime/runtime.h"
#include "test_support.h"

using namespace bp;

namespace {

namespace fs = std::filesystem;

// A grayscale ResNet of `architecture` with its batch-norm statistics moved off their initial values,
// so that an export that dropped or misnamed a buffer would change the logits.
TrainedClassifier randomClassifier(ClassifierArchitecture architecture) {
  torch::manual_seed(11);
  ClassifierConfig config;
  config.architecture = architecture;
  config.width = 8;
  config.imageMean = {0.3f};
  config.imageStd = {0.2f};
  TrainedClassifier trained;
  trained.model = Classifier(config);
  trained.classNames = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
  trained.imageShape = {1, 32, 32};
  torch::NoGradGuard noGrad;
  for (auto& buffer : trained.model->named_buffers()) {
    if (buffer.key().find("running_mean") != std::string::npos) buffer.value().uniform_(-0.2, 0.2);
    if (buffer.key().find("running_var") != std::string::npos) buffer.value().uniform_(0.5, 1.5);
  }
  trained.model->eval();
  return trained;
}

std::map<std::string, torch::Tensor> readStateDict(const fs::path& file) {
  const std::string bytes = readTextFile(file);
  const c10::IValue loaded = torch::pickle_load(std::vector<char>(bytes.begin(), bytes.end()));
  std::map<std::string, torch::Tensor> tensors;
  for (const auto& entry : loaded.toGenericDict()) tensors[entry.key().toStringRef()] = entry.value().toTensor();
  return tensors;
}

}  // namespace

class TestPythonExport : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() { initializeRuntime(); }

  void everyTensorGoesOutUnderTorchvisionsName() {
    const TrainedClassifier trained = randomClassifier(ClassifierArchitecture::ResNet18);
    const fs::path file = scratch_.path() / "resnet18.pth";
    exportClassifierForPython(trained, file);
    const std::map<std::string, torch::Tensor> tensors = readStateDict(file);
    // 20 convolutions and batch norms (3 shortcuts), 5 tensors per batch norm, fc weight and bias.
    QCOMPARE(tensors.size(), std::size_t{20 * 1 + 20 * 5 + 2});
    for (const char* name : {"conv1.weight", "bn1.running_var", "layer1.0.conv1.weight", "layer2.0.downsample.0.weight",
                             "layer2.0.downsample.1.num_batches_tracked", "layer4.1.bn2.bias", "fc.weight", "fc.bias"})
      QVERIFY2(tensors.count(name) == 1, name);
    QVERIFY(tensors.count("image_mean") == 0);
    const auto named = trained.model->named_buffers();
    QVERIFY(torch::equal(tensors.at("layer3.1.bn1.running_mean"), named["stage3.1.norm1.running_mean"]));

    const nlohmann::json description = nlohmann::json::parse(readTextFile(file.string() + ".json"));
    QCOMPARE(description.at("architecture").get<std::string>(), std::string("resnet18"));
    QCOMPARE(description.at("normalization").at("std").at(0).get<float>(), 0.2f);
    QVERIFY(description.at("torchvision").get<bool>());
  }

  void smallResNetKeepsTheNamingWithThreeStages() {
    const fs::path file = scratch_.path() / "small.pth";
    exportClassifierForPython(randomClassifier(ClassifierArchitecture::SmallResNet), file);
    const std::map<std::string, torch::Tensor> tensors = readStateDict(file);
    QVERIFY(tensors.count("layer3.0.downsample.0.weight") == 1);
    QVERIFY(tensors.count("layer4.0.conv1.weight") == 0);
    QVERIFY(!nlohmann::json::parse(readTextFile(file.string() + ".json")).at("torchvision").get<bool>());
  }

  void neuralModelsKeepLibTorchsNames() {
    NeuralModelConfig config;
    config.neuronCount = 7;
    FittedNeuralModel fitted;
    fitted.model = NeuralModel(config);
    const fs::path file = scratch_.path() / "neural.pth";
    exportNeuralModelForPython(fitted, file);
    const std::map<std::string, torch::Tensor> tensors = readStateDict(file);
    const auto parameters = fitted.model->named_parameters();
    QVERIFY(!parameters.is_empty());
    for (const auto& parameter : parameters) {
      QVERIFY2(tensors.count(parameter.key()) == 1, parameter.key().c_str());
      QVERIFY(torch::equal(tensors.at(parameter.key()), parameter.value()));
    }
    QCOMPARE(nlohmann::json::parse(readTextFile(file.string() + ".json")).at("model").at("neuron_count").get<int>(), 7);
  }

  void pythonReproducesTheLogitsInTorchvision() {
    const std::optional<QString> python = test::pythonWithTorchvision();
    if (!python) QSKIP(test::kNoPythonWithTorchvision);
    TrainedClassifier trained = randomClassifier(ClassifierArchitecture::ResNet18);
    const fs::path folder = scratch_.path() / "roundtrip";
    fs::create_directories(folder);
    exportClassifierForPython(trained, folder / "model.pth");
    torch::manual_seed(12);
    const torch::Tensor images = torch::rand({32, 1, 32, 32});
    test::writeNpyTensor(folder / "images.npy", images);
    // The exported lines themselves, run in the folder, on the images.
    // Then the torchvision model goes back as TorchScript with the exported normalisation declared:
    // BrainPrior's run, Python's network and the imported file must give the same logits.
    const std::string code = "import numpy, torch\nimages = torch.from_numpy(numpy.load('images.npy'))\n" +
                             nlohmann::json::parse(readTextFile(folder / "model.pth.json")).at("python").get<std::string>() +
                             "numpy.save('logits.npy', logits.detach().numpy())\n"
                             "torch.jit.trace(model, images[:2]).save('roundtrip.pt')\n"
                             "json.dump({'input': {'channels': 1, 'size': [32, 32], 'range': [0, 1], "
                             "'mean': norm['mean'], 'std': norm['std']}}, open('roundtrip.pt.json', 'w'))\n";
    QProcess process;
    process.setWorkingDirectory(QString::fromStdString(folder.string()));
    process.start(*python, {"-c", QString::fromStdString(code)});
    QVERIFY(process.waitForFinished(600000));
    QVERIFY2(process.exitCode() == 0, process.readAllStandardError().constData());
    torch::NoGradGuard noGrad;
    const torch::Tensor logits = trained.model->forward(images);
    const double difference = test::relativeDifference(test::readNpyTensor(folder / "logits.npy"), logits);
    QVERIFY2(difference < 1e-5, qPrintable(QString::number(difference)));
    TrainedClassifier roundTrip = loadScriptedClassifier(folder / "roundtrip.pt");
    const double roundTripDifference = test::relativeDifference(roundTrip.model->forward(images), logits);
    QVERIFY2(roundTripDifference < 1e-5, qPrintable(QString::number(roundTripDifference)));
  }

 private:
  test::ScratchDir scratch_;
};

BRAINPRIOR_TEST_CLASS(TestPythonExport)
#include "test_python_export.moc"
