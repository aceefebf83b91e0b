// The main window as a user meets it: default data loads off the GUI thread, the views follow the
// selection, jobs can be cancelled, and a broken file produces an error message instead of a crash.
#include <QComboBox>
#include <QDialog>
#include <QDoubleSpinBox>
#include <QMenuBar>
#include <QMessageBox>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTableWidget>
#include <QTextBrowser>
#include <QtTest>
#include <memory>

#include "app/about_dialog.h"
#include "app/data_panel.h"
#include "app/job_runner.h"
#include "app/main_window.h"
#include "app/nwb_import_dialog.h"
#include "app/project_controller.h"
#include "app/welcome_card.h"
#include "app/workspace.h"
#include "nwb_fixture.h"
#include "test_registry.h"
#include "test_support.h"
#include "widgets/custom_plot.h"
#include "widgets/series_plot.h"

class MainWindowTest : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void loadsTheDefaultDataOffTheGuiThread() {
    bp::app::MainWindow window({});
    window.show();
    QSignalSpy changed(&window.workspace(), &bp::app::Workspace::neuralDataChanged);
    window.loadDefaultData();
    QVERIFY(window.jobs().activeJobCount() == 1);  // returned at once, work is on a worker
    QVERIFY(changed.wait(120000));
    const auto dataset = window.workspace().neuralDataset();
    QVERIFY(dataset);
    QCOMPARE(dataset->neuronCount, 400);
    QVERIFY(window.dataPanel()->thumbnailGrid()->model()->rowCount() > 0);
    QVERIFY(window.workspace().neuralData()->reliability.oracleCorrelation.size() == 400);
  }

  void selectingAnImageAndANeuronUpdatesTheViews() {
    bp::app::MainWindow window({});
    QSignalSpy changed(&window.workspace(), &bp::app::Workspace::neuralDataChanged);
    window.loadDefaultData();
    QVERIFY(changed.wait(120000));
    auto* grid = window.dataPanel()->thumbnailGrid();
    QSignalSpy selected(grid, &bp::widgets::ImageGridView::currentIdChanged);
    const auto lastRow = grid->model()->index(grid->model()->rowCount() - 1, 0);
    grid->setCurrentIndex(lastRow);
    QVERIFY(selected.count() >= 1);
    // Responses across neurons are points: neighbouring neuron numbers are unrelated cells.
    QCustomPlot* responses = window.dataPanel()->imageResponsePlot()->plot();
    QVERIFY(responses->plottableCount() >= 2);
    for (int i = 0; i < responses->plottableCount(); ++i) {
      const auto* graph = qobject_cast<const QCPGraph*>(responses->plottable(i));
      QVERIFY(graph && graph->lineStyle() == QCPGraph::lsNone);
    }
    auto* spin = window.dataPanel()->findChild<QSpinBox*>();
    QVERIFY(spin);
    spin->setValue(3);
    QCOMPARE(spin->value(), 3);
    // The axis says what a response is; clicking a point brings up its neuron. The highest point
    // of all is clicked: no other neuron's point is near it.
    QCOMPARE(responses->yAxis->label(), QStringLiteral("spikes per trial"));
    window.resize(1280, 720);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    window.showPanel(QStringLiteral("data"));
    responses->replot();
    double highest = -1.0;
    double neuron = -1.0;
    const QCPGraph* highestGraph = nullptr;
    for (int i = 0; i < responses->plottableCount(); ++i) {
      const auto* graph = qobject_cast<const QCPGraph*>(responses->plottable(i));
      for (auto point = graph->data()->constBegin(); point != graph->data()->constEnd(); ++point)
        if (point->value > highest) {
          highest = point->value;
          neuron = point->key;
          highestGraph = graph;
        }
    }
    QVERIFY(highestGraph != nullptr && neuron != 3.0);
    const QPointF pixel = highestGraph->coordsToPixels(neuron, highest);
    QTest::mouseClick(responses, Qt::LeftButton, {}, pixel.toPoint());
    QTRY_COMPARE(spin->value(), qRound(neuron));
  }

  void cancellingAJobReportsCancelled() {
    bp::app::JobRunner jobs;
    QSignalSpy finished(&jobs, &bp::app::JobRunner::jobFinished);
    const int id = jobs.run<int>(
        QStringLiteral("endless"),
        [](const bp::Job& job) {
          for (;;) {
            job.throwIfCancelled();
            QThread::msleep(5);
          }
          return 0;
        },
        [](int&) { QFAIL("a cancelled job must not deliver a result"); });
    jobs.cancel(id);
    QVERIFY(finished.wait(30000));
    QCOMPARE(finished.first().at(2).toBool(), true);
    QVERIFY(finished.first().at(3).toString().isEmpty());
  }

  void aFirstStartWelcomesAndTheCardGoesOnceUsed() {
    auto window = std::make_unique<bp::app::MainWindow>(bp::app::EngineSettings{});
    window->show();
    bp::app::WelcomeCard* card = window->welcomeCard();
    QVERIFY(card && card->isVisible());  // each test process starts with fresh settings: a first start
    QPushButton* guide = nullptr;
    for (auto* button : card->findChildren<QPushButton*>())
      if (button->text() == QStringLiteral("User Guide")) guide = button;
    QVERIFY(guide);
    // Presentation mode hides it and brings it back.
    window->setPresentationMode(true);
    QVERIFY(!card->isVisible());
    window->setPresentationMode(false);
    QVERIFY(card->isVisible());
    guide->click();
    QVERIFY(window->findChild<QDialog*>(QStringLiteral("userGuide")));
    QVERIFY(!card->isVisible());
    // Dismissed for good: the next window has none.
    window.reset();
    bp::app::MainWindow next({});
    QVERIFY(next.welcomeCard() == nullptr);
  }

  void theHelpMenuOpensTheGuideAndListsEveryShortcut() {
    bp::app::MainWindow window({});
    window.show();
    QAction* guide = nullptr;
    QAction* keys = nullptr;
    for (QAction* action : window.menuBar()->findChildren<QAction*>()) {
      if (action->text() == QStringLiteral("&User Guide")) guide = action;
      if (action->text() == QStringLiteral("&Keyboard Shortcuts")) keys = action;
    }
    QVERIFY(guide && keys);
    QCOMPARE(guide->shortcut(), QKeySequence(QKeySequence::HelpContents));
    guide->trigger();
    auto* guideWindow = window.findChild<QDialog*>(QStringLiteral("userGuide"));
    QVERIFY(guideWindow);
    // The project's own guide, compiled in: its title and its first task.
    const QString text = guideWindow->findChild<QTextBrowser*>()->toPlainText();
    QVERIFY2(text.contains(QStringLiteral("BrainPrior user guide")), qPrintable(text.left(200)));
    QVERIFY(text.contains(QStringLiteral("Look at a recording")));

    keys->trigger();
    auto* table = window.findChild<QDialog*>(QStringLiteral("keyboardShortcuts"))->findChild<QTableWidget*>();
    QVERIFY(table);
    QStringList rows;
    for (int row = 0; row < table->rowCount(); ++row)
      rows << table->item(row, 0)->text() + QLatin1Char('=') + table->item(row, 1)->text();
    // Read from the menus: what the keys do now, including the tabs and the controls.
    for (const QString& expected : {QStringLiteral("View › Show Controls=Ctrl+B"), QStringLiteral("View › Similarity=Ctrl+2"),
                                    QStringLiteral("Demo › Run Demo=Ctrl+D"), QStringLiteral("View › Presentation Mode=F11")})
      QVERIFY2(rows.contains(expected), qPrintable(expected + QStringLiteral(" not in ") + rows.join(QStringLiteral("; "))));
  }

  void aFailingJobReportsItsReason() {
    bp::app::JobRunner jobs;
    QSignalSpy finished(&jobs, &bp::app::JobRunner::jobFinished);
    jobs.run<int>(
        QStringLiteral("broken"), [](const bp::Job&) -> int { throw std::runtime_error("disk on fire"); },
        [](int&) {});
    QVERIFY(finished.wait(30000));
    QCOMPARE(finished.first().at(3).toString(), QStringLiteral("disk on fire"));
  }

  void openingACorruptFileShowsAnErrorAndKeepsTheWindow() {
    bp::test::ScratchDir dir;
    const auto bad = dir / "broken.h5";
    bp::test::writeBytes(bad, std::string("\x89HDF\r\n\x1a\n", 8) + std::string(100, '\0'));
    bp::app::MainWindow window({});
    QSignalSpy finished(&window.jobs(), &bp::app::JobRunner::jobFinished);
    window.openPath(QString::fromStdString(bad.string()));
    QVERIFY(finished.wait(30000));
    QVERIFY(finished.first().at(3).toString().contains(QStringLiteral("broken.h5")));
    QTRY_VERIFY(window.findChild<QMessageBox*>(QStringLiteral("jobMessage")) != nullptr);
    QVERIFY(!window.workspace().neuralDataset());
  }

  void anNwbFileOpensThroughItsChoicesAndAProjectKeepsThem() {
    bp::test::ScratchDir dir;
    bp::test::NwbFixture fixture;
    fixture.fluorescenceToo = true;
    const auto file = dir / "session.nwb";
    fixture.write(file);
    const auto fluorescence = QString::fromStdString(fixture.fluorescencePath());

    bp::app::MainWindow window({});
    QSignalSpy changed(&window.workspace(), &bp::app::Workspace::neuralDataChanged);
    window.openPath(QString::fromStdString(file.string()));
    bp::app::NwbImportDialog* dialog = nullptr;
    QTRY_VERIFY_WITH_TIMEOUT((dialog = window.findChild<bp::app::NwbImportDialog*>()) != nullptr, 30000);
    QCOMPARE(dialog->roiSeriesChooser()->count(), 2);
    QCOMPARE(dialog->presentationsChooser()->count(), 2);  // the IndexSeries and the trials table
    dialog->roiSeriesChooser()->setCurrentIndex(dialog->roiSeriesChooser()->findData(fluorescence));
    dialog->windowLengthSpin()->setValue(0.25);
    dialog->accept();
    QVERIFY(changed.wait(60000));

    const auto view = window.workspace().neuralData();
    QCOMPARE(view->dataset->neuronCount, 3);
    QVERIFY(view->nwbReadOptions);
    QCOMPARE(QString::fromStdString(view->nwbReadOptions->roiSeries), fluorescence);
    QCOMPARE(view->nwbReadOptions->windowLength, 0.25);
    QCOMPARE(QString::fromStdString(view->summary.at("nwb_read_options").at("roi_series").get<std::string>()),
             fluorescence);

    // The project remembers how the file was read, and reopens it so without asking.
    const QString project = QString::fromStdString((dir / "nwb.brainprior").string());
    QSignalSpy saved(&window.project(), &bp::app::ProjectController::saved);
    window.project().saveAs(project);
    QVERIFY(saved.count() == 1 || saved.wait(30000));
    bp::app::MainWindow second({});
    QSignalSpy reopened(&second.workspace(), &bp::app::Workspace::neuralDataChanged);
    QVERIFY(second.project().open(project));
    QVERIFY(reopened.wait(60000));
    QVERIFY(second.findChild<bp::app::NwbImportDialog*>() == nullptr);
    QVERIFY(second.workspace().neuralData()->nwbReadOptions == view->nwbReadOptions);
    QVERIFY(second.workspace().neuralDataset()->responses == view->dataset->responses);
  }

  void aboutShowsEngineVersions() {
    bp::app::MainWindow window({});
    const auto html = bp::app::AboutDialog::aboutHtml();
    for (const char* name : {"Qt", "LibTorch", "OpenCV", "HDF5", "BLAS", "QCustomPlot"})
      QVERIFY2(html.contains(QLatin1String(name)), name);
  }
};

BRAINPRIOR_TEST_CLASS(MainWindowTest)
#include "test_main_window.moc"
