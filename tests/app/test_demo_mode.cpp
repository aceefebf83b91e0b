// The demo mode as a presenter meets it, on the smallest demo the engine runs: every step is told
// in the Demo tab and marked done with its finding while each result opens in its own panel; a
// demo folder that already holds a demo is refused with the engine's reason; "Stop and Show Results
// So Far" keeps the finished steps, marks the interrupted one stopped and the rest not run;
// presentation mode enlarges and recolours the window and leaving it restores everything. The
// demo's state, saved as a project, reopens identically and exports a report with every part. The
// finished demo replays beat by beat (Page Down) and opens the same results without computing.
#include <QAction>
#include <QApplication>
#include <QComboBox>
#include <QDockWidget>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QSignalSpy>
#include <QPushButton>
#include <QTableWidget>
#include <QtTest>
#include <filesystem>

#include "test_registry.h"
#include "widgets/custom_plot.h"

#include "app/comparison_panel.h"
#include "app/demo_panel.h"
#include "app/main_window.h"
#include "app/model_panel.h"
#include "app/probe_panel.h"
#include "app/project_controller.h"
#include "app/similarity_panel.h"
#include "app/training_launch_form.h"
#include "app/training_panel.h"
#include "app/training_runs_view.h"
#include "app/workspace.h"
#include "data/default_data.h"
#include "demo/demo_pipeline.h"
#include "runtime/atomic_file.h"
#include "runtime/error.h"
#include "test_support.h"
#include "widgets/heatmap_view.h"

using bp::app::DemoPanel;
using bp::app::MainWindow;
using bp::app::Workspace;
using State = bp::app::DemoPanel::StepState;

namespace {

// Generous: jobs share two cores with other builds; no test asserts a duration.
constexpr int kDemoWaitMs = 600000;

// The engine test's smallest demo (about 20 s on a 2-core machine).
bp::DemoConfig tinyDemo(const std::filesystem::path& folder) {
  bp::DemoConfig config;
  config.outputDir = folder;
  config.fitEpochs = 1;
  config.targetImages = 40;
  config.trainImages = 300;
  config.testImages = 60;
  config.epochs = 1;
  config.probeImages = 20;
  return config;
}

QAction* menuAction(const MainWindow& window, const QString& text) {
  for (QAction* action : window.menuBar()->findChildren<QAction*>())
    if (action->text() == text) return action;
  return nullptr;
}

}  // namespace

class DemoModeTest : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void readsTheDemoConfigItWrites() {
    bp::DemoConfig config = tinyDemo("/tmp/somewhere");
    config.alpha = 3.5;
    config.seeds = {4, 7};
    const bp::DemoConfig read = bp::demoConfigFromJson(bp::toJson(config));
    QCOMPARE(bp::toJson(read), bp::toJson(config));
    // An absent key keeps its default; an unknown or mistyped one is named.
    QCOMPARE(bp::demoConfigFromJson(nlohmann::json::object()).epochs, bp::DemoConfig{}.epochs);
    QVERIFY_THROWS_EXCEPTION(bp::Error, bp::demoConfigFromJson({{"epoch", 2}}));
    QVERIFY_THROWS_EXCEPTION(bp::Error, bp::demoConfigFromJson({{"seeds", {-1}}}));

