#include "app/application.h"

#include <QApplication>
#include <QComboBox>
#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>
#include <QIcon>
#include <QMessageBox>
#include <QMouseEvent>
#include <QSettings>
#include <QSpinBox>
#include <QStyleFactory>
#include <QTimer>
#include <cstdio>
#include <memory>

#include "app/comparison_panel.h"
#include "app/demo_panel.h"
#include "app/main_window.h"
#include "app/model_panel.h"
#include "app/probe_panel.h"
#include "app/project_controller.h"
#include "app/settings.h"
#include "app/similarity_panel.h"
#include "app/workspace.h"
#include "demo/demo_pipeline.h"
#include "runtime/atomic_file.h"
#include "runtime/runtime.h"
#include "widgets/heatmap_view.h"

// The icon is compiled into brainprior_app, a static library: nothing refers to its resource
// initializer, so the linker drops it unless it is called by name (and outside any namespace).
static void initApplicationResources() { Q_INIT_RESOURCE(resources); }

namespace bp::app {
namespace {

// Sends a mouse move onto the centre of cell (row, col) of a heatmap, as if the user hovered it.
// The cell's pixels are found through the view's own cellAt, so no plot internals are needed here.
void hoverCell(bp::widgets::HeatmapView* view, int row, int col) {
  QRect cell;
  for (int y = 0; y < view->height(); ++y)
    for (int x = 0; x < view->width(); ++x)
      if (view->cellAt(QPoint(x, y)) == std::make_pair(row, col)) cell |= QRect(x, y, 1, 1);
  QWidget* target = cell.isEmpty() ? nullptr : view->childAt(cell.center());
  if (!target) return;
  const QPointF local = target->mapFrom(view, cell.center());
  QMouseEvent move(QEvent::MouseMove, local, target->mapToGlobal(local), Qt::NoButton, Qt::NoButton, Qt::NoModifier);
  QApplication::sendEvent(target, &move);
}

// `--show similarity`: a first look without clicks (and the README screenshot). Once a neural
// dataset is loaded, A is the test tier averaged over repeats and B single trial 0 of the same
// images, both ordered by class, so A − B shows the trial noise; then A is compared with B, the noise ceiling computed,
// and one off-diagonal cell of A is hovered.
void fillSimilarityDemo(MainWindow& window) {
  auto* panel = window.similarityPanel();
  Workspace* workspace = &window.workspace();
  QObject::connect(
      workspace, &Workspace::neuralDataChanged, panel,
      [panel] {
        panel->tierBox()->setCurrentIndex(panel->tierBox()->findData(static_cast<int>(bp::Tier::Test)));
        panel->orderBox()->setCurrentIndex(1);
        panel->rowsBox()->setCurrentIndex(0);
        panel->computeInto(Workspace::A);
        panel->rowsBox()->setCurrentIndex(1);
        panel->singleTrialSpin()->setValue(0);
        panel->computeInto(Workspace::B);
      },
      Qt::SingleShotConnection);
  auto hoverOnce = std::make_shared<QMetaObject::Connection>();
  *hoverOnce = QObject::connect(workspace, &Workspace::similarityChanged, panel, [workspace, panel, hoverOnce] {
    if (!workspace->similarity(Workspace::A).matrix || !workspace->similarity(Workspace::B).matrix) return;
    QObject::disconnect(*hoverOnce);
    panel->compareAWithB();
    panel->computeNoiseCeiling();
    // Later, so that the heatmap has laid out its axes for the new matrix (a queued replot).
    QTimer::singleShot(100, panel, [panel] {
      auto* view = panel->heatmap(Workspace::A);
      hoverCell(view, view->rows() / 4, view->rows() * 2 / 3);
    });
  });
}

}  // namespace

int runApplication(int argc, char** argv) {
  QApplication application(argc, argv);
  QApplication::setOrganizationName(QStringLiteral("BrainPrior"));
  QApplication::setApplicationName(QStringLiteral("BrainPrior"));
  QApplication::setApplicationVersion(QStringLiteral(BRAINPRIOR_APP_VERSION));
  initApplicationResources();
  QApplication::setWindowIcon(QIcon(QStringLiteral(":/icons/brainprior.svg")));
  QApplication::setStyle(QStyleFactory::create(QStringLiteral("Fusion")));

  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral("Brain-regularized neural networks, explored"));
  parser.addHelpOption();
  parser.addVersionOption();
  parser.addPositionalArgument(QStringLiteral("path"),
                               QStringLiteral("Dataset or project (.brainprior) to open instead of the default data"));
  const QCommandLineOption threadsOption(QStringLiteral("threads"), QStringLiteral("CPU threads (0 = all cores)"),
                                         QStringLiteral("N"));
  const QCommandLineOption deviceOption(QStringLiteral("device"), QStringLiteral("auto, cpu or cuda"),
                                        QStringLiteral("DEVICE"));
  const QCommandLineOption screenshotOption(QStringLiteral("screenshot"),
                                            QStringLiteral("Save a screenshot once the data is loaded, then quit"),
                                            QStringLiteral("FILE"));
  const QCommandLineOption showOption(
      QStringLiteral("show"),
      QStringLiteral("Open on a panel: data, similarity, models, training, probe, comparison, images or demo. "
                     "'similarity' also computes A (test tier, repeat average) and B (single trial 0) once the "
                     "dataset is loaded; 'probe' with --probe shows the runs on a noisy, attacked test image"),
      QStringLiteral("PANEL"));
  const QCommandLineOption modelOption(QStringLiteral("model"),
                                       QStringLiteral("Open a fitted neural model once the dataset is loaded"),
                                       QStringLiteral("FILE"));
  const QCommandLineOption runsOption(QStringLiteral("runs"),
                                      QStringLiteral("Show the training runs in a folder (and launch new ones into it)"),
                                      QStringLiteral("FOLDER"));
  const QCommandLineOption probeOption(
      QStringLiteral("probe"),
      QStringLiteral("Load the finished runs in a folder, or a TorchScript model beside them, into the Probe panel "
                     "(repeatable)"),
      QStringLiteral("PATH"));
  const QCommandLineOption reportOption(
      QStringLiteral("report"),
      QStringLiteral("Show a probe or predictivity report.json in the Comparison panel (repeatable)"),
      QStringLiteral("FILE"));
  const QCommandLineOption demoOption(
      QStringLiteral("demo"),
      QStringLiteral("Run the demo at launch: the whole study on the embedded data, each step narrated in the "
                     "Demo tab"));
  const QCommandLineOption demoOutputOption(
      QStringLiteral("demo-output"),
      QStringLiteral("The demo's folder (empty or new; default: a new folder under the application data's demos/)"),
      QStringLiteral("DIR"));
  const QCommandLineOption demoConfigOption(
      QStringLiteral("demo-config"),
      QStringLiteral("The demo's settings as JSON, the keys of demo.json's \"config\" (fit_epochs, target_images, "
                     "train_images, test_images, epochs, alpha, seeds, probe_images, output_dir)"),
      QStringLiteral("FILE"));
  const QCommandLineOption replayDemoOption(
      QStringLiteral("replay-demo"),
      QStringLiteral("Replay the finished demo in a folder in the Demo tab, step by step at the presenter's pace "
                     "(Next or Page Down); nothing is computed"),
      QStringLiteral("DIR"));
  const QCommandLineOption presentationOption(
      QStringLiteral("presentation"),
      QStringLiteral("Start in presentation mode: full screen, larger fonts, high-contrast colormaps (F11 leaves it)"));
  parser.addOptions({threadsOption, deviceOption, screenshotOption, showOption, modelOption, runsOption, probeOption,
                     reportOption, demoOption, demoOutputOption, demoConfigOption, replayDemoOption,
                     presentationOption});
  parser.process(application);

