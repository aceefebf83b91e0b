#pragma once
// The main window: panels as tabs, the log as a dock, File/Engine/View/Help menus, drag and drop,
// and a status bar that shows the running job's progress with a cancel button.
#include <QMainWindow>
#include <memory>
#include <vector>

#include "app/job_runner.h"
#include "app/settings.h"

class QActionGroup;
class QLabel;
class QProgressBar;
class QToolButton;
class QTabWidget;
class QMenu;

namespace bp {
struct NeuralDataset;
}

namespace bp::app {

class ComparisonPanel;
class DataPanel;
class ImagePanel;
class LogPanel;
class ModelPanel;
class ProbePanel;
class SimilarityPanel;
class TrainingPanel;
class TrainingQueue;

class MainWindow : public QMainWindow {
  Q_OBJECT
public:
  explicit MainWindow(const EngineSettings& engine, QWidget* parent = nullptr);
  ~MainWindow() override;

  // Opens a neural or image dataset (detected from the path) in a worker.
  void openPath(const QString& path);
  // Generates the synthetic V1 population on Fashion-MNIST in a worker.
  void loadDefaultData();
  // Brings a panel to the front by name: "data", "similarity", "models", "training", "probe",
  // "comparison" or "images" (reopening
  // it when its tab was closed). False for any other name.
  bool showPanel(const QString& name);
  // Sets and saves the compute device ("auto", "cpu" or "cuda") and re-applies the engine settings.
  void setComputeDevice(const QString& device);
  // Saves a screenshot once no job is running (and quits when `quitAfter`).
  void saveScreenshotWhenIdle(const QString& path, bool quitAfter = true);

  JobRunner& jobs() { return jobs_; }
  DataPanel* dataPanel() const { return dataPanel_; }
  ImagePanel* imagePanel() const { return imagePanel_; }
  SimilarityPanel* similarityPanel() const { return similarityPanel_; }
  ModelPanel* modelPanel() const { return modelPanel_; }
  TrainingPanel* trainingPanel() const { return trainingPanel_; }
  TrainingQueue& trainingQueue() { return *trainingQueue_; }
  ProbePanel* probePanel() const { return probePanel_; }
  ComparisonPanel* comparisonPanel() const { return comparisonPanel_; }
  QTabWidget* tabs() const { return tabs_; }

protected:
  void closeEvent(QCloseEvent* event) override;
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dropEvent(QDropEvent* event) override;

private:
  void createActions();
  void applyEngineSettings();
  // Shows a panel's tab (in its place among the others when it was closed) and brings it to the front.
  void raisePanel(QWidget* panel);
  void chooseDatasetToOpen();
  void saveDatasetAs();
  void showAbout();
  void rebuildRecentMenu();
  void onJobStarted(int jobId, const QString& title);
  void onJobProgress(int jobId, double fraction, const QString& message);
  void onJobFinished(int jobId, const QString& title, bool cancelled, const QString& error);

  EngineSettings engine_;
  JobRunner jobs_;
  QTabWidget* tabs_ = nullptr;
  DataPanel* dataPanel_ = nullptr;
  ImagePanel* imagePanel_ = nullptr;
  SimilarityPanel* similarityPanel_ = nullptr;
  ModelPanel* modelPanel_ = nullptr;
  TrainingQueue* trainingQueue_ = nullptr;
  TrainingPanel* trainingPanel_ = nullptr;
  ProbePanel* probePanel_ = nullptr;
  ComparisonPanel* comparisonPanel_ = nullptr;
  // Every panel in tab order, with its name for showPanel and its tab title.
  struct Panel {
    QString name;
    QString title;
    QWidget* widget;
  };
  std::vector<Panel> panels_;
  QActionGroup* deviceGroup_ = nullptr;
  LogPanel* logPanel_ = nullptr;
  QMenu* recentMenu_ = nullptr;
  QLabel* statusText_ = nullptr;
  QLabel* deviceLabel_ = nullptr;
  QProgressBar* progress_ = nullptr;
  QToolButton* cancelButton_ = nullptr;
  int shownJob_ = 0;  // the job whose progress the status bar shows
};

}  // namespace bp::app
