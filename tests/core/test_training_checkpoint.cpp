// The trainers' one checkpoint codec: a round trip of modules, optimizer state, best weights and the
// description; refusals by name (another kind, another run, a cut file); and a
// write onto a full disk that fails cleanly, leaving the previous checkpoint and no temporary file.
// LibTorch comes before Qt: Qt's `slots` macro would break LibTorch headers that use the word.
#include <torch/nn/modules/linear.h>
#include <torch/optim/sgd.h>
#include <torch/utils.h>

#include "test_registry.h"
#include "training/training_checkpoint.h"

#include <QtTest>

#include <filesystem>

#include "runtime/error.h"
#include "runtime/runtime.h"
#include "file_error_message.h"
#include "test_support.h"

using namespace bp;

namespace {

const CheckpointKind kKind{"brainprior test checkpoint", "run", "only epochs may change", "train without resuming"};

struct Trained {
  torch::nn::Linear model{nullptr};
  std::unique_ptr<torch::optim::SGD> optimizer;
};

// A model with momentum in its optimizer after one step, so that both carry state.
Trained trained(int seed, std::int64_t inputs = 6) {
  torch::manual_seed(seed);
  Trained result;
  result.model = torch::nn::Linear(inputs, 3);
  result.optimizer = std::make_unique<torch::optim::SGD>(result.model->parameters(),
                                                         torch::optim::SGDOptions(0.1).momentum(0.9));
  result.optimizer->zero_grad();
  result.model->forward(torch::randn({4, inputs})).pow(2).sum().backward();
  result.optimizer->step();
  return result;
}

}  // namespace

class TestTrainingCheckpoint : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() { initializeRuntime(); }

  void roundTrip() {
    test::ScratchDir scratch;
    const auto path = scratch / "checkpoint.pt";
    Trained written = trained(1);
    const std::vector<torch::Tensor> best = snapshotModule(*written.model);
    const nlohmann::json identity = {{"config", {{"lr", 0.1}}}};
    writeTrainingCheckpoint(path, kKind, identity, {{"epoch", 4}, {"history", {1, 2}}},
                            {{"model", written.model.get()}, {"absent", nullptr}}, *written.optimizer, best);

    Trained read = trained(2);
    std::vector<torch::Tensor> readBest = snapshotModule(*read.model);
    const nlohmann::json description =
        readTrainingCheckpoint(path, kKind, identity, {{"model", read.model.get()}}, *read.optimizer, readBest);
    QCOMPARE(description.at("epoch").get<int>(), 4);
    QCOMPARE(description.at("history"), nlohmann::json({1, 2}));
    QCOMPARE(description.at("format").get<std::string>(), kKind.format);
    QCOMPARE(readTrainingCheckpointDescription(path, kKind), description);
    QVERIFY(torch::equal(read.model->weight, written.model->weight));
    QVERIFY(torch::equal(read.model->bias, written.model->bias));
    for (std::size_t i = 0; i < best.size(); ++i) QVERIFY(torch::equal(readBest[i], best[i]));
    // The optimizer's momentum came back: the next step is the same on both.
    const torch::Tensor input = torch::randn({4, 6});
    for (Trained* side : {&written, &read}) {
      side->optimizer->zero_grad();
      side->model->forward(input).pow(2).sum().backward();
      side->optimizer->step();
    }
    QVERIFY(torch::allclose(read.model->weight, written.model->weight));
  }

  void refusalsNameTheFileAndTheReason() {
    test::ScratchDir scratch;
    const auto path = scratch / "checkpoint.pt";
    Trained written = trained(1);
    writeTrainingCheckpoint(path, kKind, {{"config", {{"lr", 0.1}, {"width", 4}}}}, {}, {{"model", written.model.get()}},
                            *written.optimizer, {});
    Trained read = trained(2);
    std::vector<torch::Tensor> none;
    const auto readAs = [&](const CheckpointKind& kind, const nlohmann::json& identity) {
      return test::fileErrorMessage([&] {
        readTrainingCheckpoint(path, kind, identity, {{"model", read.model.get()}}, *read.optimizer, none);
      });
    };
    const QString otherRun = readAs(kKind, {{"config", {{"lr", 0.2}, {"width", 4}}}});
    QVERIFY2(otherRun.contains("belongs to a different run (/config/lr differs; only epochs may change); delete it "
                               "or train without resuming"),
             qPrintable(otherRun));
    QVERIFY(otherRun.contains(QString::fromStdString(path.string())));
    const QString otherKind =
        readAs(CheckpointKind{"brainprior other checkpoint", "fit", "", ""}, {{"config", {{"lr", 0.1}, {"width", 4}}}});
    QVERIFY2(otherKind.contains("not a BrainPrior checkpoint of this kind"), qPrintable(otherKind));

    // A checkpoint cut in half.
    const std::string bytes = test::readBytes(path);
    test::writeBytes(path, bytes.substr(0, bytes.size() / 2));
    const QString cut = readAs(kKind, {{"config", {{"lr", 0.1}, {"width", 4}}}});
    QVERIFY2(cut.contains("not a readable LibTorch archive"), qPrintable(cut));
    QVERIFY(cut.contains(QString::fromStdString(path.string())));

  }

  void fullDiskLeavesThePreviousCheckpoint() {
    test::ScratchDir scratch;
    const auto path = scratch / "checkpoint.pt";
    Trained small = trained(1);
    writeTrainingCheckpoint(path, kKind, {}, {{"epoch", 1}}, {{"model", small.model.get()}}, *small.optimizer, {});
    const std::string before = test::readBytes(path);

    // A file-size limit stands in for a full disk: writes past it fail with EFBIG (SIGXFSZ ignored).
    Trained large = trained(3, 20000);
    QString message;
    test::withFileSizeLimit(64 * 1024, [&] {
      message = test::fileErrorMessage([&] {
        writeTrainingCheckpoint(path, kKind, {}, {{"epoch", 2}}, {{"model", large.model.get()}}, *large.optimizer, {});
      });
    });

    QVERIFY2(!message.isEmpty(), "the write past the limit did not fail");
    QVERIFY(message.contains(QString::fromStdString(path.string())));
    QCOMPARE(test::readBytes(path), before);
    QVERIFY(!test::hasTemporaryFiles(scratch.path()));
  }
};

BRAINPRIOR_TEST_CLASS(TestTrainingCheckpoint)
#include "test_training_checkpoint.moc"
