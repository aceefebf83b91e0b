#pragma once
// The main window: panels as tabs, the log as a dock, File/Engine/View/Demo/Help menus, drag and
// drop, a status bar that shows the running job's progress with a cancel button, and presentation
// mode for showing the demo to an audience.
#include <QFont>
#include <QMainWindow>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "app/job_runner.h"
#include "app/settings.h"
#include "data/nwb.h"

class QAction;
class QActionGroup;
class QDockWidget;
class QLabel;
class QProgressBar;
class QToolButton;
class QTabWidget;
class QMenu;

namespace bp {
class Job;
struct NeuralDataset;
}

namespace bp::app {

class ComparisonPanel;
class DataPanel;
class DemoPanel;
class ProjectController;
class ImagePanel;
class LogPanel;
class ModelPanel;
class ProbePanel;
class SimilarityPanel;
class TrainingPanel;
class TrainingQueue;
class WelcomeCard;
class Workspace;

// How much presentation mode enlarges fonts on a screen `screenHeight` pixels high: 1.5 on a 1080-line
// projector, read from the back of a room, and as much of the screen's height per line of text on
// smaller ones (1.0 at 720 lines, where the default font is already that large a share).
double presentationFontScale(int screenHeight);

class MainWindow : public QMainWindow {
  Q_OBJECT
public:
  explicit MainWindow(const EngineSettings& engine, QWidget* parent = nullptr);
  ~MainWindow() override;

  // Opens a neural or image dataset (detected from the path) in a worker. An NWB file first asks
  // what to read from it (NwbImportDialog).
  void openPath(const QString& path);
  // Reads an NWB file as `options` say, without asking (a project reopening its recording).
  void openNwb(const QString& path, const bp::NwbReadOptions& options);
  // Generates the synthetic V1 population on Fashion-MNIST in a worker.
  void loadDefaultData();
  // Runs `loader` and prepares the dataset's views as one job; the result becomes the workspace's
  // neural data.
  // Regenerated: data the app makes again on every start (the default population). Loaded into an
  // untitled window that holds nothing else, it leaves the window unmodified.
  enum class DataOrigin { Opened, Regenerated };
  // `nwb`: how the loader reads an NWB file, kept with the data for projects and shown in its summary.
  void loadNeuralData(const QString& title, std::function<bp::NeuralDataset(const bp::Job&)> loader,
                      DataOrigin origin = DataOrigin::Opened, std::optional<bp::NwbReadOptions> nwb = std::nullopt);
  // Brings a panel to the front by name: "data", "similarity", "models", "training", "probe",
  // "comparison", "images" or "demo" (reopening it when its tab was closed). False for any other name.
  bool showPanel(const QString& name);
  // Sets and saves the compute device ("auto", "cpu" or "cuda") and re-applies the engine settings.
  void setComputeDevice(const QString& device);
  // Saves a screenshot once no job is running (and quits when `quitAfter`).
  void saveScreenshotWhenIdle(const QString& path, bool quitAfter = true);
  // Brings the Demo tab to the front and starts the demo with its form's settings (DemoPanel::start).
  // As each step finishes, its results open in the panels that explain them.
  void runDemo();
  // Brings the Demo tab to the front and replays the finished demo in `folder` (DemoPanel::replay);
  // a folder that cannot be replayed says why under the Demo tab's form.
  void replayDemo(const QString& folder);
  // The next runs loaded into the Probe panel are shown on a noisy test image under a PGD attack
  // on the first model, as at a talk.
  void showNextProbeUnderAttack();
  // Presentation mode, for a projector: full screen, the application font larger
  // (presentationFontScale of the window's screen), high-contrast colormaps in every heatmap, and
  // the tabs' forms and the log hidden (Ctrl+B and Ctrl+L bring them back). Leaving it restores the
  // window state, the font, the colormaps and what was shown exactly.
  bool presentationMode() const { return presentation_.has_value(); }
  void setPresentationMode(bool on);
  // Shows or hides every tab's forms (View → Show Controls): the views take the room.
  void setControlsVisible(bool visible);
  bool controlsVisible() const;

