// The training panel as a user drives it: a config round-trips through the form, bad settings are
// refused with a reason before anything runs, a launch of two seeds runs from the queue with live
// curves overlaid and the launches side by side, a second launch waits its turn, closing the tab
// never stops a run, a cancelled run resumes to the end, and a folder of runs reopens.
#include <QComboBox>
#include <QLineEdit>
#include <QListWidget>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTabWidget>
#include <QTableWidget>
#include <QtTest>
#include <algorithm>

#include "app/main_window.h"
#include "app/training_panel.h"
#include "app/training_queue.h"
#include "striped_images.h"
#include "test_support.h"
#include "widgets/series_plot.h"

using bp::app::MainWindow;
using bp::app::TrainingPanel;

namespace {

// Generous: jobs share two cores with other builds; no test asserts a duration.
constexpr int kJobWaitMs = 300000;

nlohmann::json stripesConfig(const std::filesystem::path& data, const std::string& name, int epochs) {
  nlohmann::json config = bp::test::stripedTrainingConfig(data, name);
  config["data"]["validation_fraction"] = 0.1;
  config["epochs"] = epochs;
  config["seeds"] = {1, 2};
  return config;
}

const bp::RunRecord* runNamed(const TrainingPanel& panel, const std::string& name) {
  const auto& runs = panel.runs();
  const auto found = std::find_if(runs.begin(), runs.end(), [&](const bp::RunRecord& run) { return run.name == name; });
  return found == runs.end() ? nullptr : &*found;
}

int rowOf(const TrainingPanel& panel, const std::string& name) {
  for (int row = 0; row < panel.runsTable()->rowCount(); ++row)
    if (panel.runsTable()->item(row, 1)->text() == QString::fromStdString(name)) return row;
  return -1;
}

}  // namespace

