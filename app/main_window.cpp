#include "app/main_window.h"

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QCloseEvent>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QInputDialog>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
#include <QScreen>
#include <QScrollArea>
#include <QStatusBar>
#include <QTabWidget>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>
#include <algorithm>

#include "app/about_dialog.h"
#include "app/comparison_panel.h"
#include "app/controls_column.h"
#include "app/data_panel.h"
#include "app/demo_panel.h"
#include "app/help_dialogs.h"
#include "app/image_panel.h"
#include "app/log_panel.h"
#include "app/nwb_import_dialog.h"
#include "app/model_panel.h"
#include "app/probe_panel.h"
#include "app/project_controller.h"
#include "app/report_pdf.h"
#include "project/project_report.h"
#include "app/similarity_panel.h"
#include "app/training_launch_form.h"
#include "app/training_panel.h"
#include "app/training_queue.h"
#include "app/welcome_card.h"
#include "app/wheel_guard.h"
#include "app/workspace.h"
#include "data/dataset_io.h"
#include "data/default_data.h"
#include "data/static_hdf5.h"
#include "runtime/error.h"
#include "runtime/log.h"
#include "runtime/runtime.h"
#include "widgets/heatmap_view.h"
#include "widgets/plot_style.h"

namespace bp::app {
namespace {

// Non-blocking: a failed job must not stall a live demo or an offscreen test behind a modal loop.
void showMessage(QWidget* parent, QMessageBox::Icon icon, const QString& title, const QString& text) {
  auto* box = new QMessageBox(icon, title, text, QMessageBox::Ok, parent);
  box->setAttribute(Qt::WA_DeleteOnClose);
  box->setObjectName(QStringLiteral("jobMessage"));
  box->open();
}

// Holds a panel in its tab's scroll area. A panel with wrapping text asks for the height it would
// like at a width (height for width), which the scroll area would grant by scrolling; this layout
// asks only for the panel's minimum, so a page scrolls only when the panel cannot fit at all.
class MinimumHeightLayout : public QVBoxLayout {
public:
  using QVBoxLayout::QVBoxLayout;
  bool hasHeightForWidth() const override { return false; }
};

}  // namespace

double presentationFontScale(int screenHeight) {
  constexpr double kScaleAt1080 = 1.5;
  return std::clamp(kScaleAt1080 * screenHeight / 1080.0, 1.0, kScaleAt1080);
}

MainWindow::MainWindow(const EngineSettings& engine, QWidget* parent) : QMainWindow(parent), engine_(engine) {
  setWindowTitle(QStringLiteral("BrainPrior"));
  setAcceptDrops(true);
  installWheelGuard(*QCoreApplication::instance());
  resize(1440, 900);  // roomy; showEvent fits it to its screen

  logPanel_ = new LogPanel(this);
  logDock_ = new QDockWidget(tr("Log"), this);
  logDock_->setObjectName(QStringLiteral("logDock"));
  logDock_->setWidget(logPanel_);
  addDockWidget(Qt::BottomDockWidgetArea, logDock_);
  resizeDocks({logDock_}, {110}, Qt::Vertical);

  tabs_ = new QTabWidget(this);
  tabs_->setDocumentMode(true);
  // A closed tab only hides its panel (View menu brings it back): work running in it goes on.
  tabs_->setTabsClosable(true);
  workspace_ = new Workspace(this);
  dataPanel_ = new DataPanel(*workspace_, this);
  imagePanel_ = new ImagePanel(*workspace_, this);
  similarityPanel_ = new SimilarityPanel(*workspace_, jobs_, this);
  modelPanel_ = new ModelPanel(*workspace_, jobs_, this);
  trainingQueue_ = new TrainingQueue(jobs_, this);
  trainingPanel_ = new TrainingPanel(*workspace_, *trainingQueue_, this);
  probePanel_ = new ProbePanel(*workspace_, jobs_, this);
  comparisonPanel_ = new ComparisonPanel(*workspace_, jobs_, this);
  demoPanel_ = new DemoPanel(jobs_, this);
  panels_ = {{QStringLiteral("data"), tr("Neural data"), dataPanel_},
             {QStringLiteral("similarity"), tr("Similarity"), similarityPanel_},
             {QStringLiteral("models"), tr("Models"), modelPanel_},
             {QStringLiteral("training"), tr("Training"), trainingPanel_},
             {QStringLiteral("probe"), tr("Probe"), probePanel_},
             {QStringLiteral("comparison"), tr("Comparison"), comparisonPanel_},
             {QStringLiteral("images"), tr("Images"), imagePanel_},
             {QStringLiteral("demo"), tr("Demo"), demoPanel_}};
  for (Panel& panel : panels_) {
    auto* page = new QScrollArea(tabs_);
    auto* holder = new QWidget(page);
    auto* layout = new MinimumHeightLayout(holder);
    layout->setContentsMargins(0, 0, 0, 0);
    // The first start's welcome, above the default data it introduces (on the first tab only, so
    // that it takes no room from the others).
    if (panel.widget == dataPanel_ && !welcomeDismissed()) {
      welcome_ = new WelcomeCard(holder);
      connect(welcome_, &WelcomeCard::demoRequested, this, &MainWindow::runDemo);
      connect(welcome_, &WelcomeCard::openRequested, this, &MainWindow::chooseDatasetToOpen);
      connect(welcome_, &WelcomeCard::guideRequested, this, [this] { showUserGuide(this); });
      layout->addWidget(welcome_);
    }
    layout->addWidget(panel.widget);
    page->setWidget(holder);
    page->setWidgetResizable(true);
    page->setFrameShape(QFrame::NoFrame);
    panel.page = page;
    tabs_->addTab(page, panel.title);
  }
  connect(tabs_, &QTabWidget::tabCloseRequested, this, [this](int index) { tabs_->removeTab(index); });
  connect(trainingPanel_->launchForm(), &TrainingLaunchForm::deviceRequested, this, &MainWindow::setComputeDevice);
  connectDemo();
  setCentralWidget(tabs_);

  statusText_ = new QLabel(tr("Ready"), this);
  progress_ = new QProgressBar(this);
  progress_->setRange(0, 1000);
  progress_->setMaximumWidth(240);
  progress_->setTextVisible(false);
  progress_->hide();
  cancelButton_ = new QToolButton(this);
  cancelButton_->setText(tr("Cancel"));
  cancelButton_->setToolTip(tr("Stop the running job"));
  cancelButton_->hide();
  deviceLabel_ = new QLabel(this);
  statusBar()->addWidget(statusText_, 1);
  statusBar()->addPermanentWidget(progress_);
  statusBar()->addPermanentWidget(cancelButton_);
  statusBar()->addPermanentWidget(deviceLabel_);
  connect(cancelButton_, &QToolButton::clicked, this, [this] { jobs_.cancel(shownJob_); });
  connect(&jobs_, &JobRunner::jobStarted, this, &MainWindow::onJobStarted);
  connect(&jobs_, &JobRunner::jobProgress, this, &MainWindow::onJobProgress);
  connect(&jobs_, &JobRunner::jobFinished, this, &MainWindow::onJobFinished);
  connect(logPanel_, &LogPanel::problemLogged, this, [this](const QString& message) {
    statusBar()->showMessage(message, 8000);
  });

  project_ = new ProjectController(*this);
  connect(project_, &ProjectController::failed, this, [this](const QString& message) {
    showMessage(this, QMessageBox::Warning, tr("Project"), message);
  });
  connect(project_, &ProjectController::saved, this, [this] { QTimer::singleShot(0, this, &MainWindow::rebuildRecentProjectsMenu); });
  createActions();
  applyEngineSettings();
}

MainWindow::~MainWindow() {
  jobs_.cancelAll();
  jobs_.waitForAll();
}

void MainWindow::createActions() {
  auto* fileMenu = menuBar()->addMenu(tr("&File"));
  fileMenu->addAction(tr("&New Window"), this, [this] {
    auto* window = new MainWindow(engine_);
    window->setAttribute(Qt::WA_DeleteOnClose);
    window->show();
  })->setShortcut(QKeySequence::New);
  fileMenu->addAction(tr("Open &Project…"), this, &MainWindow::chooseProjectToOpen)
      ->setShortcut(QKeySequence(tr("Ctrl+Shift+O")));
  recentProjectsMenu_ = fileMenu->addMenu(tr("Recent Pro&jects"));
  rebuildRecentProjectsMenu();
  fileMenu->addAction(tr("&Save Project"), this, &MainWindow::saveProject)->setShortcut(QKeySequence::Save);
  fileMenu->addAction(tr("Save Project &As…"), this, &MainWindow::chooseWhereToSaveProject)
      ->setShortcut(QKeySequence::SaveAs);
  fileMenu->addAction(tr("&Export Report…"), this, &MainWindow::chooseWhereToExportReport)
      ->setToolTip(tr("An HTML or PDF report of what this window holds: data, matrices, models, runs, probes, "
                      "with configs, seeds, versions and device"));
  fileMenu->addSeparator();
  auto* open = fileMenu->addAction(tr("&Open Dataset…"), this, &MainWindow::chooseDatasetToOpen);
  open->setShortcut(QKeySequence::Open);
  open->setToolTip(tr("Open a neural recording (file tree folder or static HDF5) or labelled images "
                      "(IDX, CIFAR binary, class folders)"));
  fileMenu->addAction(tr("Open Dataset &Folder…"), this, [this] {
    const auto folder = QFileDialog::getExistingDirectory(this, tr("Open dataset folder"));
    if (!folder.isEmpty()) openPath(folder);
  });
  recentMenu_ = fileMenu->addMenu(tr("Open &Recent"));
  rebuildRecentMenu();
  fileMenu->addAction(tr("Load &Default Data"), this, &MainWindow::loadDefaultData)
      ->setToolTip(tr("Synthetic V1 population driven by Fashion-MNIST"));
  fileMenu->addSeparator();
  fileMenu->addAction(tr("Save &Neural Dataset As…"), this, &MainWindow::saveDatasetAs);
  fileMenu->addSeparator();
  auto* quit = fileMenu->addAction(tr("&Quit"), this, &QWidget::close);
  quit->setShortcut(QKeySequence::Quit);

  auto* engineMenu = menuBar()->addMenu(tr("&Engine"));
  auto* deviceMenu = engineMenu->addMenu(tr("Compute &Device"));
  deviceGroup_ = new QActionGroup(this);
  auto* deviceGroup = deviceGroup_;
  for (const auto& [name, label] : {std::pair{QStringLiteral("auto"), tr("Automatic (CUDA when available)")},
                                    std::pair{QStringLiteral("cpu"), tr("CPU")},
                                    std::pair{QStringLiteral("cuda"), tr("CUDA GPU")}}) {
    auto* action = deviceMenu->addAction(label);
    action->setCheckable(true);
    action->setChecked(engine_.device == name);
    deviceGroup->addAction(action);
    action->setData(name);
    connect(action, &QAction::triggered, this, [this, name = name] { setComputeDevice(name); });
  }
  engineMenu->addAction(tr("CPU &Threads…"), this, [this] {
    bool ok = false;
    const int threads = QInputDialog::getInt(this, tr("CPU threads"), tr("Threads for tensor work (0 = all cores):"),
                                             engine_.threads, 0, 256, 1, &ok);
    if (!ok) return;
    engine_.threads = threads;
    saveEngineSettings(engine_);
    applyEngineSettings();
  });

  auto* viewMenu = menuBar()->addMenu(tr("&View"));
  viewMenu->setObjectName(QStringLiteral("viewMenu"));
  for (std::size_t i = 0; i < panels_.size(); ++i) {
    auto* action = viewMenu->addAction(panels_[i].title, this, [this, widget = panels_[i].widget] { raisePanel(widget); });
    action->setShortcut(QKeySequence(Qt::CTRL | static_cast<Qt::Key>(Qt::Key_1 + i)));
  }
  viewMenu->addSeparator();
  controlsAction_ = viewMenu->addAction(tr("Show &Controls"));
  controlsAction_->setCheckable(true);
  controlsAction_->setChecked(true);
  controlsAction_->setShortcut(Qt::CTRL | Qt::Key_B);
  controlsAction_->setToolTip(tr("Every tab's forms; hidden, the figures take the room"));
  connect(controlsAction_, &QAction::toggled, this, &MainWindow::setControlsVisible);
  QAction* logAction = logDock_->toggleViewAction();
  logAction->setShortcut(Qt::CTRL | Qt::Key_L);
  viewMenu->addAction(logAction);
  presentationAction_ = viewMenu->addAction(tr("&Presentation Mode"));
  presentationAction_->setCheckable(true);
  presentationAction_->setShortcut(Qt::Key_F11);
  presentationAction_->setToolTip(tr("Full screen, larger fonts and high-contrast colormaps, for a projector"));
  connect(presentationAction_, &QAction::toggled, this, &MainWindow::setPresentationMode);
  viewMenu->addSeparator();

  auto* demoMenu = menuBar()->addMenu(tr("&Demo"));
  auto* runDemoAction = demoMenu->addAction(tr("Run &Demo"), this, &MainWindow::runDemo);
  runDemoAction->setShortcut(Qt::CTRL | Qt::Key_D);
  runDemoAction->setToolTip(tr("The whole study on the embedded data in a few minutes, each step narrated"));
  auto* stopDemoAction = demoMenu->addAction(tr("&Stop and Show Results So Far"), demoPanel_,
                                             &DemoPanel::stopAndShowResults);
  stopDemoAction->setEnabled(false);
  auto* replayDemoAction = demoMenu->addAction(tr("&Replay a Finished Demo…"), this, [this] {
    showDemoTab();
    demoPanel_->chooseFolderToReplay();
  });
  replayDemoAction->setToolTip(tr("Tell a finished demo again, step by step at your pace (Page Down): nothing is "
                                  "computed"));
  connect(demoPanel_, &DemoPanel::started, stopDemoAction, [stopDemoAction] { stopDemoAction->setEnabled(true); });
  connect(demoPanel_, &DemoPanel::ended, stopDemoAction, [stopDemoAction] { stopDemoAction->setEnabled(false); });

  auto* helpMenu = menuBar()->addMenu(tr("&Help"));
  helpMenu->addAction(tr("&User Guide"), this, [this] { showUserGuide(this); })->setShortcut(QKeySequence::HelpContents);
  helpMenu->addAction(tr("&Keyboard Shortcuts"), this, [this] { showKeyboardShortcuts(*this); });
  helpMenu->addAction(tr("&About BrainPrior"), this, &MainWindow::showAbout);
}

void MainWindow::applyEngineSettings() {
  bp::RuntimeConfig config;
  config.threads = engine_.threads;
  config.device = engine_.device.toStdString();
  try {
    const auto info = bp::initializeRuntime(config);
    deviceLabel_->setText(QStringLiteral("%1 · %2 threads · %3")
                              .arg(QString::fromStdString(info.device).toUpper())
                              .arg(info.threads)
                              .arg(QString::fromStdString(info.blas.name)));
    deviceLabel_->setStyleSheet(info.blas.isReference ? QStringLiteral("color:#c00000;font-weight:bold")
                                                      : QString());
    if (deviceGroup_)
      for (QAction* action : deviceGroup_->actions()) action->setChecked(action->data().toString() == engine_.device);
    trainingPanel_->launchForm()->setEngineDevice(engine_.device);
    for (const auto& warning : info.warnings)
      showMessage(this, QMessageBox::Warning, tr("Engine"), QString::fromStdString(warning));
  } catch (const std::exception& e) {
    showMessage(this, QMessageBox::Critical, tr("Engine"), QString::fromStdString(e.what()));
  }
}

void MainWindow::chooseDatasetToOpen() {
  const auto path = QFileDialog::getOpenFileName(
      this, tr("Open dataset"), QString(),
      tr("Datasets (*.h5 *.hdf5 *.nwb *.zip *.gz *idx3-ubyte *.bin config.json);;All files (*)"));
  if (path.isEmpty()) return;
  // A file tree is chosen through its config.json; open the folder that holds it.
  openPath(QFileInfo(path).fileName() == QStringLiteral("config.json") ? QFileInfo(path).absolutePath() : path);
}

void MainWindow::openPath(const QString& path) {
  const auto format = bp::detectDatasetFormat(path.toStdString());
  if (!format) {
    showMessage(this, QMessageBox::Warning, tr("Open dataset"),
                tr("%1 is not a dataset BrainPrior recognises.\n\nExpected a neuralpredictors file tree or "
                            "static HDF5 file, an NWB 2 file with ROI traces, MNIST/Fashion-MNIST IDX files, CIFAR binary batches, or a folder with "
                            "one subfolder of images per class.")
                             .arg(path));
    return;
  }
  addRecentFile(path);
  // Deferred: this may run from an action of the recent menu, which a rebuild deletes.
  QTimer::singleShot(0, this, &MainWindow::rebuildRecentMenu);
  if (*format == bp::DatasetFormat::NeuralNwb) {
    // What the file offers is read in a worker (a large file's structure takes a moment), then asked.
    jobs_.run<bp::NwbContents>(
        tr("Reading the contents of %1").arg(QFileInfo(path).fileName()),
        [file = path.toStdString()](const bp::Job& job) { return bp::listNwbContents(file, job); },
        [this, path](bp::NwbContents& contents) {
          // The file open now starts the dialog where it was read from.
          const auto open = workspace_->neuralData();
          const bool same = open && open->nwbReadOptions && open->dataset->sourcePath == path.toStdString();
          auto* dialog = new NwbImportDialog(QFileInfo(path).fileName(), contents,
                                             same ? *open->nwbReadOptions : bp::NwbReadOptions(), this);
          dialog->setAttribute(Qt::WA_DeleteOnClose);
          connect(dialog, &QDialog::accepted, this, [this, path, dialog] { openNwb(path, dialog->options()); });
          dialog->open();
        });
  } else if (bp::isNeuralFormat(*format)) {
    loadNeuralData(tr("Loading %1").arg(QFileInfo(path).fileName()),
                   [path](const bp::Job& job) { return bp::loadNeuralDataset(path.toStdString(), job); });
    raisePanel(dataPanel_);
  } else {
    imagePanel_->loadFrom(jobs_, path);
    raisePanel(imagePanel_);
  }
}

void MainWindow::openNwb(const QString& path, const bp::NwbReadOptions& options) {
  loadNeuralData(
      tr("Loading %1").arg(QFileInfo(path).fileName()),
      [file = path.toStdString(), options](const bp::Job& job) { return bp::readNwb(file, options, job); },
      DataOrigin::Opened, options);
  raisePanel(dataPanel_);
}

void MainWindow::loadDefaultData() {
  generateDefaultData();
  raisePanel(dataPanel_);
}

void MainWindow::generateDefaultData() {
  loadNeuralData(tr("Generating the default synthetic V1 population"),
                 [](const bp::Job& job) { return bp::generateDefaultDataset({}, job).dataset; },
                 DataOrigin::Regenerated);
}

void MainWindow::loadNeuralData(const QString& title, std::function<bp::NeuralDataset(const bp::Job&)> loader,
                                DataOrigin origin, std::optional<bp::NwbReadOptions> nwb) {
  jobs_.run<NeuralDatasetView>(
      title,
      [loader = std::move(loader), nwb](const bp::Job& job) {
        auto view = prepareNeuralDatasetView(loader(job.subJob(0.0, 0.7)), job.subJob(0.7, 1.0));
        view.nwbReadOptions = nwb;
        if (nwb) view.summary["nwb_read_options"] = bp::toJson(*nwb);
        return view;
      },
      [this, origin](NeuralDatasetView& view) {
        // Checked before the panels react to the data: their reactions are part of the opening state.
        const bool untouched = origin == DataOrigin::Regenerated && project_->isEmpty();
        workspace_->setNeuralData(std::move(view));
        if (untouched) project_->markUnmodified();
      });
}

void MainWindow::connectDemo() {
  // The panels fill in the background: the Demo tab stays in front, telling the story, until the
  // presenter asks for a step's results.
  connect(demoPanel_, &DemoPanel::neuronsRecorded, this, &MainWindow::generateDefaultData);
  connect(demoPanel_, &DemoPanel::modelSaved, this, [this](const QString& file) {
    // Opened with the neurons it models, so that the Models panel shows its evaluation too.
    if (workspace_->neuralDataset()) {
      modelPanel_->openModel(file);
      return;
    }
    connect(
        workspace_, &Workspace::neuralDataChanged, modelPanel_, [this, file] { modelPanel_->openModel(file); },
        Qt::SingleShotConnection);
  });
  connect(demoPanel_, &DemoPanel::targetSaved, this,
          [this](const QString& file) { similarityPanel_->openMatrixFile(Workspace::A, file); });
  connect(demoPanel_, &DemoPanel::classifiersTrained, this, [this](const QString& runsFolder) {
    workspace_->setRunsFolder(runsFolder);
    comparisonPanel_->setRunsFolder(runsFolder);
  });
  connect(demoPanel_, &DemoPanel::probeSaved, this, [this](const QString& reportFile, const QString& runsFolder) {
    comparisonPanel_->openReport(reportFile);
    showNextProbeUnderAttack();
    probePanel_->loadRuns({runsFolder});
  });
  connect(demoPanel_, &DemoPanel::resultsRequested, this, [this](DemoPanel::Step step) {
    static const char* const kResultPanels[DemoPanel::StepCount] = {"data", "models", "similarity", "training",
                                                                     "comparison"};
    if (step >= 0 && step < DemoPanel::StepCount) showPanel(QString::fromLatin1(kResultPanels[step]));
  });
}

void MainWindow::showDemoTab() {
  if (welcome_ != nullptr) welcome_->hide();  // a demo is under way: the card has done its job
  raisePanel(demoPanel_);
}

void MainWindow::runDemo() {
  showDemoTab();
  if (!demoPanel_->isRunning()) demoPanel_->start();
}

void MainWindow::replayDemo(const QString& folder) {
  showDemoTab();
  demoPanel_->replay(folder);
}

void MainWindow::showNextProbeUnderAttack() {
  QObject::connect(
      probePanel_, &ProbePanel::modelsLoaded, probePanel_,
      [panel = probePanel_] {
        panel->setCorruption(QStringLiteral("gaussian_noise"), 0.1);
        panel->setAttack(ProbeAttack::PgdLinf, 2.0 / 255.0, 0);
        panel->setAttackEnabled(true);
      },
      Qt::SingleShotConnection);
}

void MainWindow::setPresentationMode(bool on) {
  if (on == presentationMode()) return;
  if (on) {
    const QScreen* shownOn = screen() != nullptr ? screen() : QGuiApplication::primaryScreen();
    presentation_ = PresentationRestore{QApplication::font(),      presentationFontScale(shownOn->size().height()),
                                        windowState(),             saveGeometry(),
                                        controlsVisible(),         logDock_->isVisible(),
                                        welcome_ != nullptr && welcome_->isVisible()};
    QFont large = presentation_->font;
    if (large.pointSizeF() > 0) {
      large.setPointSizeF(large.pointSizeF() * presentation_->fontScale);
    } else {
      large.setPixelSize(qRound(large.pixelSize() * presentation_->fontScale));
    }
    QApplication::setFont(large);
    bp::widgets::scalePlotFonts(this, presentation_->fontScale);
    setControlsVisible(false);
    logDock_->hide();
    if (welcome_ != nullptr) welcome_->hide();
    // Without a window manager (a kiosk, a bare X server) full screen is only a request: cover the
    // screen ourselves first (after it, a new geometry would leave full screen).
    setGeometry(shownOn->geometry());
    setWindowState(windowState() | Qt::WindowFullScreen);
  } else {
    QApplication::setFont(presentation_->font);
    bp::widgets::scalePlotFonts(this, 1.0 / presentation_->fontScale);
    setControlsVisible(presentation_->controlsVisible);
    logDock_->setVisible(presentation_->logVisible);
    if (welcome_ != nullptr) welcome_->setVisible(presentation_->welcomeVisible);
    setWindowState(presentation_->windowState);
    restoreGeometry(presentation_->geometry);
    presentation_.reset();
  }
  for (auto* heatmap : findChildren<bp::widgets::HeatmapView*>()) heatmap->setHighContrast(on);
  // Also when called from code: the menu shows the mode (its toggled signal returns here and stops).
  presentationAction_->setChecked(on);
}

void MainWindow::setControlsVisible(bool visible) {
  for (QWidget* child : findChildren<QWidget*>())
    if (isControls(child)) child->setVisible(visible);
  controlsAction_->setChecked(visible);
}

bool MainWindow::controlsVisible() const { return controlsAction_->isChecked(); }

const MainWindow::Panel* MainWindow::panelOf(const QWidget* widgetOrPage) const {
  for (const Panel& panel : panels_)
    if (panel.widget == widgetOrPage || panel.page == widgetOrPage) return &panel;
  return nullptr;
}

QWidget* MainWindow::currentPanel() const {
  const Panel* panel = panelOf(tabs_->currentWidget());
  return panel != nullptr ? panel->widget : nullptr;
}

const MainWindow::Panel* MainWindow::panelNamed(const QString& name) const {
  for (const Panel& panel : panels_)
    if (panel.name == name) return &panel;
  return nullptr;
}

bool MainWindow::closePanel(const QString& name) {
  const Panel* panel = panelNamed(name);
  if (panel == nullptr) return false;
  const int index = tabs_->indexOf(panel->page);
  if (index >= 0) tabs_->removeTab(index);
  return true;
}

void MainWindow::showEvent(QShowEvent* event) {
  QMainWindow::showEvent(event);
  if (fittedToScreen_) return;
  fittedToScreen_ = true;
  const QSize fitted = size().boundedTo(screen()->availableGeometry().size());
  if (!windowState().testFlag(Qt::WindowFullScreen) && !fitted.isEmpty() && fitted != size()) resize(fitted);
}

bool MainWindow::showPanel(const QString& name) {
  const Panel* panel = panelNamed(name);
  if (panel == nullptr) return false;
  raisePanel(panel->widget);
  return true;
}

void MainWindow::raisePanel(QWidget* widget) {
  QWidget* page = panelOf(widget)->page;
  if (tabs_->indexOf(page) < 0) {
    // Back in its place: after the open tabs that come before it in panels_.
    int position = 0;
    for (const Panel& panel : panels_) {
      if (panel.page == page) {
        tabs_->insertTab(position, page, panel.title);
        break;
      }
      if (tabs_->indexOf(panel.page) >= 0) ++position;
    }
  }
  tabs_->setCurrentWidget(page);
}

void MainWindow::setComputeDevice(const QString& device) {
  engine_.device = device;
  saveEngineSettings(engine_);
  applyEngineSettings();
}

void MainWindow::saveDatasetAs() {
  const auto dataset = workspace_->neuralDataset();
  if (!dataset) {
    showMessage(this, QMessageBox::Information, tr("Save dataset"), tr("Open or generate a neural dataset first."));
    return;
  }
  auto path = QFileDialog::getSaveFileName(this, tr("Save neural dataset"), QString::fromStdString(dataset->name) + ".h5",
                                           tr("Static HDF5 (*.h5)"));
  if (path.isEmpty()) return;
  if (!path.endsWith(QStringLiteral(".h5")) && !path.endsWith(QStringLiteral(".hdf5"))) path += QStringLiteral(".h5");
  jobs_.run<bool>(
      tr("Saving %1").arg(QFileInfo(path).fileName()),
      [dataset, path](const bp::Job& job) {
        bp::writeStaticHdf5(*dataset, path.toStdString(), job);
        return true;
      },
      [path](bool&) { bp::logInfo("Saved " + path.toStdString()); });
}

MainWindow* MainWindow::openProject(const QString& file, ProjectSource source) {
  MainWindow* window = this;
  if (!project_->isEmpty()) {
    window = new MainWindow(engine_);
    window->setAttribute(Qt::WA_DeleteOnClose);
    window->show();
  }
  if (!(source == RecoverUntitled ? window->project().recoverUntitled(file) : window->project().open(file))) {
    if (window != this) window->close();
    return nullptr;
  }
  QTimer::singleShot(0, this, &MainWindow::rebuildRecentProjectsMenu);
  return window;
}

void MainWindow::chooseProjectToOpen() {
  const QString file = QFileDialog::getOpenFileName(this, tr("Open project"), QString(),
                                                    tr("BrainPrior projects (*.brainprior);;All files (*)"));
  if (!file.isEmpty()) openProject(file);
}

bool MainWindow::saveProject() {
  if (project_->file().isEmpty()) return chooseWhereToSaveProject();
  project_->saveAs(project_->file());
  return true;
}

bool MainWindow::chooseWhereToSaveProject() {
  const QString file = QFileDialog::getSaveFileName(this, tr("Save project"),
                                                    project_->file().isEmpty() ? tr("untitled.brainprior") : project_->file(),
                                                    tr("BrainPrior projects (*.brainprior)"));
  if (file.isEmpty()) return false;
  project_->saveAs(file);
  return true;
}

void MainWindow::chooseWhereToExportReport() {
  const QString suggested = project_->file().isEmpty() ? tr("report.html")
                                                       : QFileInfo(project_->file()).completeBaseName() + QStringLiteral(".html");
  const QString path = QFileDialog::getSaveFileName(this, tr("Export report"), suggested, tr("HTML (*.html);;PDF (*.pdf)"));
  if (!path.isEmpty()) exportReport(path);
}

void MainWindow::exportReport(const QString& path) {
  const QString file = project_->file().isEmpty() ? tr("untitled.brainprior") : project_->file();
  const bp::ReportInputs inputs = bp::reportInputsFromProject(project_->capture(), file.toStdString());
  const bool pdf = path.endsWith(QLatin1String(".pdf"), Qt::CaseInsensitive);
  jobs_.run<std::shared_ptr<bp::Report>>(
      tr("Building the report %1").arg(QFileInfo(path).fileName()),
      [inputs, path, pdf](const bp::Job& job) {
        auto report = std::make_shared<bp::Report>(bp::buildReport(inputs, job));
        if (!pdf) bp::writeReportHtml(*report, path.toStdString());
        return report;
      },
      [this, path, pdf](std::shared_ptr<bp::Report>& report) {
        QString error;
        if (pdf && !writeReportPdf(*report, path, &error)) throw bp::Error(error.toStdString());
        bp::logInfo("Saved report " + path.toStdString());
        Q_EMIT reportExported(path);
      });
}

void MainWindow::rebuildRecentProjectsMenu() {
  recentProjectsMenu_->clear();
  const auto files = recentProjects();
  for (const auto& file : files) recentProjectsMenu_->addAction(file, this, [this, file] { openProject(file); });
  recentProjectsMenu_->setEnabled(!files.isEmpty());
}

QStringList MainWindow::openPanelNames() const {
  QStringList names;
  for (const Panel& panel : panels_)
    if (tabs_->indexOf(panel.page) >= 0) names << panel.name;
  return names;
}

QString MainWindow::currentPanelName() const {
  const Panel* panel = panelOf(tabs_->currentWidget());
  return panel != nullptr ? panel->name : QString();
}

void MainWindow::setOpenPanels(const QStringList& names) {
  QWidget* current = tabs_->currentWidget();
  for (const Panel& panel : panels_) {
    const int index = tabs_->indexOf(panel.page);
    if (names.contains(panel.name) && index < 0) raisePanel(panel.widget);
    if (!names.contains(panel.name) && index >= 0) tabs_->removeTab(index);
  }
  if (tabs_->indexOf(current) >= 0) tabs_->setCurrentWidget(current);
}

void MainWindow::showAbout() { AboutDialog(this).exec(); }

void MainWindow::rebuildRecentMenu() {
  recentMenu_->clear();
  const auto files = recentFiles();
  for (const auto& file : files) recentMenu_->addAction(file, this, [this, file] { openPath(file); });
  recentMenu_->setEnabled(!files.isEmpty());
}

void MainWindow::onJobStarted(int jobId, const QString& title) {
  shownJob_ = jobId;
  statusText_->setText(title + QStringLiteral("…"));
  progress_->setValue(0);
  progress_->show();
  cancelButton_->show();
  bp::logInfo(title.toStdString());
}

void MainWindow::onJobProgress(int jobId, double fraction, const QString& message) {
  if (jobId != shownJob_) return;
  progress_->setValue(static_cast<int>(fraction * 1000));
  if (!message.isEmpty()) statusText_->setText(message);
}

void MainWindow::onJobFinished(int /*jobId*/, const QString& title, bool cancelled, const QString& error) {
  if (cancelled) {
    bp::logWarning((title + QStringLiteral(": cancelled")).toStdString());
  } else if (!error.isEmpty()) {
    bp::log(bp::LogLevel::Error, (title + QStringLiteral(" failed: ") + error).toStdString());
    showMessage(this, QMessageBox::Critical, title, tr("%1 failed:\n\n%2").arg(title, error));
  }
  // Once nothing runs, whichever job ended last: jobs need not end in the order they started.
  if (jobs_.activeJobCount() == 0) {
    progress_->hide();
    cancelButton_->hide();
    statusText_->setText(cancelled ? tr("Cancelled") : error.isEmpty() ? tr("Ready") : tr("Failed"));
  }
}

void MainWindow::saveScreenshotWhenIdle(const QString& path, bool quitAfter) {
  auto* timer = new QTimer(this);
  timer->setInterval(250);
  connect(timer, &QTimer::timeout, this, [this, timer, path, quitAfter] {
    if (jobs_.activeJobCount() > 0 || probePanel_->busy() || project_->restoring()) return;
    timer->stop();
    timer->deleteLater();
    // One more turn of the event loop so the views finish their first paint.
    QTimer::singleShot(500, this, [this, path, quitAfter] {
      const bool saved = grab().save(path);
      bp::logInfo((saved ? "Saved screenshot " : "Could not save screenshot ") + path.toStdString());
      if (quitAfter) QApplication::exit(saved ? 0 : 1);
    });
  });
  timer->start();
}

void MainWindow::closeEvent(QCloseEvent* event) {
  if (project_->isModified()) {
    const auto answer = QMessageBox::question(
        this, tr("Unsaved changes"),
        tr("Save the changes to %1 before closing?")
            .arg(project_->file().isEmpty() ? tr("this untitled project") : QFileInfo(project_->file()).fileName()),
        QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel, QMessageBox::Save);
    if (answer == QMessageBox::Cancel) {
      event->ignore();
      return;
    }
    if (answer == QMessageBox::Save) {
      // Saving runs in a worker: close once it has written the project.
      event->ignore();
      connect(project_, &ProjectController::saved, this, &QWidget::close, Qt::SingleShotConnection);
      saveProject();
      return;
    }
    project_->discardAutosave();
  }
  if (jobs_.activeJobCount() > 0) {
    QString question = tr("%n job(s) still running. Cancel them and quit?", nullptr, jobs_.activeJobCount());
    if (trainingQueue_->isRunning())
      question += QStringLiteral("\n\n") +
                  tr("Training: %1 is running and %n launch(es) wait. A cancelled run keeps its last complete "
                     "epoch; Resume in the Training panel (or brainprior-cli train --resume) continues it.",
                     nullptr, static_cast<int>(trainingQueue_->waiting().size()))
                      .arg(trainingQueue_->current()->title);
    const auto answer = QMessageBox::question(this, tr("Quit BrainPrior"), question,
                                              QMessageBox::Yes | QMessageBox::No, QMessageBox::No);
    if (answer != QMessageBox::Yes) {
      event->ignore();
      return;
    }
    jobs_.cancelAll();
    jobs_.waitForAll();
  }
  project_->discardAutosave();  // closed on purpose: nothing to recover
  event->accept();
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
  if (event->mimeData()->hasUrls()) event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event) {
  for (const auto& url : event->mimeData()->urls()) {
    if (!url.isLocalFile()) continue;
    const QString path = url.toLocalFile();
    if (path.endsWith(QLatin1String(bp::kProjectExtension))) openProject(path);
    else openPath(path);
  }
}

}  // namespace bp::app
