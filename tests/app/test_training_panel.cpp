// The training panel as a user drives it: a config round-trips through the form, bad settings are
// refused with a reason before anything runs, a launch of two seeds runs from the queue with live
// curves overlaid and the launches side by side, a second launch waits its turn, closing the tab
// never stops a run, a launch on two data-parallel workers shows its curves live and a cluster
// script for it saves with its config, a cancelled run resumes to the end, and a folder of runs
// reopens.
#include <QComboBox>
#include <QLineEdit>
#include <QListWidget>
#include <QFileInfo>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTableWidget>
#include <QtTest>
#include <algorithm>

#include "app/cluster_script_dialog.h"
#include "app/main_window.h"
#include "app/training_launch_form.h"
#include "app/training_panel.h"
#include "app/training_queue.h"
#include "app/training_runs_view.h"
#include "app/training_session.h"
#include "app/workspace.h"
#include "striped_images.h"
#include "test_registry.h"
#include "test_support.h"
#include "widgets/series_plot.h"

using bp::app::MainWindow;
using bp::app::TrainingLaunchForm;
using bp::app::TrainingPanel;
using bp::app::TrainingRunsView;

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

const bp::RunRecord* runNamed(const TrainingRunsView& view, const std::string& name) {
  const auto& runs = view.runs();
  const auto found = std::find_if(runs.begin(), runs.end(), [&](const bp::RunRecord& run) { return run.name == name; });
  return found == runs.end() ? nullptr : &*found;
}

int rowOf(const TrainingRunsView& view, const std::string& name) {
  for (int row = 0; row < view.runsTable()->rowCount(); ++row)
    if (view.runsTable()->item(row, 1)->text() == QString::fromStdString(name)) return row;
  return -1;
}

}  // namespace