  JobRunner& jobs() { return jobs_; }
  Workspace& workspace() { return *workspace_; }
  DataPanel* dataPanel() const { return dataPanel_; }
  ImagePanel* imagePanel() const { return imagePanel_; }
  SimilarityPanel* similarityPanel() const { return similarityPanel_; }
  ModelPanel* modelPanel() const { return modelPanel_; }
  TrainingPanel* trainingPanel() const { return trainingPanel_; }
  TrainingQueue& trainingQueue() { return *trainingQueue_; }
  ProbePanel* probePanel() const { return probePanel_; }
  ComparisonPanel* comparisonPanel() const { return comparisonPanel_; }
  DemoPanel* demoPanel() const { return demoPanel_; }
  ProjectController& project() { return *project_; }
  // Opens a project: here when this window holds nothing, otherwise in a new window. The window
  // that opened it, or nullptr when it cannot be read (the reason is shown).
  // RecoverUntitled: `file` is an untitled window's autosave, opened as the untitled project it was.
  enum ProjectSource { ProjectFile, RecoverUntitled };
  MainWindow* openProject(const QString& file, ProjectSource source = ProjectFile);
  // Builds the report of what this window holds (its project's files) in a worker and writes it
  // as HTML, or as PDF when `path` ends in .pdf; reportExported when written, the job's error otherwise.
  void exportReport(const QString& path);
  // The names (as showPanel takes them) of the open tabs in order, and of the current one.
  QStringList openPanelNames() const;
  QString currentPanelName() const;
  // Opens exactly the named tabs (unknown names are ignored), in the panels' usual order.
  void setOpenPanels(const QStringList& names);
  // Closes a panel's tab (its work goes on; showPanel reopens it). False for an unknown name.
  bool closePanel(const QString& name);
  // The panel whose tab is in front (nullptr when every tab is closed).
  QWidget* currentPanel() const;
  // The first start's welcome card (nullptr once dismissed before this window opened).
  WelcomeCard* welcomeCard() const { return welcome_; }

Q_SIGNALS:
  void reportExported(const QString& path);

protected:
  void closeEvent(QCloseEvent* event) override;
  // The first time the window is shown, it shrinks to fit the screen it is on (a 1366x768 laptop
  // keeps its status bar in view).
  void showEvent(QShowEvent* event) override;
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dropEvent(QDropEvent* event) override;

private:
  void createActions();
  void applyEngineSettings();
  // Shows a panel's tab (in its place among the others when it was closed) and brings it to the front.
  void raisePanel(QWidget* panel);
  // Generates the default data into the Data panel without bringing it to the front.
  void generateDefaultData();
  // Opens the demo's results in their panels as its steps finish.
  void connectDemo();
  void chooseDatasetToOpen();
  void saveDatasetAs();
  void showAbout();
  void rebuildRecentMenu();
  void rebuildRecentProjectsMenu();
  void chooseProjectToOpen();
  // Save (to the project's file, or asking for one when untitled); false when the user cancelled.
  bool saveProject();
  bool chooseWhereToSaveProject();
  void chooseWhereToExportReport();
  void onJobStarted(int jobId, const QString& title);
  void onJobProgress(int jobId, double fraction, const QString& message);
  void onJobFinished(int jobId, const QString& title, bool cancelled, const QString& error);

  EngineSettings engine_;
  JobRunner jobs_;
  Workspace* workspace_ = nullptr;
  QTabWidget* tabs_ = nullptr;
  DataPanel* dataPanel_ = nullptr;
  ImagePanel* imagePanel_ = nullptr;
  SimilarityPanel* similarityPanel_ = nullptr;
  ModelPanel* modelPanel_ = nullptr;
  TrainingQueue* trainingQueue_ = nullptr;
  TrainingPanel* trainingPanel_ = nullptr;
  ProbePanel* probePanel_ = nullptr;
  ComparisonPanel* comparisonPanel_ = nullptr;
  DemoPanel* demoPanel_ = nullptr;
  ProjectController* project_ = nullptr;
  // Every panel in tab order, with its name for showPanel, its tab title, and the page that holds it
  // in the tab (a scroll area: a screen smaller than the panel needs scrolls instead of clipping).
  struct Panel {
    QString name;
    QString title;
    QWidget* widget;
    QWidget* page = nullptr;
  };
  const Panel* panelOf(const QWidget* widgetOrPage) const;
  const Panel* panelNamed(const QString& name) const;
  void showDemoTab();
  std::vector<Panel> panels_;
  QActionGroup* deviceGroup_ = nullptr;
  QAction* presentationAction_ = nullptr;
  // What presentation mode changed, to restore on leaving it; empty outside presentation mode.
  struct PresentationRestore {
    QFont font;
    double fontScale;
    Qt::WindowStates windowState;
    QByteArray geometry;
    bool controlsVisible;
    bool logVisible;
    bool welcomeVisible;
  };
  std::optional<PresentationRestore> presentation_;
  LogPanel* logPanel_ = nullptr;
  QDockWidget* logDock_ = nullptr;
  WelcomeCard* welcome_ = nullptr;
  QAction* controlsAction_ = nullptr;
  QMenu* recentMenu_ = nullptr;
  QMenu* recentProjectsMenu_ = nullptr;
  QLabel* statusText_ = nullptr;
  QLabel* deviceLabel_ = nullptr;
  QProgressBar* progress_ = nullptr;
  QToolButton* cancelButton_ = nullptr;
  int shownJob_ = 0;  // the job whose progress the status bar shows
  bool fittedToScreen_ = false;
};

}  // namespace bp::app
