// brainprior-cli as a user runs it: JSON on stdout, errors on stderr with a non-zero exit code.
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QtTest>

#include <sys/resource.h>

#include <cmath>
#include <csignal>
#include <nlohmann/json.hpp>

#include "cli_run.h"
#include "nwb_fixture.h"
#include "striped_images.h"
#include "test_registry.h"
#include "test_support.h"

namespace {

using bp::test::CliRun;
using bp::test::runCli;

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

    // The same matrix for rsatoolbox: 1 - s, which `info` describes and `compare` reads.
    const auto rdm = QString::fromStdString((dir / "averaged-rdm.hdf5").string());
    QCOMPARE(runCli({"rsa", data, "-o", averaged, "--tier", "test", "--rsatoolbox", rdm}).exitCode, 0);
    const auto rdmInfo = runCli({"info", rdm});
    QVERIFY2(rdmInfo.exitCode == 0, rdmInfo.err.constData());
    QCOMPARE(rdmInfo.json().value("format").toString(), QStringLiteral("rsatoolbox RDMs"));
    QCOMPARE(rdmInfo.json().value("images").toInt(), 5);
    QCOMPARE(rdmInfo.json().value("rsatoolbox_measure").toString(),
             QStringLiteral("centred cosine distance (1 - centred cosine)"));
    const auto againstRdm = runCli({"compare", averaged, rdm, "--methods", "pearson"});
    QVERIFY2(againstRdm.exitCode == 0, againstRdm.err.constData());
    QCOMPARE(againstRdm.json().value("rows").toArray().first().toObject().value("value").toDouble(), -1.0);

