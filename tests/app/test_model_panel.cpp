// The model panel as a user drives it: fit a stacked and a rotation-equivariant model of a small
// synthetic population with live curves, compare them, compute most exciting inputs, read the
// functional types, build the denoised target into the similarity panel, save and reopen a model.
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTableWidget>
#include <QtTest>
#include <cmath>

#include "app/data_panel.h"
#include "app/main_window.h"
#include "app/model_panel.h"
#include "app/similarity_panel.h"
#include "data/default_data.h"
#include "test_support.h"
#include "widgets/image_grid_view.h"
#include "widgets/series_plot.h"

using bp::app::ModelPanel;

namespace {

// Generous: jobs share two cores with other builds; no test asserts a duration.
constexpr int kJobWaitMs = 300000;

bp::NeuralDataset smallPopulation(const bp::Job& job) {
  bp::SyntheticV1Config config;
  config.neuronCount = 20;
  config.trainImages = 120;
  config.validationImages = 30;
  config.testImages = 10;
  config.testRepeats = 4;
  return bp::generateDefaultDataset(config, job).dataset;
}

nlohmann::json tinyFit(const std::string& core) {
  nlohmann::json model = {{"core", core}, {"readout", "gaussian"}, {"kernel_sizes", {9, 3}}, {"channels", {4, 4}}};
  if (core == "rotation_equivariant") model["rotations"] = 4;
  return {{"model", model},
          {"trainer", {{"learning_rate", 0.01}, {"batch_size", 32}, {"max_epochs", 3}, {"max_seconds", 0.0}, {"seed", 3}}}};
}

}  // namespace

class ModelPanelTest : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void initTestCase() {
    QCoreApplication::setOrganizationName(QStringLiteral("BrainPriorTests"));
    QCoreApplication::setApplicationName(QStringLiteral("brainprior-tests"));
  }

  void fitsComparesExplainsAndBuildsTheTarget() {
    if (!std::filesystem::exists(bp::defaultImageSourcePath())) QSKIP("Fashion-MNIST (dataset-fashion-mnist) is not installed");
    bp::app::MainWindow window({});
    window.resize(1400, 900);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QSignalSpy loaded(window.dataPanel(), &bp::app::DataPanel::datasetChanged);
    window.dataPanel()->loadFrom(window.jobs(), QStringLiteral("Small synthetic population"), smallPopulation);
    QVERIFY(loaded.wait(kJobWaitMs));
    QVERIFY(window.showPanel(QStringLiteral("models")));
    ModelPanel& panel = *window.modelPanel();
    // A failed job says why in the test log.
    QObject::connect(&window.jobs(), &bp::app::JobRunner::jobFinished, &window,
                     [](int, const QString& title, bool, const QString& error) {
                       if (!error.isEmpty()) qWarning("%s failed: %s", qPrintable(title), qPrintable(error));
                     });

    // The form round-trips the engine's config.
    panel.applyFitConfig(tinyFit("stacked"));
    QCOMPARE(panel.fitConfigFromForm()["model"]["channels"], nlohmann::json({4, 4}));
    QCOMPARE(panel.fitConfigFromForm()["trainer"]["max_epochs"], nlohmann::json(3));

    // A fit draws its curve while it runs, then joins the comparison table.
    QSignalSpy epochs(&panel, &ModelPanel::fitCurveUpdated);
    QSignalSpy added(&panel, &ModelPanel::modelAdded);
    panel.fit();
    QVERIFY(added.wait(kJobWaitMs));
    QCOMPARE(epochs.count(), 3);
    QCOMPARE(panel.modelCount(), 1);
    QCOMPARE(panel.comparisonTable()->rowCount(), 1);
    QVERIFY(panel.correlationCurves()->seriesCount() >= 1);
    const bp::app::ModelRecord& stacked = panel.model(0);
    QVERIFY(stacked.evaluation.has_value());
    QCOMPARE(static_cast<int>(stacked.evaluation->averageCorrelation.size()), 20);
    QCOMPARE(panel.filterGrid()->itemCount(), 4);
    QCOMPARE(static_cast<int>(stacked.features.positions.size()), 40);
    for (const float coordinate : stacked.features.positions) QVERIFY(coordinate >= 0.0f && coordinate <= 64.0f);

    // Most exciting inputs of two neurons.
    QSignalSpy meis(&panel, &ModelPanel::meisReady);
    panel.neuronField()->setText(QStringLiteral("0, 7"));
    panel.computeMostExcitingInputs();
    QVERIFY(meis.wait(kJobWaitMs));
    QCOMPARE(panel.meiGrid()->itemCount(), 2);

    // The denoised target goes to the similarity panel as matrix A, with the denoising check.
    QSignalSpy target(&panel, &ModelPanel::targetReady);
    QSignalSpy matrixChanged(window.similarityPanel(), &bp::app::SimilarityPanel::matrixChanged);
    panel.buildTarget();
    QVERIFY(target.wait(kJobWaitMs));
    QVERIFY(matrixChanged.count() >= 1 || matrixChanged.wait(kJobWaitMs));
    const auto a = window.similarityPanel()->matrix(bp::app::SimilarityPanel::A);
    QVERIFY(a);
    QCOMPARE(a->size, std::int64_t{120 + 30 + 10});
    QVERIFY(panel.targetSummary()->text().contains(QStringLiteral("model-predicted similarity")));

    // Save, then reopen: the same evaluation and curve come back.
    bp::test::ScratchDir scratch;
    const QString file = QString::fromStdString((scratch / "stacked.pt").string());
    QSignalSpy finished(&window.jobs(), &bp::app::JobRunner::jobFinished);
    panel.saveCurrentModel(file);
    QVERIFY(finished.wait(kJobWaitMs));
    QVERIFY(QFile::exists(file) && QFile::exists(file + QStringLiteral(".metrics.json")));
    panel.openModel(file);
    QVERIFY(added.wait(kJobWaitMs));
    QCOMPARE(panel.modelCount(), 2);
    const bp::app::ModelRecord& reopened = panel.model(1);
    QCOMPARE(reopened.curve.size(), stacked.curve.size());
    QVERIFY(reopened.evaluation.has_value());
    QVERIFY(std::abs(reopened.evaluation->meanAverageCorrelation - stacked.evaluation->meanAverageCorrelation) < 1e-6);

    // A rotation-equivariant model: rotated filter banks and functional types.
    panel.applyFitConfig(tinyFit("rotation_equivariant"));
    panel.fit();
    QVERIFY(added.wait(kJobWaitMs));
    const bp::app::ModelRecord& rotated = panel.model(2);
    QVERIFY(rotated.types.has_value());
    QCOMPARE(rotated.features.rotations, 4);
    QCOMPARE(panel.filterGrid()->itemCount(), 16);
    QCOMPARE(panel.typeTable()->rowCount(), 4);
    std::int64_t typed = 0;
    for (const auto count : rotated.types->typeCounts) typed += count;
    QCOMPARE(typed, std::int64_t{20});
    QCOMPARE(panel.comparisonTable()->rowCount(), 3);
  }
};

QTEST_MAIN(ModelPanelTest)
#include "test_model_panel.moc"
