// brainprior-cli as a user runs it: JSON on stdout, errors on stderr with a non-zero exit code.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QtTest>

#include "test_support.h"

namespace {

struct CliRun {
  int exitCode = -1;
  QByteArray out;
  QByteArray err;
  QJsonObject json() const { return QJsonDocument::fromJson(out).object(); }
};

CliRun runCli(const QStringList& arguments) {
  QProcess process;
  process.start(QStringLiteral(BRAINPRIOR_CLI_PATH), QStringList{QStringLiteral("--quiet")} + arguments);
  process.waitForFinished(-1);
  return {process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1, process.readAllStandardOutput(),
          process.readAllStandardError()};
}

const QStringList kSmallPopulation = {"--neurons", "12", "--train", "60", "--validation", "10",
                                      "--test", "5", "--repeats", "4", "--seed", "7"};

}  // namespace

class CliTest : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void infoOnDefaultDataReportsThePopulation() {
    const auto run = runCli({"info", "default"});
    QCOMPARE(run.exitCode, 0);
    const auto json = run.json();
    QVERIFY2(!json.isEmpty(), run.out.constData());
    QCOMPARE(json.value("neurons").toInt(), 400);
  }

  void synthWritesADatasetThatInfoReads() {
    bp::test::ScratchDir dir;
    const auto file = QString::fromStdString((dir / "population.h5").string());
    const auto synth = runCli(QStringList{"synth", "-o", file} + kSmallPopulation);
    QVERIFY2(synth.exitCode == 0, synth.err.constData());
    QVERIFY(QFile::exists(file));
    QVERIFY(QFile::exists(file + ".ground_truth.json"));
    const auto info = runCli({"info", file});
    QVERIFY2(info.exitCode == 0, info.err.constData());
    QCOMPARE(info.json().value("neurons").toInt(), 12);
    QCOMPARE(info.json().value("trials").toObject().value("present").toInt(), 60 + 10 + 5 * 4);
  }

  void synthIsReproducibleForASeed() {
    bp::test::ScratchDir dir;
    const auto first = QString::fromStdString((dir / "a.h5").string());
    const auto second = QString::fromStdString((dir / "b.h5").string());
    QCOMPARE(runCli(QStringList{"synth", "-o", first} + kSmallPopulation).exitCode, 0);
    QCOMPARE(runCli(QStringList{"synth", "-o", second} + kSmallPopulation).exitCode, 0);
    auto a = runCli({"info", first}).json();
    auto b = runCli({"info", second}).json();
    QVERIFY(!a.isEmpty());
    a.remove("source");
    b.remove("source");
    QCOMPARE(a, b);
  }

  void truncatedHdf5GivesAClearErrorAndNonZeroExit() {
    bp::test::ScratchDir dir;
    const auto file = dir / "population.h5";
    QCOMPARE(runCli(QStringList{"synth", "-o", QString::fromStdString(file.string())} + kSmallPopulation).exitCode, 0);
    const auto bytes = bp::test::readBytes(file);
    const auto truncated = dir / "truncated.h5";
    bp::test::writeBytes(truncated, bytes.substr(0, bytes.size() / 2));
    const auto run = runCli({"info", QString::fromStdString(truncated.string())});
    QVERIFY(run.exitCode != 0);
    QVERIFY2(run.err.contains("truncated.h5"), run.err.constData());
    QVERIFY(run.out.isEmpty());
  }

  void truncatedNpyInAFileTreeGivesAClearError() {
    bp::test::ScratchDir dir;
    const auto root = dir / "tree";
    // A minimal file tree: one trial whose response file is cut short.
    const std::string header = "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }";
    std::string npy = std::string("\x93NUMPY\x01\x00", 8);
    std::string padded = header;
    while ((10 + padded.size() + 1) % 64 != 0) padded += ' ';
    padded += '\n';
    npy += static_cast<char>(padded.size() & 0xff);
    npy += static_cast<char>(padded.size() >> 8);
    npy += padded;
    bp::test::writeBytes(root / "data/responses/0.npy", npy + std::string(8, '\0'));  // 1 of 3 values
    bp::test::writeBytes(root / "config.json", R"({"links": {"targets": "responses", "inputs": "images"}})");
    const auto run = runCli({"info", QString::fromStdString(root.string())});
    QVERIFY(run.exitCode != 0);
    QVERIFY2(run.err.contains("error"), run.err.constData());
  }

  void rsaWritesAMatrixThatCompareAndCeilingUse() {
    bp::test::ScratchDir dir;
    const auto data = QString::fromStdString((dir / "population.h5").string());
    QCOMPARE(runCli(QStringList{"synth", "-o", data} + kSmallPopulation).exitCode, 0);
    const auto averaged = QString::fromStdString((dir / "averaged.h5").string());
    const auto single = QString::fromStdString((dir / "single.h5").string());
    const auto csv = QString::fromStdString((dir / "averaged.csv").string());
    const auto rsa = runCli({"rsa", data, "-o", averaged, "--tier", "test", "--csv", csv});
    QVERIFY2(rsa.exitCode == 0, rsa.err.constData());
    QCOMPARE(rsa.json().value("images").toInt(), 5);
    QCOMPARE(rsa.json().value("pairs").toInt(), 10);
    QVERIFY(QFile::exists(csv));
    QCOMPARE(runCli({"rsa", data, "-o", single, "--tier", "test", "--single-trial", "0", "--order", "cluster"}).exitCode, 0);
    const auto byNeuron = QString::fromStdString((dir / "by-neuron.h5").string());
    QCOMPARE(runCli({"rsa", data, "-o", byNeuron, "--tier", "test", "--order", "neuron", "--order-neuron", "3"}).exitCode, 0);
    QVERIFY(runCli({"rsa", data, "-o", byNeuron, "--tier", "test", "--order", "neuron", "--order-neuron", "99"}).exitCode != 0);

    const auto compare = runCli({"compare", averaged, averaged, "--bootstrap", "50", "--permutations", "50"});
    QVERIFY2(compare.exitCode == 0, compare.err.constData());
    const auto rows = compare.json().value("rows").toArray();
    QCOMPARE(rows.size(), 4);
    for (const auto& row : rows) QCOMPARE(row.toObject().value("value").toDouble(), 1.0);

    const auto ceiling = runCli({"ceiling", data, "--splits", "3"});
    QVERIFY2(ceiling.exitCode == 0, ceiling.err.constData());
    const auto splitHalf = ceiling.json().value("split_half").toObject();
    QCOMPARE(splitHalf.value("images").toInt(), 5);
    QVERIFY(splitHalf.value("noise_ceiling_spearman_brown").isDouble());
  }

  void compareRefusesMatricesOverDifferentImages() {
    bp::test::ScratchDir dir;
    const auto data = QString::fromStdString((dir / "population.h5").string());
    QCOMPARE(runCli(QStringList{"synth", "-o", data} + kSmallPopulation).exitCode, 0);
    const auto test = QString::fromStdString((dir / "test.h5").string());
    const auto validation = QString::fromStdString((dir / "validation.h5").string());
    QCOMPARE(runCli({"rsa", data, "-o", test, "--tier", "test"}).exitCode, 0);
    QCOMPARE(runCli({"rsa", data, "-o", validation, "--tier", "validation"}).exitCode, 0);
    const auto run = runCli({"compare", test, validation});
    QVERIFY(run.exitCode != 0);
    QVERIFY(!run.err.isEmpty());
  }

  void missingPathFailsWithItsName() {
    const auto run = runCli({"info", "/nonexistent/brainprior-data"});
    QVERIFY(run.exitCode != 0);
    QVERIFY2(run.err.contains("/nonexistent/brainprior-data"), run.err.constData());
  }

  void runtimeReportsVersionsAndBlas() {
    const auto run = runCli({"runtime"});
    QCOMPARE(run.exitCode, 0);
    const auto json = run.json();
    QVERIFY(!json.value("versions").toObject().value("libtorch").toString().isEmpty());
    QVERIFY(!json.value("blas").toObject().value("name").toString().isEmpty());
    QVERIFY(json.value("threads").toInt() >= 1);
  }

  void unknownDeviceIsRejected() {
    const auto run = runCli({"--device", "tpu", "runtime"});
    QVERIFY(run.exitCode != 0);
  }
};

QTEST_GUILESS_MAIN(CliTest)
#include "test_cli.moc"
