// The probe panel and the comparison dashboard as a user drives them, on two small classifiers
// trained here (two seeds of one launch on striped images): every loaded model answers with its
// class probabilities and saliency; a corruption and an attack change what the models see within
// their bounds; a dropped image file is probed and a bad one refused; quick slider moves end with the
// last setting shown; the dashboard probes the runs (the same files as the CLI), fills its table,
// curves and bars, exports them, reopens the report, and scores neural predictivity.
#include <QComboBox>
#include <QFile>
#include <QImage>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableWidget>
#include <QtTest>
#include <algorithm>
#include <cmath>
#include <numeric>

#include "test_registry.h"
#include "widgets/custom_plot.h"

#include "app/comparison_panel.h"
#include "app/main_window.h"
#include "app/probe_panel.h"
#include "widgets/color_bar.h"
#include "app/probe_session.h"
#include "app/training_session.h"
#include "data/dataset_io.h"
#include "data/static_hdf5.h"
#include "data/synthetic_v1.h"
#include "runtime/atomic_file.h"
#include "alpha_sweep_report.h"
#include "striped_images.h"
#include "test_support.h"
#include "torchscript_fixture.h"
#include "widgets/bar_plot.h"
#include "widgets/series_plot.h"

using bp::app::ComparisonPanel;
using bp::app::MainWindow;
using bp::app::ProbePanel;

namespace {

// Generous: jobs share two cores with other builds; no test asserts a duration.
constexpr int kJobWaitMs = 300000;

// Waits until the panel has no probe running or waiting, then returns the last error.
QString waitForProbe(ProbePanel& panel, QSignalSpy& probed) {
  while (panel.busy()) {
    if (!probed.wait(kJobWaitMs)) return QStringLiteral("no probe ended");
  }
  return probed.isEmpty() ? QString() : probed.last().at(0).toString();
}

double maxAbs(const std::vector<float>& values) {
  double largest = 0.0;
  for (const float value : values) largest = std::max(largest, static_cast<double>(std::abs(value)));
  return largest;
}

}  // namespace