  EngineSettings engine = loadEngineSettings();
  if (parser.isSet(threadsOption)) engine.threads = parser.value(threadsOption).toInt();
  if (parser.isSet(deviceOption)) engine.device = parser.value(deviceOption);

  const QString panel = parser.value(showOption);
  if (parser.isSet(showOption) &&
      !QStringList{QStringLiteral("data"), QStringLiteral("similarity"), QStringLiteral("models"),
                   QStringLiteral("training"), QStringLiteral("probe"), QStringLiteral("comparison"),
                   QStringLiteral("images"), QStringLiteral("demo")}
           .contains(panel)) {
    std::fprintf(stderr,
                 "brainprior: unknown panel '%s' for --show (data, similarity, models, training, probe, comparison, "
                 "images or demo)\n",
                 qPrintable(panel));
    return 2;
  }

  bp::DemoConfig demoConfig;
  try {
    if (parser.isSet(demoConfigOption))
      demoConfig = bp::demoConfigFromJson(
          nlohmann::json::parse(bp::readTextFile(parser.value(demoConfigOption).toStdString())));
    if (parser.isSet(demoOutputOption)) demoConfig.outputDir = parser.value(demoOutputOption).toStdString();
  } catch (const std::exception& error) {
    std::fprintf(stderr, "brainprior: --demo-config: %s\n", error.what());
    return 2;
  }

