// Files as a hostile but fair user hands them over: model files whose tensors or description were
// damaged or edited are refused by name (never a crash or garbage predictions), a model written onto
// a full disk fails cleanly and leaves the old file, a device or FIFO is neither replaced nor read,
// the temporary files of a killed write are swept by the next write to the same target, and a tiny
// HDF5 file that declares a huge dataset it never wrote is refused instead of allocated.
// LibTorch comes before Qt: Qt's `slots` macro would break LibTorch headers that use the word.
#include <torch/serialize/output-archive.h>
#include <torch/utils.h>

#include "runtime/torch_archive.h"
#include "test_registry.h"
#include "training/neural_trainer.h"

#include <QtTest>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>

#include "data/hdf5_file.h"
#include "runtime/atomic_file.h"
#include "runtime/error.h"
#include "runtime/runtime.h"
#include "file_error_message.h"
#include "test_support.h"

using namespace bp;
namespace fs = std::filesystem;

namespace {

FittedNeuralModel smallModel() {
  NeuralModelConfig config;
  config.inputHeight = 16;
  config.inputWidth = 24;
  config.neuronCount = 5;
  config.kernelSizes = {5, 3};
  config.channels = {4, 4};
  FittedNeuralModel fitted;
  fitted.model = NeuralModel(config);
  fitted.normalization = {{0.5f}, {0.25f}, {1.0f, 2.0f, 3.0f, 0.5f, 1.5f}, {0.0f, 255.0f}, {}, {}, {}, {}};
  return fitted;
}

nlohmann::json descriptionOf(const FittedNeuralModel& fitted) {
  return {{"format", "brainprior neural model"},
          {"version", 1},
          {"model", toJson(fitted.model->config())},
          {"normalization", toJson(fitted.normalization)}};
}

// Writes a model file as saveNeuralModel does, from a description and weights a test edited.
void writeModelFile(const fs::path& path, const FittedNeuralModel& fitted, const nlohmann::json& description) {
  torch::serialize::OutputArchive archive;
  fitted.model->save(archive);
  archive.write("brainprior_neural_model", c10::IValue(description.dump()));
  writeArchiveFile(path, archive);
}

}  // namespace

