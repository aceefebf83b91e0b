#pragma once
// The runs side of the Training tab: the queue of launches (what runs, what waits), the registry
// of runs in the workspace's runs folder (live, filterable, resumable), their curves overlaid (every
// loss term, the accuracies, the learning rate, the learned layer weights) and the launches side by
// side (mean and spread of the seeds' test accuracy). Runs belong to the TrainingQueue, not to
// this view: closing the tab does not stop them.
#include <QSet>
#include <QString>
#include <QWidget>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/job_runner.h"
#include "classifiers/run_registry.h"

class QComboBox;
class QLabel;
class QListWidget;
class QProgressBar;
class QPushButton;
class QTableWidget;
class QTimer;

namespace bp::widgets {
class SeriesPlot;
}

namespace bp::app {

class TrainingQueue;
class Workspace;

class TrainingRunsView : public QWidget {
  Q_OBJECT
public:
  TrainingRunsView(Workspace& workspace, TrainingQueue& queue, QWidget* parent = nullptr);

  // Queues the selected run again from its checkpoint (an interrupted, cancelled or failed run);
  // false, with the reason shown under the runs, for any other.
  bool resumeSelectedRun();
  // Exports the selected finished run's classifier for Python into `file` (and <file>.json), in a
  // worker; false, with the reason shown under the runs, when no finished run is selected.
  // runExported tells when it is written.
  bool exportSelectedRun(const QString& file);
  // Reads the runs folder again.
  void refreshRuns();
  // Shows the runs a launch is about to write, even where the user had hidden their curves.
  void showRuns(const std::vector<std::string>& runFolders);

  const std::vector<bp::RunRecord>& runs() const { return runs_; }
  QString message() const;
  QComboBox* metricBox() const { return metric_; }
  QTableWidget* runsTable() const { return runsTable_; }
  QTableWidget* comparisonTable() const { return comparison_; }
  QListWidget* queueList() const { return queueList_; }
  bp::widgets::SeriesPlot* curvePlot() const { return curves_; }

Q_SIGNALS:
  // The user asked to load a run's config into the launcher.
  void configRequested(const nlohmann::json& config);
  // An export for Python is written: the file and the Python that loads it.
  void runExported(const QString& file, const QString& python);

private:
  void chooseRunsFolder();
  void showQueue();
  void onEpoch(const QString& runFolder, const bp::ClassifierEpochReport& report);
  void fillRunsTable();
  void fillComparison();
  void redrawCurves();
  void exportCurves();
  int selectedRun() const;
  bool runShown(const bp::RunRecord& run) const;
  void chooseExportFile();
  // Shown under the runs: an error (logged as a warning) or, with isError false, a plain note.
  void setMessage(const QString& message, bool isError = true);

  Workspace& workspace_;
  TrainingQueue& queue_;
  JobRunner exportJobs_;
  std::vector<bp::RunRecord> runs_;
  QSet<QString> hiddenRuns_;  // run folders the user unticked

  QLabel* currentLaunch_ = nullptr;
  QProgressBar* progress_ = nullptr;
  QPushButton* cancelButton_ = nullptr;
  QListWidget* queueList_ = nullptr;

  QLabel* runsFolderLabel_ = nullptr;
  QComboBox* regularizerFilter_ = nullptr;
  QComboBox* stateFilter_ = nullptr;
  QTableWidget* runsTable_ = nullptr;
  QLabel* message_ = nullptr;
  QComboBox* metric_ = nullptr;
  bp::widgets::SeriesPlot* curves_ = nullptr;
  QTableWidget* comparison_ = nullptr;
  QTimer* poll_ = nullptr;
  bool filling_ = false;  // the table is being rebuilt: its item changes are not the user's
};

}  // namespace bp::app