  MainWindow window(engine);
  window.show();
  window.demoPanel()->setConfig(demoConfig);
  if (parser.isSet(presentationOption)) window.setPresentationMode(true);
  if (panel == QLatin1String("similarity")) fillSimilarityDemo(window);
  if (parser.isSet(modelOption))
    QObject::connect(
        &window.workspace(), &Workspace::neuralDataChanged, window.modelPanel(),
        [&window, path = parser.value(modelOption)] { window.modelPanel()->openModel(path); }, Qt::SingleShotConnection);
  if (parser.isSet(runsOption)) {
    window.workspace().setRunsFolder(parser.value(runsOption));
    window.comparisonPanel()->setRunsFolder(parser.value(runsOption));
  }
  // `--show probe --probe FOLDER`: the runs' models on a noisy, attacked test image (docs/gui.md's screenshot).
  if (panel == QLatin1String("probe")) window.showNextProbeUnderAttack();
  if (parser.isSet(probeOption)) window.probePanel()->loadRuns(parser.values(probeOption));
  for (const QString& report : parser.values(reportOption)) window.comparisonPanel()->openReport(report);
  const auto positional = parser.positionalArguments();
  if (!positional.isEmpty() && positional.first().endsWith(QLatin1String(bp::kProjectExtension))) {
    window.openProject(positional.first());
  } else if (!positional.isEmpty()) {
    window.openPath(positional.first());
  } else if (!parser.isSet(demoOption) && !parser.isSet(replayDemoOption)) {
    // The demo's first step loads the default data itself, live or replayed.
    window.loadDefaultData();
  }
  // An untitled window that did not close normally left its autosave: offer it back (not while
  // taking a screenshot or running the demo, which must not wait for an answer).
  const QStringList orphaned = ProjectController::orphanedAutosaves();
  if (!orphaned.isEmpty() && !parser.isSet(screenshotOption) && !parser.isSet(demoOption) &&
      !parser.isSet(replayDemoOption)) {
    auto* box = new QMessageBox(QMessageBox::Question, QObject::tr("Recover unsaved work?"),
                                QObject::tr("BrainPrior did not close normally and kept an autosave of an untitled "
                                            "project (%1). Open it in a new window?")
                                    .arg(QFileInfo(orphaned.first()).lastModified().toString(Qt::TextDate)),
                                QMessageBox::Open | QMessageBox::Discard | QMessageBox::Ignore, &window);
    box->setAttribute(Qt::WA_DeleteOnClose);
    QObject::connect(box, &QMessageBox::finished, &window, [&window, box, file = orphaned.first()] {
      const auto answer = box->standardButton(box->clickedButton());
      if (answer == QMessageBox::Open) {
        window.openProject(file, MainWindow::RecoverUntitled);
      } else if (answer == QMessageBox::Discard) {
        QFile::remove(file);
        QDir(QString::fromStdString(bp::projectFilesFolder(file.toStdString()).string())).removeRecursively();
      }
    });
    box->open();
  }
  if (parser.isSet(demoOption)) window.runDemo();
  if (parser.isSet(replayDemoOption)) window.replayDemo(parser.value(replayDemoOption));
  // After the load, which brings its own panel to the front.
  if (parser.isSet(showOption)) window.showPanel(panel);
  if (parser.isSet(screenshotOption)) window.saveScreenshotWhenIdle(parser.value(screenshotOption));
  return QApplication::exec();
}

}  // namespace bp::app