class ProbePanelsTest : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void initTestCase() {
    bp::test::writeStripedIdxSplit(scratch_ / "stripes", "train", 150, 1);
    bp::test::writeStripedIdxSplit(scratch_ / "stripes", "t10k", 45, 2);
    nlohmann::json config = bp::test::stripedTrainingConfig(scratch_ / "stripes", "stripes");
    config["epochs"] = 2;
    config["seeds"] = {1, 2};
    const auto runs = bp::app::trainLaunch(config, runs_.string(), false, {}, {});
    QCOMPARE(runs.size(), std::size_t{2});
  }

  void everyModelAnswers() {
    MainWindow window({});
    ProbePanel* panel = window.probePanel();
    QSignalSpy loaded(panel, &ProbePanel::modelsLoaded);
    QSignalSpy probed(panel, &ProbePanel::probed);
    panel->loadRuns({QString::fromStdString(runs_.string())});
    QVERIFY(loaded.wait(kJobWaitMs));
    QCOMPARE(panel->modelCount(), 2);
    QCOMPARE(panel->imageCount(), 45);
    QCOMPARE(waitForProbe(*panel, probed), QString());
    const auto& outcome = panel->outcome();
    QCOMPARE(outcome.models.size(), std::size_t{2});
    for (const auto& response : outcome.models) {
      QCOMPARE(response.probabilities.size(), std::size_t{3});
      QVERIFY(std::abs(std::accumulate(response.probabilities.begin(), response.probabilities.end(), 0.0) - 1.0) < 1e-5);
      QCOMPARE(response.saliency.size(), std::size_t{12 * 12});
      QVERIFY(*std::max_element(response.saliency.begin(), response.saliency.end()) > 0.0f);
    }
    // Each saliency map has its scale: from 0 to that map's largest value.
    for (int m = 0; m < 2; ++m) {
      const auto& saliency = outcome.models[static_cast<std::size_t>(m)].saliency;
      QCOMPARE(panel->saliencyScale(m)->lowText(), QStringLiteral("0"));
      QCOMPARE(panel->saliencyScale(m)->highText(),
               bp::widgets::colorBarNumber(*std::max_element(saliency.begin(), saliency.end())));
    }
    // No corruption, no attack: the models see the image itself, and the perturbation has no scale.
    QCOMPARE(outcome.linf, 0.0);
    QCOMPARE(maxAbs(outcome.perturbation), 0.0);
    QVERIFY(panel->perturbationScale()->highText().isEmpty());

    // A corruption changes the image, inside [0, 1].
    panel->setCorruption(QStringLiteral("gaussian_noise"), 0.3);
    QCOMPARE(waitForProbe(*panel, probed), QString());
    QVERIFY(panel->outcome().linf > 0.05);
    for (const float value : panel->outcome().shown) QVERIFY(value >= 0.0f && value <= 1.0f);
    double squares = 0.0;
    for (const float value : panel->outcome().perturbation) squares += static_cast<double>(value) * value;
    QVERIFY(std::abs(std::sqrt(squares) - panel->outcome().l2) < 1e-4);
    // One channel: the perturbation's scale spans plus and minus its L-inf size.
    QCOMPARE(panel->perturbationScale()->highText(), bp::widgets::colorBarNumber(panel->outcome().linf));
    QCOMPARE(panel->perturbationScale()->lowText(), bp::widgets::colorBarNumber(-panel->outcome().linf));

    // One click: the attack on model 0 stays inside its L-inf ball and pushes away from the true class.
    panel->setCorruption(QStringLiteral("none"), 0.0);
    panel->setAttack(bp::app::ProbeAttack::PgdLinf, 8.0 / 255.0, 0);
    panel->attackButton()->click();
    QCOMPARE(waitForProbe(*panel, probed), QString());
    QVERIFY(panel->outcome().attackLabel >= 0);
    QVERIFY(panel->outcome().linf <= 8.0 / 255.0 + 1e-6);
    QVERIFY(panel->outcome().linf > 0.0);
    QVERIFY(panel->statusText().contains(QStringLiteral("Probed 2 models")));
  }

  void importedModelsStandBesideRuns() {
    const std::filesystem::path model = scratch_ / "tiny.pt";
    bp::test::writeTorchScriptModel(model, 16, 3);
    MainWindow window({});
    ProbePanel* panel = window.probePanel();
    QSignalSpy loaded(panel, &ProbePanel::modelsLoaded);
    QSignalSpy probed(panel, &ProbePanel::probed);
    panel->loadRuns({QString::fromStdString(runs_.string()), QString::fromStdString(model.string())});
    QVERIFY(loaded.wait(kJobWaitMs));
    QCOMPARE(panel->modelCount(), 3);
    QCOMPARE(panel->imageCount(), 45);
    // Its layers, by name, for the analyses that choose them.
    auto* list = panel->findChild<QListWidget*>();
    QVERIFY(list->item(2)->text().contains(QStringLiteral("imported: 3×16×16, range 0–255")));
    QVERIFY(list->item(2)->toolTip().contains(QStringLiteral("Layers: conv, pool, logits")));
    QCOMPARE(waitForProbe(*panel, probed), QString());
    // The imported model is shown the runs' 12 x 12 grey image, which it brings to its 3 x 16 x 16
    // input itself; its saliency is over the image the user sees.
    const auto& imported = panel->outcome().models.at(2);
    QCOMPARE(imported.probabilities.size(), std::size_t{3});
    QCOMPARE(imported.saliency.size(), std::size_t{12 * 12});
    // An image it classifies correctly (the stripes' labels run 0, 1, 2, ...), for the attack to push.
    int correct = 0;
    while (panel->outcome().models.at(2).predicted != correct % 3) {
      QVERIFY(++correct < panel->imageCount());
      panel->showTestImage(correct);
      QCOMPARE(waitForProbe(*panel, probed), QString());
    }
    panel->setAttack(bp::app::ProbeAttack::PgdLinf, 8.0 / 255.0, 2);
    panel->attackButton()->click();
    QCOMPARE(waitForProbe(*panel, probed), QString());
    QVERIFY(panel->outcome().linf <= 8.0 / 255.0 + 1e-6);
    QVERIFY(panel->outcome().linf > 0.0);

    // Alone, it is shown the images chosen for it.
    panel->setImportedModelImages(QString::fromStdString((scratch_ / "stripes").string()));
    panel->loadRuns({QString::fromStdString(model.string())});
    QVERIFY(loaded.wait(kJobWaitMs));
    QCOMPARE(panel->modelCount(), 1);
    QCOMPARE(panel->imageCount(), 45);
  }

  void quickChangesEndWithTheLastSetting() {
    MainWindow window({});
    ProbePanel* panel = window.probePanel();
    QSignalSpy loaded(panel, &ProbePanel::modelsLoaded);
    QSignalSpy probed(panel, &ProbePanel::probed);
    panel->loadRuns({QString::fromStdString(runs_.string())});
    QVERIFY(loaded.wait(kJobWaitMs));
    for (const double sigma : {0.05, 0.1, 0.2, 0.3, 0.4}) panel->setCorruption(QStringLiteral("gaussian_noise"), sigma);
    panel->showTestImage(7);
    QCOMPARE(waitForProbe(*panel, probed), QString());
    // The same request straight through the engine: the panel shows the last settings.
    std::vector<std::string> skipped;
    const auto models = bp::app::loadProbeModels({runs_.string()}, skipped, {});
    const auto images = bp::app::loadProbeImageSet(models.front(), 45, {});
    bp::app::ProbeRequest request;
    request.channels = 1;
    request.height = 12;
    request.width = 12;
    request.image.assign(images.pixels.begin() + 7 * 144, images.pixels.begin() + 8 * 144);
    request.label = images.labels[7];
    request.corruption = "gaussian_noise";
    request.severity = 0.4;
    const auto expected = bp::app::runProbe(models, request, {});
    QCOMPARE(panel->outcome().shown, expected.shown);
    QCOMPARE(panel->outcome().models.front().probabilities, expected.models.front().probabilities);
  }

  void imageFilesAreProbedOrRefused() {
    MainWindow window({});
    ProbePanel* panel = window.probePanel();
    QSignalSpy loaded(panel, &ProbePanel::modelsLoaded);
    QSignalSpy probed(panel, &ProbePanel::probed);
    QVERIFY(!panel->showImageFile(QStringLiteral("/nonexistent.png")));  // no models yet
    panel->loadRuns({QString::fromStdString(runs_.string())});
    QVERIFY(loaded.wait(kJobWaitMs));
    QCOMPARE(waitForProbe(*panel, probed), QString());

    QImage picture(40, 30, QImage::Format_RGB32);
    for (int y = 0; y < 30; ++y)
      for (int x = 0; x < 40; ++x) picture.setPixel(x, y, qRgb(x * 6, (y / 3 % 2) * 255, 90));
    const QString file = QString::fromStdString((scratch_ / "picture.png").string());
    QVERIFY(picture.save(file));
    QVERIFY(panel->showImageFile(file));
    QCOMPARE(waitForProbe(*panel, probed), QString());
    QCOMPARE(panel->outcome().models.size(), std::size_t{2});
    // Without a label, an attack pushes away from the attacked model's own decision.
    panel->setAttack(bp::app::ProbeAttack::MinimumL2, 3.0, 1);
    panel->setAttackEnabled(true);
    QCOMPARE(waitForProbe(*panel, probed), QString());
    QVERIFY(panel->outcome().attackLabel >= 0);
    QVERIFY(panel->outcome().l2 <= 3.0 + 1e-4);
    if (panel->outcome().attackFooled) QVERIFY(panel->outcome().models[1].predicted != panel->outcome().attackLabel);

    bp::test::writeBytes(scratch_ / "broken.png", "not a picture");
    QVERIFY(!panel->showImageFile(QString::fromStdString((scratch_ / "broken.png").string())));
    QVERIFY(panel->statusText().contains(QStringLiteral("broken.png")));
  }

  void dashboardComparesTheRuns() {
    MainWindow window({});
    ComparisonPanel* panel = window.comparisonPanel();
    QSignalSpy shown(panel, &ComparisonPanel::reportShown);
    panel->setRunsFolder(QString::fromStdString(runs_.string()));
    panel->setProbePreset(QStringLiteral("quick"));
    panel->runProbe();
    QVERIFY(shown.wait(kJobWaitMs));
    // The files `brainprior-cli probe --output-dir` writes.
    const auto output = runs_ / "probe-report";
    QVERIFY(std::filesystem::exists(output / "report.json"));
    QVERIFY(std::filesystem::exists(output / "probe-table.csv"));
    // One launch (two seeds), then its two models.
    QCOMPARE(panel->table()->rowCount(), 3);
    QCOMPARE(panel->table()->item(0, 1)->text(), QStringLiteral("1, 2"));
    QVERIFY(panel->table()->item(0, 2)->text().contains(QStringLiteral("±")));
    QCOMPARE(panel->noisePlot()->seriesCount(), 1);
    QCOMPARE(panel->noisePlot()->plot()->plottableCount(), 2);  // the line and its error bars
    QCOMPARE(panel->perturbationPlot()->values().size(), 1);
    // The bar is the launch's mean over seeds of the models' median minimum L-inf perturbations.
    const auto report = nlohmann::json::parse(bp::readTextFile(output / "report.json"));
    const auto& median = report.at("launches").at(0).at("minimum_norms").at(0).at("mean_median_linf");
    QVERIFY(median.is_number());
    QCOMPARE(panel->perturbationPlot()->values().front(), median.get<double>());
    // Clean accuracy is named by the probe's images, and says why it differs from the Training tab's.
    QCOMPARE(panel->table()->horizontalHeaderItem(2)->text(),
             QStringLiteral("Clean accuracy (%1 probe images)").arg(report.at("images").at("count").get<int>()));
    QVERIFY(panel->table()->horizontalHeaderItem(2)->toolTip().contains(QStringLiteral("Training tab")));

    const QString csv = QString::fromStdString((scratch_ / "comparison.csv").string());
    QString error;
    QVERIFY2(panel->exportTable(csv, &error), qPrintable(error));
    const std::string table = bp::readTextFile(csv.toStdString());
    QVERIFY(table.rfind("Launch / model,Seeds,Clean accuracy", 0) == 0);
    QCOMPARE(std::count(table.begin(), table.end(), '\n'), 4L);
    const QString figure = QString::fromStdString((scratch_ / "comparison.svg").string());
    const QStringList figures = panel->exportFigures(figure, &error);
    QVERIFY2(error.isEmpty(), qPrintable(error));
    QCOMPARE(figures.size(), 2);  // noise and adversarial: no predictivity report yet
    QVERIFY(QFile::exists(QString::fromStdString((scratch_ / "comparison-noise.svg").string())));

    // The report reopens in a fresh window; anything else is refused with a reason.
    MainWindow other({});
    QVERIFY(other.comparisonPanel()->openReport(QString::fromStdString((output / "report.json").string())));
    QCOMPARE(other.comparisonPanel()->table()->rowCount(), 3);
    QVERIFY(!other.comparisonPanel()->openReport(QString::fromStdString((runs_ / "stripes-seed1" / "config.json").string())));

    // Neural predictivity: a synthetic V1 population over the striped images, scored by ridge.
    bp::ImageLoadOptions options;
    const bp::ImageDataset stripes = bp::loadImageDataset(scratch_ / "stripes", options, "train");
    bp::SyntheticV1Config synthetic;
    synthetic.neuronCount = 24;
    synthetic.trainImages = 100;
    synthetic.validationImages = 20;
    synthetic.testImages = 10;
    synthetic.testRepeats = 4;
    const auto neural = bp::generateSyntheticV1(stripes, synthetic);
    const auto neuralFile = scratch_ / "v1.h5";
    bp::writeStaticHdf5(neural.dataset, neuralFile);
    panel->setNeuralPath(QString::fromStdString(neuralFile.string()));
    shown.clear();
    panel->runPredictivity();
    QVERIFY(shown.wait(kJobWaitMs));
    QVERIFY(std::filesystem::exists(runs_ / "predictivity-report" / "report.json"));
    QVERIFY(std::filesystem::exists(runs_ / "predictivity-report" / "predictivity-launches.csv"));
    QCOMPARE(panel->predictivityPlot()->seriesCount(), 1);  // one launch
    QCOMPARE(panel->layerPlot()->seriesCount(), 1);
    // Both reports now share the table: the probe's columns, then the predictivity's.
    QCOMPARE(panel->table()->horizontalHeaderItem(panel->table()->columnCount() - 1)->text(),
             QStringLiteral("Median r (best layer)"));
    QVERIFY(panel->table()->item(1, panel->table()->columnCount() - 1)->text() != QStringLiteral("—"));
    QVERIFY(panel->table()->item(0, panel->table()->columnCount() - 1)->text().contains(QStringLiteral("±")));
    QCOMPARE(panel->exportFigures(figure, &error).size(), 4);
    const QString json = QString::fromStdString((scratch_ / "reports.json").string());
    QVERIFY2(panel->exportReports(json, &error), qPrintable(error));
    const auto reports = nlohmann::json::parse(bp::readTextFile(json.toStdString()));
    QCOMPARE(reports.at("probe").at("format").get<std::string>(), std::string("brainprior probe report"));
    QCOMPARE(reports.at("predictivity").at("models").size(), std::size_t{2});
  }

  void dashboardDrawsTheTradeOffOverAlpha() {
    MainWindow window({});
    ComparisonPanel* panel = window.comparisonPanel();
    panel->setProbeReport(bp::test::alphaSweepProbeReport());
    // The noise figure's chooser: the curves, then clean accuracy against each robustness measure.
    auto* chooser = panel->findChild<QComboBox*>(QStringLiteral("noiseChooser"));
    QVERIFY(chooser);
    QCOMPARE(chooser->count(), 3);
    QVERIFY(chooser->itemText(1).startsWith(QStringLiteral("Over alpha: clean accuracy and")));
    chooser->setCurrentIndex(1);
    // The baseline's point and the neural and shuffled targets' lines, each with error bars.
    QCOMPARE(panel->noisePlot()->seriesCount(), 3);
    QCOMPARE(panel->noisePlot()->plot()->xAxis->label(), QStringLiteral("clean accuracy"));
    // The launch rows give the median L2 with its SEM over seeds.
    QVERIFY(panel->table()->item(0, panel->table()->columnCount() - 1)->text().contains(QStringLiteral("±")));
  }

  void dashboardShowsTheAlignmentScore() {
    // Importance maps for the first 20 probe images: a bright centre square.
    const auto maps = scratch_ / "maps";
    std::filesystem::create_directories(maps);
    for (int i = 0; i < 20; ++i) {
      QImage map(12, 12, QImage::Format_Grayscale8);
      map.fill(0);
      for (int y = 4; y < 8; ++y)
        for (int x = 4; x < 8; ++x) map.setPixel(x, y, qRgb(255, 255, 255));
      QVERIFY(map.save(QString::fromStdString((maps / (std::to_string(i) + ".png")).string())));
    }
    nlohmann::json config = bp::app::probeConfigPreset("quick");
    config["max_images"] = 30;
    config["alignment"] = {{"importance_maps", maps.string()}};
    const nlohmann::json report =
        bp::app::runProbeReport({runs_.string()}, config, (scratch_ / "aligned").string(), {});
    MainWindow window({});
    ComparisonPanel* panel = window.comparisonPanel();
    panel->setProbeReport(report);
    const int last = panel->table()->columnCount() - 1;
    QCOMPARE(panel->table()->horizontalHeaderItem(last)->text(), QStringLiteral("Alignment score"));
    const double score = report.at("models").at(0).at("alignment").at("score").get<double>();
    QCOMPARE(panel->table()->item(1, last)->text(), QString::number(score, 'f', 3));
    QVERIFY(panel->table()->item(0, last)->text().contains(QStringLiteral("±")));
  }

  void dashboardMixesImportedModelsWithRuns() {
    const std::filesystem::path model = scratch_ / "dashboard-tiny.pt";
    bp::test::writeTorchScriptModel(model, 16, 3);
    MainWindow window({});
    ComparisonPanel* panel = window.comparisonPanel();
    QSignalSpy shown(panel, &ComparisonPanel::reportShown);
    panel->setRunsFolder(QString::fromStdString(runs_.string()));
    panel->setImportedModels({QString::fromStdString(model.string())});
    QCOMPARE(window.workspace().comparison().importedModels.size(), 1);
    panel->setProbePreset(QStringLiteral("quick"));
    panel->runProbe();
    QVERIFY(shown.wait(kJobWaitMs));
    // The runs' launch and its two models, then the imported model as a launch of its own.
    const auto report = nlohmann::json::parse(bp::readTextFile(runs_ / "probe-report" / "report.json"));
    QCOMPARE(report.at("models").size(), std::size_t{3});
    QCOMPARE(report.at("models").at(2).at("regularizer").get<std::string>(), std::string("imported"));
    QCOMPARE(report.at("images").at("count").get<int>(), 45);  // the runs' test images
    QCOMPARE(panel->table()->rowCount(), 5);

    // Predictivity of chosen layers: each model scores the one it has.
    panel->setNeuralPath(QStringLiteral("default"));
    panel->findChild<QLineEdit*>(QStringLiteral("predictivityLayers"))->setText(QStringLiteral("stage1, conv"));
    panel->runPredictivity();
    QVERIFY(shown.wait(kJobWaitMs));
    const auto predictivity =
        nlohmann::json::parse(bp::readTextFile(runs_ / "predictivity-report" / "report.json"));
    QCOMPARE(predictivity.at("models").size(), std::size_t{3});
    for (const auto& scored : predictivity.at("models")) QCOMPARE(scored.at("layers").size(), std::size_t{1});
    QCOMPARE(predictivity.at("models").at(2).at("layers").at(0).at("tap").get<std::string>(), std::string("conv"));
  }

private:
  bp::test::ScratchDir scratchDir_;
  std::filesystem::path scratch_ = scratchDir_.path();
  std::filesystem::path runs_ = scratch_ / "runs";
};

BRAINPRIOR_TEST_CLASS(ProbePanelsTest)
#include "test_probe_panels.moc"
