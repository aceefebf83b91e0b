// The model panel as a user drives it: fit a stacked and a rotation-equivariant model of a small
// synthetic population with live curves, compare them, compute most exciting inputs, read the
// functional types, build the denoised target into the similarity panel, save and reopen a model.
#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileInfo>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTableWidget>
#include <QtTest>
#include <cmath>

#include "app/main_window.h"
#include "app/model_fit_form.h"
#include "app/model_panel.h"
#include "app/model_results_view.h"
#include "app/workspace.h"
#include "data/default_data.h"
#include "data/static_hdf5.h"
#include "test_registry.h"
#include "test_support.h"
#include "widgets/image_grid_view.h"
#include "widgets/series_plot.h"

using bp::app::ModelFitForm;
using bp::app::ModelPanel;
using bp::app::ModelResultsView;
using bp::app::Workspace;

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
  void fitsComparesExplainsAndBuildsTheTarget() {
    if (!std::filesystem::exists(bp::defaultImageSourcePath())) QSKIP("Fashion-MNIST (dataset-fashion-mnist) is not installed");
    bp::app::MainWindow window({});
    window.resize(1400, 900);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    Workspace& workspace = window.workspace();
    QSignalSpy loaded(&workspace, &Workspace::neuralDataChanged);
    window.loadNeuralData(QStringLiteral("Small synthetic population"), smallPopulation);
    QVERIFY(loaded.wait(kJobWaitMs));
    QVERIFY(window.showPanel(QStringLiteral("models")));
    ModelPanel& panel = *window.modelPanel();
    ModelFitForm& form = *panel.fitForm();
    ModelResultsView& results = *panel.results();
    // A failed job says why in the test log.
    QObject::connect(&window.jobs(), &bp::app::JobRunner::jobFinished, &window,
                     [](int, const QString& title, bool, const QString& error) {
                       if (!error.isEmpty()) qWarning("%s failed: %s", qPrintable(title), qPrintable(error));
                     });

    // The form round-trips the engine's config.
    form.applyFitConfig(tinyFit("stacked"));
    QCOMPARE(form.fitConfigFromForm()["model"]["channels"], nlohmann::json({4, 4}));
    QCOMPARE(form.fitConfigFromForm()["trainer"]["max_epochs"], nlohmann::json(3));
    // The form's settings are the workspace's: a project saves them as they are.
    QCOMPARE(workspace.settings("fit"), form.fitConfigFromForm());

    // A fit draws its curve while it runs, then joins the comparison table.
    int epochs = 0;
    QObject::connect(&form, &ModelFitForm::liveCurveChanged, &form,
                     [&epochs](const QString&, const std::vector<bp::NeuralEpochReport>& curve) {
                       if (!curve.empty()) epochs = static_cast<int>(curve.size());
                     });
    QSignalSpy added(&workspace, &Workspace::modelAdded);
    form.fit();
    QVERIFY(added.wait(kJobWaitMs));
    QCOMPARE(epochs, 3);
    QCOMPARE(workspace.modelCount(), 1);
    QCOMPARE(results.comparisonTable()->rowCount(), 1);
    QVERIFY(results.correlationCurves()->seriesCount() >= 1);
    const bp::app::ModelRecord& stacked = *workspace.model(0);
    QVERIFY(stacked.evaluation.has_value());
    QCOMPARE(static_cast<int>(stacked.evaluation->averageCorrelation.size()), 20);
    // A negative FEVe is flagged where it is shown, not presented as a finding.
    QCOMPARE(results.comparisonTable()->item(0, 9)->text().contains(QStringLiteral("⚠")),
             stacked.evaluation->meanFeve < 0.0);
    QCOMPARE(results.filterGrid()->itemCount(), 4);
    QCOMPARE(static_cast<int>(stacked.features.positions.size()), 40);
    for (const float coordinate : stacked.features.positions) QVERIFY(coordinate >= 0.0f && coordinate <= 64.0f);

    // Most exciting inputs of two neurons.
    QSignalSpy meis(&results, &ModelResultsView::meisReady);
    results.neuronField()->setText(QStringLiteral("0, 7"));
    results.computeMostExcitingInputs();
    QVERIFY(meis.wait(kJobWaitMs));
    QCOMPARE(results.meiGrid()->itemCount(), 2);

    // The denoised target goes to the similarity panel as matrix A, with the denoising check.
    QSignalSpy target(&results, &ModelResultsView::targetBuilt);
    results.buildTarget();
    QVERIFY(target.wait(kJobWaitMs));
    const auto a = workspace.similarity(Workspace::A).matrix;
    QVERIFY(a);
    QCOMPARE(a->size, std::int64_t{120 + 30 + 10});
    QVERIFY(results.targetSummary()->text().contains(QStringLiteral("model-predicted similarity")));
    // The similarity panel describes the new matrix A in a job of its own: let it end, so that the
    // jobs below are the only ones.
    QTRY_COMPARE_WITH_TIMEOUT(window.jobs().activeJobCount(), 0, kJobWaitMs);

    // Save, then reopen: the same evaluation and curve come back.
    bp::test::ScratchDir scratch;
    const QString file = QString::fromStdString((scratch / "stacked.pt").string());
    QSignalSpy finished(&window.jobs(), &bp::app::JobRunner::jobFinished);
    panel.saveCurrentModel(file);
    QVERIFY(finished.wait(kJobWaitMs));
    QVERIFY(QFile::exists(file) && QFile::exists(file + QStringLiteral(".metrics.json")));
    QCOMPARE(QString::fromStdString(workspace.model(0)->file), file);  // a project now refers to the file
    // Out to Python: a state_dict and its description.
    const QString pythonFile = QString::fromStdString((scratch / "stacked.pth").string());
    panel.exportCurrentModel(pythonFile);
    QVERIFY(finished.wait(kJobWaitMs));
    QVERIFY(QFileInfo(pythonFile).size() > 0);
    QVERIFY(QFile(pythonFile + QStringLiteral(".json")).exists());
    panel.openModel(file);
    QVERIFY(added.wait(kJobWaitMs));
    QCOMPARE(workspace.modelCount(), 2);
    const bp::app::ModelRecord& reopened = *workspace.model(1);
    QCOMPARE(reopened.curve.size(), stacked.curve.size());
    QVERIFY(reopened.evaluation.has_value());
    QVERIFY(std::abs(reopened.evaluation->meanAverageCorrelation - stacked.evaluation->meanAverageCorrelation) < 1e-6);

    // A rotation-equivariant model: rotated filter banks and functional types.
    form.applyFitConfig(tinyFit("rotation_equivariant"));
    form.fit();
    QVERIFY(added.wait(kJobWaitMs));
    const bp::app::ModelRecord& rotated = *workspace.model(2);
    QVERIFY(rotated.types.has_value());
    QCOMPARE(rotated.features.rotations, 4);
    QCOMPARE(results.filterGrid()->itemCount(), 16);
    QCOMPARE(results.typeTable()->rowCount(), 4);
    std::int64_t typed = 0;
    for (const auto count : rotated.types->typeCounts) typed += count;
    QCOMPARE(typed, std::int64_t{20});
    QCOMPARE(results.comparisonTable()->rowCount(), 3);
  }

  void fitsTheLoadedDatasetWithFurtherRecordingsAsOneModel() {
    if (!std::filesystem::exists(bp::defaultImageSourcePath())) QSKIP("Fashion-MNIST (dataset-fashion-mnist) is not installed");
    bp::test::ScratchDir scratch;
    // A second population of other neurons, saved as a file the form adds.
    bp::SyntheticV1Config other;
    other.neuronCount = 12;
    other.trainImages = 100;
    other.validationImages = 30;
    other.testImages = 10;
    other.testRepeats = 4;
    other.seed = 8;
    const auto otherFile = scratch / "other.h5";
    bp::writeStaticHdf5(bp::generateDefaultDataset(other).dataset, otherFile);

    bp::app::MainWindow window({});
    Workspace& workspace = window.workspace();
    QSignalSpy loaded(&workspace, &Workspace::neuralDataChanged);
    window.loadNeuralData(QStringLiteral("Small synthetic population"), smallPopulation);
    QVERIFY(loaded.wait(kJobWaitMs));
    ModelPanel& panel = *window.modelPanel();
    ModelFitForm& form = *panel.fitForm();
    form.applyFitConfig(tinyFit("stacked"));
    // No eye or behaviour recorded: nothing for a shifter or modulator to read.
    QVERIFY(!form.shifterBox()->isEnabled() && !form.modulatorBox()->isEnabled());
    QCOMPARE(form.fitConfigFromForm()["model"]["modulator"], nlohmann::json(false));
    form.addRecording(QString::fromStdString(otherFile.string()));
    form.addRecording(QString::fromStdString(otherFile.string()));  // once is enough
    QCOMPARE(form.moreRecordings().size(), 1);
    QSignalSpy added(&workspace, &Workspace::modelAdded);
    form.fit();
    QVERIFY(added.wait(kJobWaitMs));
    const bp::app::ModelRecord& record = *workspace.model(0);
    QCOMPARE(record.moreRecordings.size(), std::size_t(1));
    QCOMPARE(record.neuronCount, std::int64_t(20));  // the loaded dataset's model is the one shown
    QCOMPARE(record.recordings.size(), std::size_t(2));
    QCOMPARE(record.recordings[1].at("neurons").get<int>(), 12);
    QTRY_VERIFY_WITH_TIMEOUT(panel.results()->evaluationSummary()->text().contains(QStringLiteral("One core for 2 recordings")),
                             kJobWaitMs);
    QTRY_COMPARE_WITH_TIMEOUT(window.jobs().activeJobCount(), 0, kJobWaitMs);
    // Its target: both recordings' weighted matrices over the loaded dataset's images, averaged.
    QSignalSpy target(panel.results(), &ModelResultsView::targetBuilt);
    panel.results()->buildTarget();
    QVERIFY(target.wait(kJobWaitMs));
    const auto mean = workspace.similarity(Workspace::A).matrix;
    QCOMPARE(mean->size, std::int64_t{120 + 30 + 10});
    QCOMPARE(mean->provenance.at("neural_target").at("mean_of_recordings").size(), std::size_t(2));
    QTRY_COMPARE_WITH_TIMEOUT(window.jobs().activeJobCount(), 0, kJobWaitMs);

    // Saved as one file of two recordings; opened again with both.
    const QString file = QString::fromStdString((scratch / "corpus.pt").string());
    QSignalSpy finished(&window.jobs(), &bp::app::JobRunner::jobFinished);
    panel.saveCurrentModel(file);
    QVERIFY(finished.wait(kJobWaitMs));
    const auto description = nlohmann::json::parse(bp::test::readBytes(scratch / "corpus.pt.json"));
    QCOMPARE(description.at("version").get<int>(), 2);
    QCOMPARE(description.at("recordings").size(), std::size_t(2));
    panel.openModel(file);
    QVERIFY(added.wait(kJobWaitMs));
    const bp::app::ModelRecord& reopened = *workspace.model(1);
    QCOMPARE(reopened.moreRecordings.size(), std::size_t(1));
    QCOMPARE(reopened.recordings.size(), std::size_t(2));
    QVERIFY(reopened.evaluation.has_value());

    // A recording with behaviour lets the modulator be chosen, and the fit config says so.
    window.loadNeuralData(QStringLiteral("With behaviour"), [](const bp::Job& job) {
      bp::NeuralDataset dataset = smallPopulation(job);
      dataset.behavior.assign(static_cast<std::size_t>(dataset.trialCount() * 3), 1.0f);
      return dataset;
    });
    QVERIFY(loaded.wait(kJobWaitMs));
    QVERIFY(form.modulatorBox()->isEnabled() && !form.shifterBox()->isEnabled());
    form.modulatorBox()->setChecked(true);
    QCOMPARE(form.fitConfigFromForm()["model"]["modulator"], nlohmann::json(true));
  }
};

BRAINPRIOR_TEST_CLASS(ModelPanelTest)
#include "test_model_panel.moc"