class TrainingPanelTest : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void initTestCase() {
    bp::test::writeStripedIdxSplit(scratch_ / "stripes", "train", 150, 1);
    bp::test::writeStripedIdxSplit(scratch_ / "stripes", "t10k", 45, 2);
  }

  void formRoundTripsAConfig() {
    MainWindow window({});
    TrainingLaunchForm* form = window.trainingPanel()->launchForm();
    nlohmann::json config = stripesConfig(scratch_ / "stripes", "round-trip", 4);
    config["regularizer"] = {{"kind", "neural_similarity"},
                             {"alpha", 10.0},
                             {"pair_batch_size", 8},
                             {"target", {{"source", "pixel"}, {"shuffled", true}, {"threshold", 0.8}}}};
    QVERIFY2(form->applyConfig(config), qPrintable(form->formError()));
    QCOMPARE(form->regularizerBox()->currentData().toString(), QStringLiteral("neural_similarity"));
    QCOMPARE(form->seedsEdit()->text(), QStringLiteral("1, 2"));
    const nlohmann::json back = form->configFromForm();
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
    TrainingLaunchForm* form = window.trainingPanel()->launchForm();
    window.workspace().setRunsFolder(QString::fromStdString((scratch_ / "refused").string()));
    QVERIFY(form->applyConfig(stripesConfig(scratch_ / "stripes", "refused", 1)));
    form->seedsEdit()->setText(QStringLiteral("one, two"));
    QVERIFY(!form->queueLaunch());
    QVERIFY(form->formError().contains(QStringLiteral("Seeds")));
    form->seedsEdit()->setText(QStringLiteral("1"));
    // The neural-similarity regularizer needs its matrix file.
    form->regularizerBox()->setCurrentIndex(form->regularizerBox()->findData(QStringLiteral("neural_similarity")));
    QVERIFY(!form->queueLaunch());
    QVERIFY2(form->formError().contains(QStringLiteral("matrix")), qPrintable(form->formError()));
    QVERIFY(!window.trainingQueue().isRunning());
    // A config the engine refuses is not loaded.
    QVERIFY(!form->applyConfig({{"epochz", 3}}));
    QVERIFY(form->formError().contains(QStringLiteral("epochz")));
  }

  void launchesQueuesOverlaysAndSurvivesClosingTheTab() {
    MainWindow window({});
    TrainingLaunchForm* form = window.trainingPanel()->launchForm();
    TrainingRunsView* runsView = window.trainingPanel()->runsView();
    bp::app::TrainingQueue& queue = window.trainingQueue();
    const auto runs = scratch_ / "runs";
    window.workspace().setRunsFolder(QString::fromStdString(runs.string()));
    QSignalSpy epochs(&queue, &bp::app::TrainingQueue::epochReported);

    QVERIFY(form->applyConfig(stripesConfig(scratch_ / "stripes", "baseline", 2)));
    QVERIFY2(form->queueLaunch(), qPrintable(form->formError()));
    nlohmann::json noisy = stripesConfig(scratch_ / "stripes", "noisy", 2);
    noisy["regularizer"] = {{"kind", "gaussian_noise_augmentation"}, {"noise_sigma", 0.1}};
    QVERIFY(form->applyConfig(noisy));
    QVERIFY(form->queueLaunch());
    QVERIFY(queue.isRunning());
    QCOMPARE(runsView->queueList()->count(), 1);  // the second launch waits its turn
    // The same launch again would write into folders that will hold runs: refused up front only
    // once they exist, so here both are queued; the engine refuses the duplicate itself later.

    // Closing the Training tab hides the panel; the runs go on.
    QVERIFY(window.closePanel(QStringLiteral("training")));
    QVERIFY(!window.openPanelNames().contains(QStringLiteral("training")));
    QVERIFY(queue.isRunning());

    QTRY_VERIFY_WITH_TIMEOUT(!queue.isRunning() && queue.waiting().isEmpty(), kJobWaitMs);
    QCOMPARE(epochs.count(), 8);  // 2 launches x 2 seeds x 2 epochs, reported live
    QVERIFY(window.showPanel(QStringLiteral("training")));
    QVERIFY(window.openPanelNames().contains(QStringLiteral("training")));

    QCOMPARE(runsView->runs().size(), std::size_t{4});
    for (const auto& run : runsView->runs()) {
      QCOMPARE(run.state, bp::RunState::Finished);
      QCOMPARE(run.history.size(), std::size_t{2});
      QVERIFY(run.testAccuracy > 0.0);
    }
    // Every run's curve overlaid; the launches side by side.
    QCOMPARE(runsView->curvePlot()->seriesCount(), 4);
    QCOMPARE(runsView->comparisonTable()->rowCount(), 2);
    QVERIFY(runsView->comparisonTable()->item(0, 3)->text().startsWith(QStringLiteral("2 of 2")));
    QVERIFY(runsView->comparisonTable()->item(1, 6)->text() != QStringLiteral("—"));  // noisy vs the baseline
    // Unticking a run removes its curve.
    const int row = rowOf(*runsView, "baseline-seed1");
    QVERIFY(row >= 0);
    runsView->runsTable()->item(row, 0)->setCheckState(Qt::Unchecked);
    QCOMPARE(runsView->curvePlot()->seriesCount(), 3);
    runsView->metricBox()->setCurrentIndex(runsView->metricBox()->findData(QStringLiteral("total_loss")));
    QCOMPARE(runsView->curvePlot()->seriesCount(), 3);

    // A fresh window reopens the folder with the same runs and curves.
    MainWindow reopened({});
    reopened.workspace().setRunsFolder(QString::fromStdString(runs.string()));
    QCOMPARE(reopened.trainingPanel()->runsView()->runs().size(), std::size_t{4});
    QCOMPARE(reopened.trainingPanel()->runsView()->curvePlot()->seriesCount(), 4);

    // A finished run goes out to Python: the state_dict and its description, and the lines that load it.
    TrainingRunsView* reopenedView = reopened.trainingPanel()->runsView();
    QSignalSpy exported(reopenedView, &TrainingRunsView::runExported);
    reopenedView->runsTable()->setCurrentCell(rowOf(*reopenedView, "baseline-seed1"), 1);
    const QString exportFile = QString::fromStdString((scratch_ / "baseline.pth").string());
    QVERIFY(reopenedView->exportSelectedRun(exportFile));
    QVERIFY(exported.wait(kJobWaitMs));
    QVERIFY(QFileInfo(exportFile).size() > 0);
    QVERIFY(QFileInfo::exists(exportFile + ".json"));
    QVERIFY(exported.front().at(1).toString().contains(QStringLiteral("baseline.pth")));

    // Launching into folders that hold runs is refused before anything runs.
    QVERIFY(form->applyConfig(stripesConfig(scratch_ / "stripes", "baseline", 2)));
    QVERIFY(!form->queueLaunch());
    QVERIFY(form->formError().contains(QStringLiteral("already holds a run")));
  }

  void launchesOnTwoWorkersWithLiveCurvesAndWritesAClusterScript() {
    qputenv("BRAINPRIOR_CLI", BRAINPRIOR_CLI_PATH);
    MainWindow window({});
    TrainingLaunchForm* form = window.trainingPanel()->launchForm();
    TrainingRunsView* runsView = window.trainingPanel()->runsView();
    bp::app::TrainingQueue& queue = window.trainingQueue();
    window.workspace().setRunsFolder(QString::fromStdString((scratch_ / "workers").string()));
    nlohmann::json config = stripesConfig(scratch_ / "stripes", "pair", 2);
    config["seeds"] = {3};
    QVERIFY(form->applyConfig(config));
    form->workersSpin()->setValue(2);
    QSignalSpy epochs(&queue, &bp::app::TrainingQueue::epochReported);
    QSignalSpy finished(&queue, &bp::app::TrainingQueue::launchFinished);
    QVERIFY2(form->queueLaunch(), qPrintable(form->formError()));
    QVERIFY(queue.current()->title.contains(QStringLiteral("2 workers")));
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kJobWaitMs);
    QCOMPARE(finished.at(0).at(3).toString(), QString());  // no error
    QCOMPARE(epochs.count(), 2);  // read back from rank 0's run folder as it wrote them
    const bp::RunRecord* run = runNamed(*runsView, "pair-seed3");
    QVERIFY(run);
    QCOMPARE(run->state, bp::RunState::Finished);
    QCOMPARE(run->summary.at("workers").at("world_size").get<int>(), 2);
    QVERIFY(!std::filesystem::exists(scratch_ / "workers" / ".data-parallel-launch.json"));

    // The same config for a cluster: a Slurm script that names the config saved beside it.
    bp::app::ClusterScriptDialog dialog(bp::app::normalizedTrainingConfig(form->configFromForm()),
                                        QStringLiteral("/shared/runs"));
    QVERIFY(dialog.script().contains(QStringLiteral("#SBATCH --nodes=2")));
    const QString script = QString::fromStdString((scratch_ / "job.sbatch").string());
    QVERIFY(dialog.saveTo(script));
    QVERIFY(QFileInfo(script).isExecutable());
    const auto saved = nlohmann::json::parse(bp::test::readBytes(scratch_ / "job.sbatch.config.json"));
    QCOMPARE(saved.at("name").get<std::string>(), std::string("pair"));
    QVERIFY(QString::fromStdString(bp::test::readBytes(scratch_ / "job.sbatch"))
                .contains(QStringLiteral("--config ") + script + QStringLiteral(".config.json")));
  }

  void cancelledRunResumesToTheEnd() {
    MainWindow window({});
    TrainingLaunchForm* form = window.trainingPanel()->launchForm();
    TrainingRunsView* runsView = window.trainingPanel()->runsView();
    bp::app::TrainingQueue& queue = window.trainingQueue();
    window.workspace().setRunsFolder(QString::fromStdString((scratch_ / "cancel").string()));
    nlohmann::json config = stripesConfig(scratch_ / "stripes", "long", 12);
    config["seeds"] = {7};
    QVERIFY(form->applyConfig(config));
    QSignalSpy finished(&queue, &bp::app::TrainingQueue::launchFinished);
    // Cancel as the first epoch is reported, as a user watching the curve would.
    QObject::connect(&queue, &bp::app::TrainingQueue::epochReported, &queue, &bp::app::TrainingQueue::cancelCurrent,
                     Qt::SingleShotConnection);
    QVERIFY(form->queueLaunch());
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kJobWaitMs);
    QCOMPARE(finished.at(0).at(2).toBool(), true);  // cancelled
    const bp::RunRecord* run = runNamed(*runsView, "long-seed7");
    QVERIFY(run);
    QCOMPARE(run->state, bp::RunState::Cancelled);
    const int epochsBefore = run->epochsDone;
    QVERIFY(epochsBefore >= 1 && epochsBefore < 12);

    runsView->runsTable()->setCurrentCell(rowOf(*runsView, "long-seed7"), 1);
    QVERIFY2(runsView->resumeSelectedRun(), qPrintable(runsView->message()));
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 2, kJobWaitMs);
    QCOMPARE(finished.at(1).at(3).toString(), QString());  // no error
    run = runNamed(*runsView, "long-seed7");
    QCOMPARE(run->state, bp::RunState::Finished);
    QCOMPARE(run->history.size(), std::size_t{12});
    for (int epoch = 1; epoch <= 12; ++epoch) QCOMPARE(run->history[static_cast<std::size_t>(epoch - 1)].epoch, epoch);
    // A finished run does not resume.
    runsView->runsTable()->setCurrentCell(rowOf(*runsView, "long-seed7"), 1);
    QVERIFY(!runsView->resumeSelectedRun());
  }

private:
  bp::test::ScratchDir scratch_;
};

BRAINPRIOR_TEST_CLASS(TrainingPanelTest)
#include "test_training_panel.moc"