class TestFileSafety : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() { initializeRuntime(); }

  void damagedWeightsAreRefusedByName() {
    test::ScratchDir scratch;
    const fs::path path = scratch / "model.pt";
    // An empty readout record (it crashed the first forward pass).
    FittedNeuralModel emptied = smallModel();
    std::string emptiedName;
    {
      const torch::NoGradGuard noGrad;
      for (auto& item : emptied.model->named_parameters())
        if (item.key().find("readout") != std::string::npos) {
          emptiedName = item.key();
          item.value().set_(torch::empty({0}));
          break;
        }
    }
    QVERIFY(!emptiedName.empty());
    writeModelFile(path, emptied, descriptionOf(smallModel()));
    QString message = test::fileErrorMessage([&] { loadNeuralModel(path); });
    QVERIFY2(message.contains(QString::fromStdString(path.string())) &&
                 message.contains(QString::fromStdString("'" + emptiedName + "' has shape [0]")),
             qPrintable(message));

    // Values no trained model holds: NaN, and the 1e32 that damaged bytes read as floats give.
    for (const double value : {std::nan(""), 1e32}) {
      FittedNeuralModel damaged = smallModel();
      {
        const torch::NoGradGuard noGrad;
        damaged.model->parameters().front().view(-1)[0] = value;
      }
      writeModelFile(path, damaged, descriptionOf(damaged));
      message = test::fileErrorMessage([&] { loadNeuralModel(path); });
      QVERIFY2(message.contains(QStringLiteral("not finite or beyond 1e10")), qPrintable(message));
    }
  }

  void editedDescriptionsAreRefusedByName() {
    test::ScratchDir scratch;
    const fs::path path = scratch / "model.pt";
    const FittedNeuralModel fitted = smallModel();
    const std::pair<std::function<void(nlohmann::json&)>, QString> edits[] = {
        {[](nlohmann::json& d) { d["format"] = "other"; }, QStringLiteral("not a BrainPrior neural model")},
        {[](nlohmann::json& d) { d["version"] = 99; }, QStringLiteral("version 99")},
        {[](nlohmann::json& d) { d["normalization"]["image_std"] = {0.0}; }, QStringLiteral("'image_std'")},
        {[](nlohmann::json& d) { d["normalization"]["response_scale"] = {1.0, 2.0}; },
         QStringLiteral("2 response scales for a model of 5 neurons")},
        {[](nlohmann::json& d) { d["model"]["channels"] = {8, 8}; }, QStringLiteral("has shape")},
    };
    for (const auto& [edit, expected] : edits) {
      nlohmann::json description = descriptionOf(fitted);
      edit(description);
      writeModelFile(path, fitted, description);
      const QString message = test::fileErrorMessage([&] { loadNeuralModel(path); });
      QVERIFY2(message.contains(expected) && message.contains(QString::fromStdString(path.string())),
               qPrintable(message));
    }
    // The unedited file loads.
    writeModelFile(path, fitted, descriptionOf(fitted));
    QCOMPARE(loadNeuralModel(path).model->config().neuronCount, std::int64_t{5});
  }

  void modelOntoAFullDiskFailsCleanly() {
    test::ScratchDir scratch;
    const fs::path path = scratch / "model.pt";
    saveNeuralModel(smallModel(), path);
    const std::string before = test::readBytes(path);
    QString message;
    test::withFileSizeLimit(4 * 1024, [&] { message = test::fileErrorMessage([&] { saveNeuralModel(smallModel(), path); }); });
    QVERIFY2(message.contains(QString::fromStdString(path.string())), qPrintable(message));
    QCOMPARE(test::readBytes(path), before);
    QVERIFY(!test::hasTemporaryFiles(scratch.path()));
  }

  void devicesAndFifosAreNeitherReplacedNorRead() {
    const QString device = test::fileErrorMessage([] { writeFileAtomically("/dev/null", "text"); });
    QVERIFY2(device.contains(QStringLiteral("not a regular file")), qPrintable(device));
    QVERIFY(fs::is_character_file("/dev/null"));

    test::ScratchDir scratch;
    const fs::path fifo = scratch / "config.json";
    QCOMPARE(::mkfifo(fifo.c_str(), 0600), 0);
    // Read as a config or a model, a FIFO would block forever: refused at once, by name.
    for (const auto& read : std::vector<std::function<void()>>{[&] { readTextFile(fifo); },
                                                               [&] { loadNeuralModel(fifo); }}) {
      const QString message = test::fileErrorMessage(read);
      QVERIFY2(message.contains(QStringLiteral("not a regular file")) &&
                   message.contains(QString::fromStdString(fifo.string())),
               qPrintable(message));
    }
    const QString folder = test::fileErrorMessage([&] { readTextFile(scratch.path()); });
    QVERIFY2(folder.contains(QStringLiteral("is a folder")), qPrintable(folder));
  }

  void abandonedTemporaryFilesAreSwept() {
    test::ScratchDir scratch;
    const fs::path target = scratch / "summary.json";
    // A process that no longer exists (beyond Linux's largest pid) and this one, still writing.
    const fs::path abandoned = scratch / ".summary.json.tmp-999999999-12345";
    const fs::path live = scratch / (".summary.json.tmp-" + std::to_string(::getpid()) + "-67890");
    const fs::path other = scratch / ".other.json.tmp-999999999-1";
    for (const fs::path& path : {abandoned, live, other}) test::writeBytes(path, std::string(1000, 'x'));
    writeFileAtomically(target, "{}\n");
    QVERIFY(!fs::exists(abandoned));
    QVERIFY(fs::exists(live));
    QVERIFY(fs::exists(other));  // another target's temporary file is that target's to sweep
    QCOMPARE(test::readBytes(target), std::string("{}\n"));
  }

  void declaredSizesMustBeBackedByTheFile() {
    test::ScratchDir scratch;
    const fs::path path = scratch / "declared.h5";
    {
      // 10^8 floats (400 MB) declared and never written: the file stays a few kilobytes.
      Hdf5File file = Hdf5File::create(path);
      file.createDataset<float>("statistics/images/all/mean", {100'000'000});
      file.writeDataset<float>("small", {1.0f, 2.0f, 3.0f}, {3});
      file.close();
    }
    QVERIFY(fs::file_size(path) < 100'000);
    const Hdf5File file = Hdf5File::openForReading(path);
    const QString message = test::fileErrorMessage([&] { file.readDataset<float>("statistics/images/all/mean"); });
    QVERIFY2(message.contains(QStringLiteral("declares 100000000 elements")) &&
                 message.contains(QStringLiteral("never written")) &&
                 message.contains(QString::fromStdString(path.string())),
             qPrintable(message));
    QCOMPARE(file.readDataset<float>("small"), (std::vector<float>{1.0f, 2.0f, 3.0f}));
  }

  void anEmptyOutputPathIsRefusedInWords() {
    const QString message = test::fileErrorMessage([] { writeFileAtomically("", "text"); });
    QVERIFY2(message.contains(QStringLiteral("no file name")), qPrintable(message));
  }
};

BRAINPRIOR_TEST_CLASS(TestFileSafety)
#include "test_file_safety.moc"
