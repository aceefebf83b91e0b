#pragma once
// The main window: panels as tabs, the log as a dock, File/Engine/View/Help menus, drag and drop,
// and a status bar that shows the running job's progress with a cancel button.
#include <QMainWindow>
#include <memory>

#include "app/job_runner.h"
#include "app/settings.h"

class QLabel;
class QProgressBar;
class QToolButton;
class QTabWidget;
class QMenu;

namespace bp {
struct NeuralDataset;
}

namespace bp::app {

class DataPanel;
class ImagePanel;
class LogPanel;
class ModelPanel;
class SimilarityPanel;

class MainWindow : public QMainWindow {
  Q_OBJECT
public:
  explicit MainWindow(const EngineSettings& engine, QWidget* parent = nullptr);
  ~MainWindow() override;

  // Opens a neural or image dataset (detected from the path) in a worker.
  void openPath(const QString& path);
  // Generates the synthetic V1 population on Fashion-MNIST in a worker.
  void loadDefaultData();
  // Brings a panel to the front by name: "data", "similarity", "models" or "images". False for any other name.
  bool showPanel(const QString& name);
  // Saves a screenshot once no job is running (and quits when `quitAfter`).
  void saveScreenshotWhenIdle(const QString& path, bool quitAfter = true);

  JobRunner& jobs() { return jobs_; }
  DataPanel* dataPanel() const { return dataPanel_; }
  ImagePanel* imagePanel() const { return imagePanel_; }
  SimilarityPanel* similarityPanel() const { return similarityPanel_; }
  ModelPanel* modelPanel() const { return modelPanel_; }

protected:
  void closeEvent(QCloseEvent* event) override;
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dropEvent(QDropEvent* event) override;

private:
  void createActions();
  void applyEngineSettings();
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
  LogPanel* logPanel_ = nullptr;
  QMenu* recentMenu_ = nullptr;
  QLabel* statusText_ = nullptr;
  QLabel* deviceLabel_ = nullptr;
  QProgressBar* progress_ = nullptr;
  QToolButton* cancelButton_ = nullptr;
  int shownJob_ = 0;  // the job whose progress the status bar shows
};

}  // namespace bp::app