    const auto ceiling = runCli({"ceiling", data, "--splits", "3"});
    QVERIFY2(ceiling.exitCode == 0, ceiling.err.constData());
    const auto splitHalf = ceiling.json().value("split_half").toObject();
    QCOMPARE(splitHalf.value("images").toInt(), 5);
    QVERIFY(splitHalf.value("noise_ceiling_spearman_brown").isDouble());
  }

  void modelCommandsFitEvaluatePredictBuildTheTargetAndMeis() {
    bp::test::ScratchDir dir;
    auto path = [&](const char* name) { return QString::fromStdString((dir / name).string()); };
    QCOMPARE(runCli(QStringList{"synth", "-o", path("population.h5")} + kSmallPopulation).exitCode, 0);
    const QByteArray config =
        R"({"model": {"kernel_sizes": [9, 3], "channels": [4, 4]}, "trainer": {"max_epochs": 2, "batch_size": 16}})";
    bp::test::writeBytes(dir / "fit.json", config.toStdString());

    const auto fit = runCli({"fit", path("population.h5"), "--config", path("fit.json"), "-o", path("model.pt")});
    QVERIFY2(fit.exitCode == 0, fit.err.constData());
    QCOMPARE(fit.json().value("epochs").toInt(), 2);
    QVERIFY(fit.json().value("test_mean_average_correlation").isDouble());
    QVERIFY(QFile::exists(path("model.pt")) && QFile::exists(path("model.pt.metrics.json")));
    QVERIFY(!QFile::exists(path("model.pt.checkpoint")));  // a finished fit leaves no checkpoint
    QFile metricsFile(path("model.pt.metrics.json"));
    QVERIFY(metricsFile.open(QIODevice::ReadOnly));
    const QJsonObject metrics = QJsonDocument::fromJson(metricsFile.readAll()).object();
    QCOMPARE(metrics.value("fit").toObject().value("history").toArray().size(), 2);
    QVERIFY(metrics.value("runtime").toObject().value("versions").toObject().contains("libtorch"));
    QCOMPARE(metrics.value("trainer").toObject().value("seed").toInt(), 0);

    const auto evaluate = runCli({"evaluate", path("model.pt"), path("population.h5"), "--tier", "test"});
    QVERIFY2(evaluate.exitCode == 0, evaluate.err.constData());
    QCOMPARE(evaluate.json().value("neurons").toInt(), 12);

    const auto predict = runCli({"predict", path("model.pt"), path("population.h5"), "--tier", "test", "-o",
                                 path("predictions.npy")});
    QVERIFY2(predict.exitCode == 0, predict.err.constData());
    QCOMPARE(predict.json().value("images").toInt(), 5);
    QCOMPARE(predict.json().value("neurons").toInt(), 12);
    QVERIFY(QFile::exists(path("predictions.image_ids.npy")));

    const auto target = runCli({"target", path("model.pt"), path("population.h5"), "-o", path("target.h5"), "--check"});
    QVERIFY2(target.exitCode == 0, target.err.constData());
    QCOMPARE(target.json().value("images").toInt(), 60 + 10 + 5);
    const QJsonObject check = target.json().value("denoising_check").toObject();
    QCOMPARE(check.value("images").toInt(), 5);
    QVERIFY(check.value("predicted_vs_repeat_average").isDouble());
    // The target is a matrix file the similarity commands read.
    QCOMPARE(runCli({"compare", path("target.h5"), path("target.h5"), "--methods", "pearson"}).exitCode, 0);

    const auto mei = runCli({"mei", path("model.pt"), "--neurons", "0,3", "--steps", "20", "-o", path("mei.npy")});
    QVERIFY2(mei.exitCode == 0, mei.err.constData());
    QCOMPARE(mei.json().value("neurons").toArray().size(), 2);
    QVERIFY(QFile::exists(path("mei.npy")));
    QVERIFY(runCli({"mei", path("model.pt"), "--neurons", "12"}).exitCode != 0);

    // Config mistakes are named.
    bp::test::writeBytes(dir / "bad.json", R"({"model": {"kernel_size": [9]}})");
    const auto bad = runCli({"fit", path("population.h5"), "--config", path("bad.json"), "-o", path("bad.pt")});
    QVERIFY(bad.exitCode != 0);
    QVERIFY2(bad.err.contains("kernel_size"), bad.err.constData());
  }

  void nwbRecordingsAreReadAsChosenAndFitted() {
    bp::test::ScratchDir dir;
    auto path = [&](const char* name) { return QString::fromStdString((dir / name).string()); };
    bp::test::NwbFixture fixture;
    fixture.fluorescenceToo = true;
    fixture.height = fixture.width = 12;
    fixture.images = 6;
    fixture.shown = {0, 1, 2, 0, 3, 2, 0, 2, 4, 5, 1, 3, 4, 5, 0, 1};
    fixture.write(dir / "session.nwb");
    const QString fluorescence = QString::fromStdString(fixture.fluorescencePath());

    // Two series and no choice: the choices are printed, and the error names them.
    const auto ambiguous = runCli({"info", path("session.nwb")});
    QVERIFY(ambiguous.exitCode != 0);
    QVERIFY2(ambiguous.err.contains("--roi-series") && ambiguous.err.contains(fluorescence.toUtf8()),
             ambiguous.err.constData());
    QCOMPARE(ambiguous.json().value("nwb").toObject().value("roi_series").toArray().size(), 2);

    const auto info = runCli({"info", path("session.nwb"), "--roi-series", fluorescence});
    QVERIFY2(info.exitCode == 0, info.err.constData());
    QCOMPARE(info.json().value("format").toString(), QStringLiteral("NWB 2 (two-photon ROI traces)"));
    QCOMPARE(info.json().value("neurons").toInt(), 3);
    QCOMPARE(info.json().value("trials").toObject().value("present").toInt(), 16);

    const auto convert = runCli({"convert", path("session.nwb"), path("session.h5"), "--roi-series", fluorescence,
                                 "--window-start", "0.3", "--window-length", "0.15"});
    QVERIFY2(convert.exitCode == 0, convert.err.constData());
    QCOMPARE(runCli({"info", path("session.h5")}).json().value("neurons").toInt(), 3);

    bp::test::writeBytes(dir / "fit.json",
                         R"({"model": {"kernel_sizes": [5, 3], "channels": [4, 4]}, "trainer": {"max_epochs": 1, "batch_size": 4}})");
    const auto fit = runCli({"fit", path("session.nwb"), "--roi-series", fluorescence, "--config", path("fit.json"),
                             "-o", path("model.pt")});
    QVERIFY2(fit.exitCode == 0, fit.err.constData());
    QFile metricsFile(path("model.pt.metrics.json"));
    QVERIFY(metricsFile.open(QIODevice::ReadOnly));
    const QJsonObject read = QJsonDocument::fromJson(metricsFile.readAll())
                                 .object()
                                 .value("dataset")
                                 .toObject()
                                 .value("nwb_read_options")
                                 .toObject();
    QCOMPARE(read.value("roi_series").toString(), fluorescence);
    QCOMPARE(read.value("window_length").toDouble(), 0.5);
  }

  void severalRecordingsFitOneModelThatEvaluatesAndMakesOneTarget() {
    bp::test::ScratchDir dir;
    auto path = [&](const char* name) { return QString::fromStdString((dir / name).string()); };
    for (const char* seed : {"1", "2"})
      QCOMPARE(runCli({"synth", "-o", path(seed[0] == '1' ? "first.h5" : "second.h5"), "--neurons", "12", "--train", "60",
                       "--validation", "10", "--test", "5", "--repeats", "4", "--seed", seed})
                   .exitCode,
               0);
    bp::test::writeBytes(dir / "fit.json",
                         R"({"model": {"kernel_sizes": [9, 3], "channels": [4, 4]}, "trainer": {"max_epochs": 2, "batch_size": 16}})");
    const auto fit = runCli({"fit", path("first.h5"), path("second.h5"), "--config", path("fit.json"), "-o", path("corpus.pt")});
    QVERIFY2(fit.exitCode == 0, fit.err.constData());
    const QJsonArray recordings = fit.json().value("recordings").toArray();
    QCOMPARE(recordings.size(), 2);
    // Both files carry the generator's name: the file names tell the readouts apart.
    QVERIFY(recordings[0].toObject().value("recording").toString().contains("first.h5"));
    QVERIFY(recordings[1].toObject().value("test_mean_feve").isDouble());
    QFile metricsFile(path("corpus.pt.metrics.json"));
    QVERIFY(metricsFile.open(QIODevice::ReadOnly));
    const QJsonObject metrics = QJsonDocument::fromJson(metricsFile.readAll()).object();
    QCOMPARE(metrics.value("recordings").toArray().size(), 2);
    QCOMPARE(metrics.value("fit").toObject().value("history").toArray().first().toObject()
                 .value("recording_validation_correlations").toArray().size(), 2);

    const auto evaluate = runCli({"evaluate", path("corpus.pt"), path("first.h5"), path("second.h5")});
    QVERIFY2(evaluate.exitCode == 0, evaluate.err.constData());
    QCOMPARE(evaluate.json().value("recordings").toInt(), 2);
    QCOMPARE(evaluate.json().value("neurons").toInt(), 24);
    const auto oneDataset = runCli({"evaluate", path("corpus.pt"), path("first.h5")});
    QVERIFY(oneDataset.exitCode != 0);
    QVERIFY2(oneDataset.err.contains("2 recording(s)"), oneDataset.err.constData());

    const auto target = runCli({"target", path("corpus.pt"), path("first.h5"), path("second.h5"), "--images",
                                "/usr/share/datasets/fashion-mnist", "--split", "test", "--max-images", "30", "-o",
                                path("target.h5")});
    QVERIFY2(target.exitCode == 0, target.err.constData());
    QCOMPARE(target.json().value("images").toInt(), 30);
    QCOMPARE(target.json().value("recordings").toArray().size(), 2);
    // A report names the model by its first recording.
    const auto report = runCli({"report", path("first.h5"), path("corpus.pt"), "-o", path("report.html")});
    QVERIFY2(report.exitCode == 0, report.err.constData());
    QVERIFY(QString::fromStdString(bp::test::readBytes(dir / "report.html")).contains(QStringLiteral("first of 2 recordings")));
    // Without --images, over the first recording's images of the tier, which both models predict.
    const auto ownImages = runCli({"target", path("corpus.pt"), path("first.h5"), path("second.h5"), "--tier", "test",
                                   "-o", path("own.h5")});
    QVERIFY2(ownImages.exitCode == 0, ownImages.err.constData());
    QCOMPARE(ownImages.json().value("images").toInt(), 5);
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

  void trainLaunchesSeedsThatRunsCompares() {
    bp::test::ScratchDir dir;
    bp::test::writeStripedIdxSplit(dir / "stripes", "train", 96, 1);
    bp::test::writeStripedIdxSplit(dir / "stripes", "t10k", 30, 2);
    const auto path = [&](const char* name) { return QString::fromStdString((dir / name).string()); };
    nlohmann::json config = bp::test::stripedTrainingConfig(dir / "stripes");
    config["data"]["validation_fraction"] = 0.1;
    bp::test::writeBytes(dir / "run.json", config.dump());

    const auto trained = runCli({"train", "--config", path("run.json"), "--output-dir", path("runs"), "--seeds", "3", "4"});
    QVERIFY2(trained.exitCode == 0, trained.err.constData());
    const QJsonArray launched = trained.json().value("runs").toArray();
    QCOMPARE(launched.size(), 2);
    QCOMPARE(launched.at(0).toObject().value("state").toString(), QStringLiteral("finished"));
    QCOMPARE(launched.at(1).toObject().value("seed").toInt(), 4);

    // A launch again into the same folder is refused: nothing is overwritten.
    const auto again = runCli({"train", "--config", path("run.json"), "--output-dir", path("runs"), "--seeds", "3"});
    QVERIFY(again.exitCode != 0);
    QVERIFY2(again.err.contains("already holds a run"), again.err.constData());

    const auto listed = runCli({"runs", path("runs"), "--compare"});
    QVERIFY2(listed.exitCode == 0, listed.err.constData());
    QCOMPARE(listed.json().value("runs").toArray().size(), 2);
    const QJsonArray groups = listed.json().value("groups").toArray();
    QCOMPARE(groups.size(), 1);
    const QJsonObject group = groups.at(0).toObject();
    QCOMPARE(group.value("name").toString(), QStringLiteral("stripes"));
    QCOMPARE(group.value("finished").toInt(), 2);
    const double first = launched.at(0).toObject().value("test_accuracy").toDouble();
    const double second = launched.at(1).toObject().value("test_accuracy").toDouble();
    QVERIFY(std::abs(group.value("mean_test_accuracy").toDouble() - (first + second) / 2) < 1e-9);
  }

  void terminatedTrainingRecordsItAndResumes() {
    bp::test::ScratchDir dir;
    bp::test::writeStripedIdxSplit(dir / "stripes", "train", 96, 1);
    bp::test::writeStripedIdxSplit(dir / "stripes", "t10k", 30, 2);
    nlohmann::json config = bp::test::stripedTrainingConfig(dir / "stripes");
    config["epochs"] = 200;
    bp::test::writeBytes(dir / "run.json", config.dump());
    const QString runs = QString::fromStdString((dir / "runs").string());
    QProcess process;
    process.start(QStringLiteral(BRAINPRIOR_CLI_PATH),
                  {QStringLiteral("train"), QStringLiteral("--config"), QString::fromStdString((dir / "run.json").string()),
                   QStringLiteral("--output-dir"), runs, QStringLiteral("--seeds"), QStringLiteral("5")});
    // SIGTERM once the first epoch is on disk, as a cluster's scheduler ends a job.
    const auto metrics = dir / "runs" / "stripes-seed5" / "metrics.csv";
    QTRY_VERIFY_WITH_TIMEOUT(std::filesystem::exists(metrics) && bp::test::readBytes(metrics).find("\n1,") != std::string::npos,
                             300000);
    process.terminate();
    QVERIFY(process.waitForFinished(300000));
    const QByteArray error = process.readAllStandardError();
    QCOMPARE(process.exitStatus(), QProcess::NormalExit);
    QCOMPARE(process.exitCode(), 128 + SIGTERM);
    QVERIFY2(error.contains("terminated"), error.constData());
    const std::string log = bp::test::readBytes(dir / "runs" / "stripes-seed5" / "log.txt");
    QVERIFY2(log.find("cancelled") != std::string::npos, log.c_str());
    const auto listed = runCli({"runs", runs});
    QCOMPARE(listed.json().value("runs").toArray().at(0).toObject().value("state").toString(), QStringLiteral("cancelled"));
  }

  void convertOntoAFullDiskFailsCleanly() {
    bp::test::ScratchDir dir;
    const auto population = QString::fromStdString((dir / "population.h5").string());
    QCOMPARE(runCli(QStringList{"synth", "-o", population} + kSmallPopulation).exitCode, 0);
    // A file-size limit in the child stands in for a full disk (its SIGXFSZ ignored: writes fail).
    QProcess process;
    process.setChildProcessModifier([] {
      std::signal(SIGXFSZ, SIG_IGN);
      rlimit limit{};
      getrlimit(RLIMIT_FSIZE, &limit);
      limit.rlim_cur = 64 * 1024;
      setrlimit(RLIMIT_FSIZE, &limit);
    });
    const auto output = QString::fromStdString((dir / "converted.h5").string());
    process.start(QStringLiteral(BRAINPRIOR_CLI_PATH), {QStringLiteral("--quiet"), QStringLiteral("convert"), population, output});
    process.waitForFinished(-1);
    const QByteArray error = process.readAllStandardError();
    // A clean error naming the output, not a crash at exit (HDF5 kept the file it could not close).
    QCOMPARE(process.exitStatus(), QProcess::NormalExit);
    QCOMPARE(process.exitCode(), 1);
    QVERIFY2(error.contains(output.toUtf8()), error.constData());
    QVERIFY(!QFile::exists(output));
    QVERIFY(!bp::test::hasTemporaryFiles(dir.path()));
  }

  void resultsLostOnAFullDeviceAreAnError() {
    QProcess process;
    process.setStandardOutputFile(QStringLiteral("/dev/full"));
    process.start(QStringLiteral(BRAINPRIOR_CLI_PATH), {QStringLiteral("--quiet"), QStringLiteral("runtime")});
    process.waitForFinished(-1);
    QCOMPARE(process.exitCode(), 1);
    QVERIFY(process.readAllStandardError().contains("could not be written to stdout"));
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

  void probeReportsATrainedRunAndWritesItsTables() {
    bp::test::ScratchDir dir;
    bp::test::writeStripedIdxSplit(dir / "stripes", "train", 96, 1);
    bp::test::writeStripedIdxSplit(dir / "stripes", "t10k", 30, 2);
    const auto path = [&](const char* name) { return QString::fromStdString((dir / name).string()); };
    const nlohmann::json run = bp::test::stripedTrainingConfig(dir / "stripes");
    bp::test::writeBytes(dir / "run.json", run.dump());
    // Every part of the probe, each as cheap as it goes.
    const nlohmann::json probe = {
        {"max_images", 20},
        {"corruptions", {{{"kind", "gaussian_noise"}, {"severities", {0.0, 0.2}}}}},
        {"minimum_norm_searches", {{{"pgd", {{"steps", 2}}}, {"search_steps", 2}}}},
        {"boundary", {{"steps", 5}, {"start_trials", 5}}},
        {"success_curves", {{{"attack", {{"steps", 2}}}, {"epsilons", {0.0, 0.05}}}}}};
    bp::test::writeBytes(dir / "probe.json", probe.dump());
    const auto trained = runCli({"train", "--config", path("run.json"), "--output-dir", path("runs"), "--seeds", "1"});
    QVERIFY2(trained.exitCode == 0, trained.err.constData());

    const auto probed =
        runCli({"probe", path("runs"), "--config", path("probe.json"), "--max-images", "12", "--output-dir", path("probe")});
    QVERIFY2(probed.exitCode == 0, probed.err.constData());
    const QJsonObject report = probed.json();
    for (const char* key : {"format", "config", "runtime", "images", "models", "launches", "warnings", "skipped"})
      QVERIFY2(report.contains(key), key);
    QCOMPARE(report.value("images").toObject().value("count").toInt(), 12);  // the command line wins
    const QJsonObject model = report.value("models").toArray().at(0).toObject();
    QCOMPARE(model.value("name").toString(), QStringLiteral("stripes-seed1"));
    for (const char* key : {"clean_accuracy", "corruptions", "minimum_norms", "success_curves"})
      QVERIFY2(model.contains(key), key);
    QCOMPARE(model.value("minimum_norms").toArray().size(), 2);  // the search and the boundary attack
    QCOMPARE(report.value("launches").toArray().at(0).toObject().value("name").toString(), QStringLiteral("stripes"));
    QVERIFY(QFile::exists(path("probe/report.json")));
    QVERIFY(QFile::exists(path("probe/probe-table.csv")));

    const auto missing = runCli({"probe", path("stripes")});
    QVERIFY(missing.exitCode != 0);
    QVERIFY2(missing.err.contains("no finished run"), missing.err.constData());
  }

  void predictivityScoresEveryLayerOfATrainedRun() {
    bp::test::ScratchDir dir;
    bp::test::writeStripedIdxSplit(dir / "stripes", "train", 60, 1);
    bp::test::writeStripedIdxSplit(dir / "stripes", "t10k", 30, 2);
    const auto path = [&](const char* name) { return QString::fromStdString((dir / name).string()); };
    const nlohmann::json run = bp::test::stripedTrainingConfig(dir / "stripes");
    bp::test::writeBytes(dir / "run.json", run.dump());
    bp::test::writeBytes(dir / "predictivity.json", nlohmann::json({{"method", "ridge"}, {"folds", 3}}).dump());
    const auto trained = runCli({"train", "--config", path("run.json"), "--output-dir", path("runs"), "--seeds", "1"});
    QVERIFY2(trained.exitCode == 0, trained.err.constData());
    const auto synth = runCli(QStringList{"synth", "-o", path("population.h5")} + kSmallPopulation);
    QVERIFY2(synth.exitCode == 0, synth.err.constData());

    const auto scored = runCli({"predictivity", path("runs"), "--neural", path("population.h5"), "--config",
                                path("predictivity.json"), "--output-dir", path("predictivity")});
    QVERIFY2(scored.exitCode == 0, scored.err.constData());
    const QJsonObject report = scored.json();
    QCOMPARE(report.value("format").toString(), QStringLiteral("brainprior predictivity report"));
    QCOMPARE(report.value("neural").toObject().value("neurons").toInt(), 12);
    QCOMPARE(report.value("neural").toObject().value("images").toInt(), 60 + 10 + 5);  // distinct images
    const QJsonObject model = report.value("models").toArray().at(0).toObject();
    QCOMPARE(model.value("name").toString(), QStringLiteral("stripes-seed1"));
    QVERIFY(model.value("test_accuracy").isDouble());
    QCOMPARE(model.value("layers").toArray().size(), 4);  // stem and three stages
    const QJsonObject launch = report.value("launches").toArray().at(0).toObject();
    QCOMPARE(launch.value("name").toString(), QStringLiteral("stripes"));
    QCOMPARE(launch.value("mean_test_accuracy").toDouble(), model.value("test_accuracy").toDouble());
    QCOMPARE(launch.value("layers").toArray().size(), 4);
    QVERIFY(QFile::exists(path("predictivity/report.json")));
    QVERIFY(QFile::exists(path("predictivity/predictivity-table.csv")));
    QVERIFY(QFile::exists(path("predictivity/predictivity-launches.csv")));

    bp::test::writeBytes(dir / "bad.json", nlohmann::json({{"fold", 3}}).dump());
    const auto bad = runCli({"predictivity", path("runs"), "--neural", path("population.h5"), "--config", path("bad.json")});
    QVERIFY(bad.exitCode != 0);
    QVERIFY2(bad.err.contains("fold"), bad.err.constData());
  }

  void reportWritesOneHtmlFileOfItsInputs() {
    bp::test::ScratchDir dir;
    const auto path = [&](const char* name) { return QString::fromStdString((dir / name).string()); };
    QCOMPARE(runCli(QStringList{"synth", "-o", path("population.h5")} + kSmallPopulation).exitCode, 0);
    bp::test::writeBytes(dir / "fit.json",
                         R"({"model": {"kernel_sizes": [9, 3], "channels": [4, 4]}, "trainer": {"max_epochs": 1}})");
    const auto fit = runCli({"fit", path("population.h5"), "--config", path("fit.json"), "-o", path("model.pt")});
    QVERIFY2(fit.exitCode == 0, fit.err.constData());
    // A finished run as run_folder.h leaves it (only what the registry reads).
    const nlohmann::json epoch = {{"epoch", 1}, {"learning_rate", 0.05}, {"classification_loss", 0.9},
                                  {"regularization_loss", 0.0}, {"total_loss", 0.9}, {"train_accuracy", 0.7},
                                  {"validation_accuracy", nullptr}, {"test_accuracy", 0.8125},
                                  {"gamma", nlohmann::json::array()}, {"seconds", 1.0}, {"total_seconds", 1.0}};
    const nlohmann::json summary = {{"format", "brainprior classifier run"}, {"state", "finished"}, {"seed", 3},
                                    {"regularizer", "none"}, {"epochs", 1}, {"epochs_done", 1},
                                    {"test_accuracy", 0.8125}, {"config", {{"seed", 3}}}, {"history", {epoch}}};
    bp::test::writeBytes(dir / "runs" / "stripes-seed3" / "summary.json", summary.dump());

    const auto report = runCli({"report", path("population.h5"), path("model.pt"), path("runs"), "-o",
                                path("report.html"), "--title", "Tiny <report>"});
    QVERIFY2(report.exitCode == 0, report.err.constData());
    const QJsonObject json = report.json();
    QCOMPARE(json.value("output").toString(), path("report.html"));
    QCOMPARE(json.value("figures").toInt(), 2 + 1 + 2);  // reliability histograms, fit curve, training curves
    QFile file(path("report.html"));
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QByteArray html = file.readAll();
    QCOMPARE(json.value("bytes").toInt(), html.size());
    for (const char* title : {"Summary</h2>", "Neural data</h2>", "Model fit</h2>", "Training</h2>", "Configs</h2>",
                              "Tiny &lt;report&gt;", "stripes-seed3", "0.8125"})
      QVERIFY2(html.contains(title), title);

    const auto missing = runCli({"report", path("no-such-runs"), "-o", path("missing.html")});
    QVERIFY(missing.exitCode != 0);
    QVERIFY2(missing.err.contains("no-such-runs"), missing.err.constData());
    QVERIFY(!QFile::exists(path("missing.html")));
  }

  void demoNarratesEveryStepAndKeepsItsFolder() {
    bp::test::ScratchDir dir;
    const QString folder = QString::fromStdString((dir / "demo").string());
    const QStringList tiny = {"demo",           "-o",       folder, "--fit-epochs", "1", "--target-images",
                              "40",             "--train-images", "300",  "--test-images", "60", "--epochs",
                              "1",              "--probe-images", "20"};
    // Not quiet: the narration goes to stderr, the summary to stdout.
    QProcess process;
    process.start(QStringLiteral(BRAINPRIOR_CLI_PATH), QStringList{"--threads", "1"} + tiny);
    process.waitForFinished(-1);
    const QByteArray err = process.readAllStandardError();
    QCOMPARE(process.exitCode(), 0);
    for (const char* heading : {"== 1. Record the neurons", "== 3. Build the denoised neural similarity",
                                "== 5. Probe their robustness"})
      QVERIFY2(err.contains(heading), err.constData());
    QVERIFY(err.contains("   -> "));
    const QJsonObject summary = QJsonDocument::fromJson(process.readAllStandardOutput()).object();
    QCOMPARE(summary.value("format").toString(), QStringLiteral("brainprior demo"));
    QCOMPARE(summary.value("steps").toArray().size(), 5);

    const auto again = runCli(tiny);
    QVERIFY(again.exitCode != 0);
    QVERIFY2(again.err.contains("already holds a demo"), again.err.constData());
  }
};

BRAINPRIOR_TEST_CLASS(CliTest)
#include "test_cli.moc"