class TrainingPanelTest : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void initTestCase() {
    QCoreApplication::setOrganizationName(QStringLiteral("BrainPriorTests"));
    QCoreApplication::setApplicationName(QStringLiteral("brainprior-tests"));
    bp::test::writeStripedIdxSplit(scratch_ / "stripes", "train", 150, 1);
    bp::test::writeStripedIdxSplit(scratch_ / "stripes", "t10k", 45, 2);
  }

  void formRoundTripsAConfig() {
    MainWindow window({});
    TrainingPanel* panel = window.trainingPanel();
    nlohmann::json config = stripesConfig(scratch_ / "stripes", "round-trip", 4);
    config["regularizer"] = {{"kind", "neural_similarity"},
                             {"alpha", 10.0},
                             {"pair_batch_size", 8},
                             {"target", {{"source", "pixel"}, {"shuffled", true}, {"threshold", 0.8}}}};
    QVERIFY2(panel->applyConfig(config), qPrintable(panel->formError()));
    QCOMPARE(panel->regularizerBox()->currentData().toString(), QStringLiteral("neural_similarity"));
    QCOMPARE(panel->seedsEdit()->text(), QStringLiteral("1, 2"));
    const nlohmann::json back = panel->configFromForm();
    QCOMPARE(back.at("regularizer").at("alpha").get<double>(), 10.0);
    QCOMPARE(back.at("regularizer").at("target").at("shuffled").get<bool>(), true);
    QCOMPARE(back.at("regularizer").at("target").at("threshold").get<double>(), 0.8);
    QCOMPARE(back.at("regularizer").at("target").at("source").get<std::string>(), std::string("pixel"));
    QCOMPARE(back.at("seeds"), (nlohmann::json{1, 2}));
    // A key the form has no field for keeps the loaded value.
    QCOMPARE(back.at("regularizer").at("pair_batch_size").get<int>(), 8);
    QCOMPARE(back.at("data").at("validation_fraction").get<double>(), 0.1);
  }

  void badSettingsAreRefusedWithAReason() {
    MainWindow window({});
    TrainingPanel* panel = window.trainingPanel();
    panel->setRunsFolder(QString::fromStdString((scratch_ / "refused").string()));
    QVERIFY(panel->applyConfig(stripesConfig(scratch_ / "stripes", "refused", 1)));
    panel->seedsEdit()->setText(QStringLiteral("one, two"));
    QVERIFY(!panel->queueLaunch());
    QVERIFY(panel->formError().contains(QStringLiteral("Seeds")));
    panel->seedsEdit()->setText(QStringLiteral("1"));
    // The neural-similarity regularizer needs its matrix file.
    panel->regularizerBox()->setCurrentIndex(panel->regularizerBox()->findData(QStringLiteral("neural_similarity")));
    QVERIFY(!panel->queueLaunch());
    QVERIFY2(panel->formError().contains(QStringLiteral("matrix")), qPrintable(panel->formError()));
    QVERIFY(!window.trainingQueue().isRunning());
    // A config the engine refuses is not loaded.
    QVERIFY(!panel->applyConfig({{"epochz", 3}}));
    QVERIFY(panel->formError().contains(QStringLiteral("epochz")));
  }

  void launchesQueuesOverlaysAndSurvivesClosingTheTab() {
    MainWindow window({});
    TrainingPanel* panel = window.trainingPanel();
    bp::app::TrainingQueue& queue = window.trainingQueue();
    const auto runs = scratch_ / "runs";
    panel->setRunsFolder(QString::fromStdString(runs.string()));
    QSignalSpy epochs(&queue, &bp::app::TrainingQueue::epochReported);

    QVERIFY(panel->applyConfig(stripesConfig(scratch_ / "stripes", "baseline", 2)));
    QVERIFY2(panel->queueLaunch(), qPrintable(panel->formError()));
    nlohmann::json noisy = stripesConfig(scratch_ / "stripes", "noisy", 2);
    noisy["regularizer"] = {{"kind", "gaussian_noise_augmentation"}, {"noise_sigma", 0.1}};
    QVERIFY(panel->applyConfig(noisy));
    QVERIFY(panel->queueLaunch());
    QVERIFY(queue.isRunning());
    QCOMPARE(panel->queueList()->count(), 1);  // the second launch waits its turn
    // The same launch again would write into folders that will hold runs: refused up front only
    // once they exist, so here both are queued; the engine refuses the duplicate itself later.

    // Closing the Training tab hides the panel; the runs go on.
    QTabWidget* tabs = window.tabs();
    tabs->removeTab(tabs->indexOf(panel));
    QCOMPARE(tabs->indexOf(panel), -1);
    QVERIFY(queue.isRunning());

    QTRY_VERIFY_WITH_TIMEOUT(!queue.isRunning() && queue.waiting().isEmpty(), kJobWaitMs);
    QCOMPARE(epochs.count(), 8);  // 2 launches x 2 seeds x 2 epochs, reported live
    QVERIFY(window.showPanel(QStringLiteral("training")));
    QVERIFY(tabs->indexOf(panel) >= 0);

    QCOMPARE(panel->runs().size(), std::size_t{4});
    for (const auto& run : panel->runs()) {
      QCOMPARE(run.state, bp::RunState::Finished);
      QCOMPARE(run.history.size(), std::size_t{2});
      QVERIFY(run.testAccuracy > 0.0);
    }
    // Every run's curve overlaid; the launches side by side.
    QCOMPARE(panel->curvePlot()->seriesCount(), 4);
    QCOMPARE(panel->comparisonTable()->rowCount(), 2);
    QVERIFY(panel->comparisonTable()->item(0, 3)->text().startsWith(QStringLiteral("2 of 2")));
    QVERIFY(panel->comparisonTable()->item(1, 6)->text() != QStringLiteral("—"));  // noisy vs the baseline
    // Unticking a run removes its curve.
    const int row = rowOf(*panel, "baseline-seed1");
    QVERIFY(row >= 0);
    panel->runsTable()->item(row, 0)->setCheckState(Qt::Unchecked);
    QCOMPARE(panel->curvePlot()->seriesCount(), 3);
    panel->metricBox()->setCurrentIndex(panel->metricBox()->findData(QStringLiteral("total_loss")));
    QCOMPARE(panel->curvePlot()->seriesCount(), 3);

    // A fresh window reopens the folder with the same runs and curves.
    MainWindow reopened({});
    reopened.trainingPanel()->setRunsFolder(QString::fromStdString(runs.string()));
    QCOMPARE(reopened.trainingPanel()->runs().size(), std::size_t{4});
    QCOMPARE(reopened.trainingPanel()->curvePlot()->seriesCount(), 4);

    // Launching into folders that hold runs is refused before anything runs.
    QVERIFY(panel->applyConfig(stripesConfig(scratch_ / "stripes", "baseline", 2)));
    QVERIFY(!panel->queueLaunch());
    QVERIFY(panel->formError().contains(QStringLiteral("already holds a run")));
  }

  void cancelledRunResumesToTheEnd() {
    MainWindow window({});
    TrainingPanel* panel = window.trainingPanel();
    bp::app::TrainingQueue& queue = window.trainingQueue();
    panel->setRunsFolder(QString::fromStdString((scratch_ / "cancel").string()));
    nlohmann::json config = stripesConfig(scratch_ / "stripes", "long", 12);
    config["seeds"] = {7};
    QVERIFY(panel->applyConfig(config));
    QSignalSpy finished(&queue, &bp::app::TrainingQueue::launchFinished);
    // Cancel as the first epoch is reported, as a user watching the curve would.
    QObject::connect(&queue, &bp::app::TrainingQueue::epochReported, &queue, &bp::app::TrainingQueue::cancelCurrent,
                     Qt::SingleShotConnection);
    QVERIFY(panel->queueLaunch());
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kJobWaitMs);
    QCOMPARE(finished.at(0).at(2).toBool(), true);  // cancelled
    const bp::RunRecord* run = runNamed(*panel, "long-seed7");
    QVERIFY(run);
    QCOMPARE(run->state, bp::RunState::Cancelled);
    const int epochsBefore = run->epochsDone;
    QVERIFY(epochsBefore >= 1 && epochsBefore < 12);

    panel->runsTable()->setCurrentCell(rowOf(*panel, "long-seed7"), 1);
    QVERIFY2(panel->resumeSelectedRun(), qPrintable(panel->formError()));
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 2, kJobWaitMs);
    QCOMPARE(finished.at(1).at(3).toString(), QString());  // no error
    run = runNamed(*panel, "long-seed7");
    QCOMPARE(run->state, bp::RunState::Finished);
    QCOMPARE(run->history.size(), std::size_t{12});
    for (int epoch = 1; epoch <= 12; ++epoch) QCOMPARE(run->history[static_cast<std::size_t>(epoch - 1)].epoch, epoch);
    // A finished run does not resume.
    panel->runsTable()->setCurrentCell(rowOf(*panel, "long-seed7"), 1);
    QVERIFY(!panel->resumeSelectedRun());
  }

private:
  bp::test::ScratchDir scratch_;
};

QTEST_MAIN(TrainingPanelTest)
#include "test_training_panel.moc"