    // The panel's form round-trips it too, and names a malformed seed list.
    MainWindow window({});
    DemoPanel* panel = window.demoPanel();
    panel->setConfig(config);
    QCOMPARE(bp::toJson(panel->configFromForm()), bp::toJson(config));
    bp::DemoConfig badSeeds = config;
    badSeeds.seeds.clear();
    panel->setConfig(badSeeds);
    QVERIFY(!panel->start());
    QVERIFY(panel->problem().contains(QStringLiteral("no seeds")));
    QVERIFY(!panel->isRunning());
  }

  void runsTheWholeDemoAndOpensEachResult() {
    if (!std::filesystem::is_directory(bp::defaultImageSourcePath())) QSKIP("dataset-fashion-mnist is not installed");
    MainWindow window({});
    window.show();
    DemoPanel* panel = window.demoPanel();
    const auto folder = scratch_ / "whole";
    panel->setConfig(tinyDemo(folder));
    // What the narration area says as each step starts.
    QStringList headings;
    QStringList narrations;
    connect(panel, &DemoPanel::stepStarted, this, [&](DemoPanel::Step step) {
      headings << panel->narrationHeading();
      narrations << panel->narration();
      QCOMPARE(panel->stepState(step), State::Running);
    });
    QSignalSpy ended(panel, &DemoPanel::ended);
    QVERIFY(window.showPanel(QStringLiteral("demo")));
    window.setPresentationMode(true);  // as at a talk
    QVERIFY(panel->start());
    QVERIFY(panel->isRunning());
    QVERIFY(ended.wait(kDemoWaitMs));
    QCOMPARE(ended.first().at(0).toBool(), true);
    QVERIFY2(panel->problem().isEmpty(), qPrintable(panel->problem()));

    const auto saved = nlohmann::json::parse(bp::readTextFile(folder / "demo.json"));
    const auto& steps = saved.at("steps");
    QCOMPARE(steps.size(), std::size_t{DemoPanel::StepCount});
    QCOMPARE(headings.size(), int{DemoPanel::StepCount});
    for (int i = 0; i < DemoPanel::StepCount; ++i) {
      const auto step = static_cast<DemoPanel::Step>(i);
      const QString title = QString::fromStdString(steps.at(i).at("title").get<std::string>());
      QCOMPARE(panel->stepTitle(step), title);
      QCOMPARE(panel->stepState(step), State::Done);
      QCOMPARE(panel->stepFinding(step), QString::fromStdString(steps.at(i).at("finding").get<std::string>()));
      QVERIFY(!panel->stepFinding(step).isEmpty());
      QVERIFY(headings[i].contains(title));
      QCOMPARE(narrations[i], QString::fromStdString(steps.at(i).at("narration").get<std::string>()));
      QCOMPARE(panel->stepNarration(step), narrations[i]);
      // What is not a finding is said under the finding, as demo.json says it.
      QStringList warnings;
      for (const auto& warning : steps.at(i).at("warnings")) warnings << QString::fromStdString(warning.get<std::string>());
      QCOMPARE(panel->stepWarnings(step), warnings);
    }
    QVERIFY(panel->narrationHeading().contains(QStringLiteral("all 5 steps")));
    // A demo whose figures were flagged says so in the narration, where an audience sees it.
    if (saved.contains("warning"))
      QVERIFY(panel->narration().contains(QString::fromStdString(saved.at("warning").get<std::string>())));
    // The Comparison tab lists the probe's warnings above its table.
    QCOMPARE(window.comparisonPanel()->warnings().size(), static_cast<int>(saved.at("steps").at(4).at("warnings").size()));
    // The Demo tab stayed in front while the panels filled behind it.
    QCOMPARE(window.currentPanel(), static_cast<QWidget*>(panel));

    // Each step's results, in the panel that explains them.
    const Workspace& workspace = window.workspace();
    QTRY_VERIFY_WITH_TIMEOUT(workspace.neuralDataset() != nullptr, kDemoWaitMs);
    QTRY_COMPARE_WITH_TIMEOUT(workspace.modelCount(), 1, kDemoWaitMs);
    QCOMPARE(workspace.model(0)->file, (folder / "v1-model.pt").string());
    QTRY_VERIFY_WITH_TIMEOUT(workspace.similarity(Workspace::A).matrix != nullptr, kDemoWaitMs);
    QCOMPARE(workspace.similarity(Workspace::A).matrix->size, std::int64_t{40});
    QCOMPARE(window.trainingPanel()->runsView()->runs().size(), std::size_t{3});
    // The shuffled control reads as a control, not as the neural prior.
    for (const bp::RunRecord& run : window.trainingPanel()->runsView()->runs())
      QCOMPARE(run.control, std::string(run.group == "demo-shuffled" ? "shuffled" : ""));
    // Side by side, a target's long paths are elided in the middle, whole in the tooltip.
    const QTableWidget* sideBySide = window.trainingPanel()->runsView()->comparisonTable();
    int elided = 0;
    for (int row = 0; row < sideBySide->rowCount(); ++row) {
      const QTableWidgetItem* target = sideBySide->item(row, 2);
      if (target->toolTip().isEmpty()) continue;  // the baseline has no target
      ++elided;
      QVERIFY2(target->text().contains(QStringLiteral("…")), qPrintable(target->text()));
      QVERIFY(target->text().size() < target->toolTip().size());
      QVERIFY(target->toolTip().contains(QString::fromStdString((folder / "target.h5").string())));
    }
    QCOMPARE(elided, 2);  // the neural prior and its shuffled control
    QCOMPARE(bp::app::regularizerLabel("neural_similarity", "shuffled"), QStringLiteral("neural similarity, shuffled (control)"));
    QCOMPARE(window.comparisonPanel()->runsFolder(), QString::fromStdString((folder / "runs").string()));
    QVERIFY(window.comparisonPanel()->table()->rowCount() >= 3);
    QTRY_COMPARE_WITH_TIMEOUT(window.probePanel()->modelCount(), 3, kDemoWaitMs);
    QTRY_VERIFY_WITH_TIMEOUT(window.jobs().activeJobCount() == 0 && !window.probePanel()->busy(), kDemoWaitMs);

    // The talk's state saved as a project reopens identically, and its report has every part.
    const QString project = QString::fromStdString((scratch_ / "talk.brainprior").string());
    QSignalSpy projectSaved(&window.project(), &bp::app::ProjectController::saved);
    window.project().saveAs(project);
    QVERIFY(projectSaved.wait(kDemoWaitMs));
    MainWindow reopened({});
    QSignalSpy restored(&reopened.project(), &bp::app::ProjectController::restored);
    QVERIFY(reopened.project().open(project));
    QVERIFY(restored.wait(kDemoWaitMs));
    const bp::Project before = window.project().capture();
    const bp::Project after = reopened.project().capture();
    QCOMPARE(after.files, before.files);
    QCOMPARE(after.panels, before.panels);
    QVERIFY(reopened.presentationMode());
    QCOMPARE(reopened.probePanel()->modelCount(), 3);
    QCOMPARE(reopened.probePanel()->settings(), window.probePanel()->settings());
    reopened.setPresentationMode(false);
    const QString report = QString::fromStdString((scratch_ / "talk.html").string());
    QSignalSpy exported(&reopened, &MainWindow::reportExported);
    reopened.exportReport(report);
    QVERIFY(exported.wait(kDemoWaitMs));
    const std::string html = bp::readTextFile(report.toStdString());
    for (const char* section : {"Neural data", "Similarity matrices", "Model fit", "Training", "Robustness"})
      QVERIFY2(html.find(section) != std::string::npos, section);
    window.setPresentationMode(false);

    // A step's Show button brings up its panel.
    Q_EMIT panel->resultsRequested(DemoPanel::TrainClassifiers);
    QCOMPARE(window.currentPanel(), static_cast<QWidget*>(window.trainingPanel()));

    // The same folder again: the engine refuses it, and the panel and the job's error say why.
    QSignalSpy refused(panel, &DemoPanel::ended);
    QVERIFY(panel->start());
    QVERIFY(refused.wait(kDemoWaitMs));
    QCOMPARE(refused.first().at(0).toBool(), false);
    QVERIFY2(panel->problem().contains(QStringLiteral("already holds a demo")), qPrintable(panel->problem()));
    QCOMPARE(panel->narrationHeading(), QStringLiteral("The demo did not start"));
    for (int i = 0; i < DemoPanel::StepCount; ++i)
      QCOMPARE(panel->stepState(static_cast<DemoPanel::Step>(i)), State::NotRun);
    bool messaged = false;
    for (auto* message : window.findChildren<QMessageBox*>(QStringLiteral("jobMessage")))
      messaged = messaged || message->text().contains(QStringLiteral("already holds a demo"));
    QVERIFY(messaged);
  }

  void replaysAFinishedDemoAtThePresentersPace() {
    const auto folder = scratch_ / "whole";
    if (!std::filesystem::exists(folder / "demo.json")) QSKIP("needs runsTheWholeDemoAndOpensEachResult's demo");
    const auto saved = nlohmann::json::parse(bp::readTextFile(folder / "demo.json"));
    MainWindow window({});
    window.show();
    window.setPresentationMode(true);
    QVERIFY(QTest::qWaitForWindowActive(&window));
    DemoPanel* panel = window.demoPanel();

    // A folder without a finished demo says why, and nothing starts.
    QVERIFY(!panel->replay(QString::fromStdString(scratch_.string())));
    QVERIFY2(panel->problem().contains(QStringLiteral("no demo.json")), qPrintable(panel->problem()));
    QVERIFY(!panel->isReplaying());

    window.replayDemo(QString::fromStdString(folder.string()));
    QVERIFY(panel->isReplaying());
    QVERIFY(panel->problem().isEmpty());
    QCOMPARE(window.currentPanel(), static_cast<QWidget*>(panel));
    for (int i = 0; i < DemoPanel::StepCount; ++i)
      QCOMPARE(panel->stepState(static_cast<DemoPanel::Step>(i)), State::Waiting);

    // Two beats per step: what it does, then what it found. The Next button, beside the story (the
    // form is hidden in presentation mode), answers Page Down, as presentation remotes send it.
    auto* next = panel->findChild<QPushButton*>(QStringLiteral("replayNext"));
    QVERIFY(next != nullptr && next->isVisible());
    QCOMPARE(next->shortcut(), QKeySequence(Qt::Key_PageDown));
    for (int i = 0; i < DemoPanel::StepCount; ++i) {
      const auto step = static_cast<DemoPanel::Step>(i);
      const auto& recorded = saved.at("steps").at(i);
      if (i == 0) {
        QTest::keyClick(&window, Qt::Key_PageDown);
      } else if (i == 1) {
        QTest::mouseClick(next, Qt::LeftButton);
      } else {
        panel->advanceReplay();
      }
      // A shortcut animates the button's click, which lands 100 ms later.
      QTRY_COMPARE(panel->stepState(step), State::Running);
      QCOMPARE(panel->narration(), QString::fromStdString(recorded.at("narration").get<std::string>()));
      QVERIFY(panel->narrationHeading().contains(panel->stepTitle(step)));
      panel->advanceReplay();
      QCOMPARE(panel->stepState(step), State::Done);
      QCOMPARE(panel->stepFinding(step), QString::fromStdString(recorded.at("finding").get<std::string>()));
      // The step's key figure beside the story: here the denoising check's two agreements.
      if (step == DemoPanel::BuildTarget) {
        const auto& check = recorded.at("result").at("denoising_check");
        QCOMPARE(panel->keyFigureStep(), int{DemoPanel::BuildTarget});
        QCOMPARE(panel->keyFigureValues(), (QVector<double>{check.at("predicted_vs_repeat_average").get<double>(),
                                                            check.at("single_trial_vs_other_repeats").get<double>()}));
      }
    }
    // The last figure: each launch's accuracy under growing noise, from the probe report.
    QCOMPARE(panel->keyFigureStep(), int{DemoPanel::ProbeRobustness});
    QVector<double> curves;
    const auto report = nlohmann::json::parse(bp::readTextFile(folder / "probe" / "report.json"));
    for (const auto& launch : report.at("launches"))
      for (const auto& accuracy : launch.at("corruptions").at(0).at("mean_accuracies")) curves << accuracy.get<double>();
    QCOMPARE(panel->keyFigureValues(), curves);
    QVERIFY(!panel->isReplaying());
    QVERIFY(!next->isVisible());
    QVERIFY(panel->narrationHeading().contains(QStringLiteral("all 5 steps")));
    panel->advanceReplay();  // one beat too many does nothing
    QVERIFY(panel->narrationHeading().contains(QStringLiteral("all 5 steps")));

    // The recorded results open in their panels, as they did live.
    const Workspace& workspace = window.workspace();
    QTRY_VERIFY_WITH_TIMEOUT(workspace.neuralDataset() != nullptr, kDemoWaitMs);
    QTRY_COMPARE_WITH_TIMEOUT(workspace.modelCount(), 1, kDemoWaitMs);
    QCOMPARE(workspace.model(0)->file, (folder / "v1-model.pt").string());
    QTRY_VERIFY_WITH_TIMEOUT(workspace.similarity(Workspace::A).matrix != nullptr, kDemoWaitMs);
    QCOMPARE(window.comparisonPanel()->runsFolder(), QString::fromStdString((folder / "runs").string()));
    QTRY_COMPARE_WITH_TIMEOUT(window.probePanel()->modelCount(), 3, kDemoWaitMs);
    QTRY_VERIFY_WITH_TIMEOUT(window.jobs().activeJobCount() == 0 && !window.probePanel()->busy(), kDemoWaitMs);
    // Nothing was computed into the folder: a replay only reads it.
    QCOMPARE(nlohmann::json::parse(bp::readTextFile(folder / "demo.json")), saved);
    window.setPresentationMode(false);
  }

  void stopShowsTheResultsSoFar() {
    if (!std::filesystem::is_directory(bp::defaultImageSourcePath())) QSKIP("dataset-fashion-mnist is not installed");
    MainWindow window({});
    window.show();
    DemoPanel* panel = window.demoPanel();
    const auto folder = scratch_ / "stopped";
    bp::DemoConfig config = tinyDemo(folder);
    // Long enough training that the stop lands in a step that is still running.
    config.trainImages = 3000;
    config.epochs = 3;
    panel->setConfig(config);
    QSignalSpy modelSaved(panel, &DemoPanel::modelSaved);
    QSignalSpy ended(panel, &DemoPanel::ended);

    QAction* run = menuAction(window, QStringLiteral("Run &Demo"));
    QVERIFY(run);
    QCOMPARE(run->shortcut(), QKeySequence(QStringLiteral("Ctrl+D")));
    QAction* stop = menuAction(window, QStringLiteral("&Stop and Show Results So Far"));
    QVERIFY(stop);
    QVERIFY(!stop->isEnabled());
    run->trigger();
    QVERIFY(panel->isRunning());
    QCOMPARE(window.currentPanel(), static_cast<QWidget*>(panel));
    QVERIFY(stop->isEnabled());
    QVERIFY(modelSaved.wait(kDemoWaitMs));
    stop->trigger();
    QVERIFY(ended.wait(kDemoWaitMs));
    QCOMPARE(ended.first().at(0).toBool(), false);
    QVERIFY(!stop->isEnabled());

    // Finished steps, then the one that was stopped, then those that never ran.
    int done = 0;
    while (done < DemoPanel::StepCount && panel->stepState(static_cast<DemoPanel::Step>(done)) == State::Done) ++done;
    QVERIFY(done >= 2);
    QVERIFY(done < DemoPanel::StepCount);
    QCOMPARE(panel->stepState(static_cast<DemoPanel::Step>(done)), State::Stopped);
    for (int i = done + 1; i < DemoPanel::StepCount; ++i)
      QCOMPARE(panel->stepState(static_cast<DemoPanel::Step>(i)), State::NotRun);
    QCOMPARE(panel->narrationHeading(), QStringLiteral("Stopped during step %1").arg(done + 1));
    QVERIFY(panel->narration().contains(QStringLiteral("Not run:")));
    const QString stopped = panel->stepTitle(static_cast<DemoPanel::Step>(done));
    QVERIFY(panel->narration().contains(stopped + QStringLiteral(" (stopped)")));
    QVERIFY(panel->problem().isEmpty());
    // The finished steps' files stay; the demo never completed.
    QVERIFY(std::filesystem::exists(folder / "v1-model.pt"));
    QVERIFY(!std::filesystem::exists(folder / "demo.json"));

    // The window shows the last finished step's results; the model is in the Models panel.
    QVERIFY(window.currentPanel() != static_cast<QWidget*>(panel));
    if (done == 2) QCOMPARE(window.currentPanel(), static_cast<QWidget*>(window.modelPanel()));
    QTRY_COMPARE_WITH_TIMEOUT(window.workspace().modelCount(), 1, kDemoWaitMs);
    QTRY_VERIFY_WITH_TIMEOUT(window.jobs().activeJobCount() == 0, kDemoWaitMs);
  }

  void presentationModeEnlargesAndRestoresEverything() {
    MainWindow window({});
    window.show();
    auto* similarity = window.similarityPanel();
    auto* heatmap = similarity->heatmap(Workspace::A);
    bp::widgets::HeatmapView* diverging = nullptr;
    for (auto* view : window.findChildren<bp::widgets::HeatmapView*>())
      if (bp::widgets::isDiverging(view->colormap())) diverging = view;
    QVERIFY(diverging);
    const QFont font = QApplication::font();
    const Qt::WindowStates state = window.windowState();
    const bp::widgets::Colormap chosen = heatmap->colormap();
    QCOMPARE(chosen, bp::widgets::Colormap::Viridis);
    // The Demo tab's heading, sized relative to the panel's font, which follows the application's.
    QLabel* heading = nullptr;
    for (auto* label : window.demoPanel()->findChildren<QLabel*>())
      if (label->text() == window.demoPanel()->narrationHeading()) heading = label;
    QVERIFY(heading);
    const double headingSize = heading->font().pointSizeF();
    const double panelSize = window.demoPanel()->font().pointSizeF();
    const double tickSize = heatmap->plot()->xAxis->tickLabelFont().pointSizeF();

    QAction* toggle = menuAction(window, QStringLiteral("&Presentation Mode"));
    QVERIFY(toggle);
    QCOMPARE(toggle->shortcut(), QKeySequence(Qt::Key_F11));
    // The tests' primary screen is a 1920x1080 projector (tests/support/screens.json).
    QCOMPARE(window.screen()->size().height(), 1080);
    const double scale = bp::app::presentationFontScale(1080);
    QCOMPARE(scale, 1.5);
    QVERIFY(window.controlsVisible());
    toggle->trigger();
    QVERIFY(window.presentationMode());
    QVERIFY(window.windowState().testFlag(Qt::WindowFullScreen));
    if (font.pointSizeF() > 0) {
      QCOMPARE(QApplication::font().pointSizeF(), font.pointSizeF() * scale);
    } else {
      QCOMPARE(QApplication::font().pixelSize(), qRound(font.pixelSize() * scale));
    }
    // Widgets take the application font from a posted event.
    QTRY_COMPARE(window.demoPanel()->font().pointSizeF(), panelSize * scale);
    QCOMPARE(heading->font().pointSizeF(), headingSize * scale);
    QCOMPARE(heatmap->plot()->xAxis->tickLabelFont().pointSizeF(), tickSize * scale);
    // The figures take the room of the forms and the log; Ctrl+B brings the forms back.
    QVERIFY(!window.controlsVisible());
    QVERIFY(!window.findChild<QDockWidget*>(QStringLiteral("logDock"))->isVisible());
    QAction* controls = menuAction(window, QStringLiteral("Show &Controls"));
    QCOMPARE(controls->shortcut(), QKeySequence(Qt::CTRL | Qt::Key_B));
    controls->trigger();
    QVERIFY(window.controlsVisible());
    controls->trigger();
    QCOMPARE(heatmap->shownColormap(), bp::widgets::Colormap::Magma);
    QCOMPARE(heatmap->colormap(), chosen);  // the user's choice is kept underneath
    // The colormap box names what is drawn, not the choice kept underneath.
    QComboBox* colormapBox = nullptr;
    for (auto* box : similarity->findChildren<QComboBox*>())
      if (box->findText(QStringLiteral("Viridis")) >= 0) colormapBox = box;
    QVERIFY(colormapBox);
    QCOMPARE(colormapBox->currentText(), QStringLiteral("Magma (presentation mode)"));
    QVERIFY(!colormapBox->isEnabled());
    QCOMPARE(diverging->shownColormap(), bp::widgets::Colormap::RedBlue);

    window.setPresentationMode(false);
    QVERIFY(!window.presentationMode());
    QVERIFY(!toggle->isChecked());
    QVERIFY(window.controlsVisible());
    QVERIFY(window.findChild<QDockWidget*>(QStringLiteral("logDock"))->isVisible());
    QCOMPARE(window.windowState(), state);
    QCOMPARE(QApplication::font(), font);
    QTRY_COMPARE(window.demoPanel()->font().pointSizeF(), panelSize);
    QCOMPARE(heading->font().pointSizeF(), headingSize);
    QCOMPARE(heatmap->plot()->xAxis->tickLabelFont().pointSizeF(), tickSize);
    QCOMPARE(heatmap->shownColormap(), chosen);
    QVERIFY(!heatmap->highContrast());
    QCOMPARE(colormapBox->currentText(), QStringLiteral("Viridis"));
    QVERIFY(colormapBox->isEnabled());
  }

private:
  bp::test::ScratchDir scratchDir_;
  std::filesystem::path scratch_ = scratchDir_.path();
};

BRAINPRIOR_TEST_CLASS(DemoModeTest)
#include "test_demo_mode.moc"
