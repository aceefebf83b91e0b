#pragma once
// The training view: a launcher form for brain-regularized classifier training (data, model,
// regularizer, alpha, target or control, seeds, device), the queue of launches, the registry of
// runs in a folder (live, filterable, reopenable, resumable), their curves overlaid (every loss term,
// the accuracies, the learning rate, the learned layer weights) and the launches side by side
// (mean and spread of the seeds' test accuracy). Runs belong to the TrainingQueue, not to this panel.
#include <QSet>
#include <QString>
#include <QWidget>
#include <vector>

#include <nlohmann/json.hpp>

#include "classifiers/run_registry.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTableWidget;
class QTimer;

namespace bp::widgets {
class SeriesPlot;
}

namespace bp::app {

class TrainingQueue;

class TrainingPanel : public QWidget {
  Q_OBJECT
public:
  explicit TrainingPanel(TrainingQueue& queue, QWidget* parent = nullptr);

  // The form as the engine's training config: the last loaded config with the form's fields over it.
  nlohmann::json configFromForm() const;
  // Shows a config in the form (missing keys keep the engine's defaults); false, with the reason
  // under the form, when the engine refuses it.
  bool applyConfig(const nlohmann::json& config);
  // Validates the form and queues a launch into the output folder; false (the reason shown under the
  // form) when the engine refuses the config.
  bool queueLaunch();
  // Queues the selected run again from its checkpoint (an interrupted, cancelled or failed run).
  bool resumeSelectedRun();
  // Lists the runs in `folder` (the launcher's output folder too).
  void setRunsFolder(const QString& folder);
  QString runsFolder() const { return runsFolder_; }
  void refreshRuns();
  // Shows the compute device the engine uses now (the main window applies a change).
  void setEngineDevice(const QString& device);

  const std::vector<bp::RunRecord>& runs() const { return runs_; }
  QString formError() const;
  QComboBox* regularizerBox() const { return regularizer_; }
  QComboBox* metricBox() const { return metric_; }
  QLineEdit* seedsEdit() const { return seeds_; }
  QSpinBox* epochsSpin() const { return epochs_; }
  QTableWidget* runsTable() const { return runsTable_; }
  QTableWidget* comparisonTable() const { return comparison_; }
  QListWidget* queueList() const { return queueList_; }
  bp::widgets::SeriesPlot* curvePlot() const { return curves_; }

Q_SIGNALS:
  // The user chose a compute device in the launcher ("auto", "cpu" or "cuda").
  void deviceRequested(const QString& device);

private:
  void buildForm();
  void updateFormState();
  void chooseConfigToLoad();
  void chooseWhereToSaveConfig();
  void chooseRunsFolder();
  void showQueue();
  void onEpoch(const QString& runFolder, const bp::ClassifierEpochReport& report);
  void fillRunsTable();
  void fillComparison();
  void redrawCurves();
  void exportCurves();
  int selectedRun() const;
  bool runShown(const bp::RunRecord& run) const;
  void setFormError(const QString& message);

  TrainingQueue& queue_;
  nlohmann::json loadedConfig_;  // keys the form has no field for keep their values from here
  std::vector<bp::RunRecord> runs_;
  QSet<QString> hiddenRuns_;  // run folders the user unticked
  QString runsFolder_;

  // Launcher form.
  QLineEdit* name_ = nullptr;
  QLineEdit* dataPath_ = nullptr;
  QLineEdit* testPath_ = nullptr;
  QSpinBox* maxTrain_ = nullptr;
  QSpinBox* maxTest_ = nullptr;
  QComboBox* architecture_ = nullptr;
  QSpinBox* width_ = nullptr;
  QSpinBox* classCount_ = nullptr;
  QComboBox* regularizer_ = nullptr;
  QDoubleSpinBox* alpha_ = nullptr;
  QSpinBox* pairBatch_ = nullptr;
  QComboBox* targetSource_ = nullptr;
  QLineEdit* targetFile_ = nullptr;
  QLineEdit* targetImages_ = nullptr;
  QComboBox* targetSplit_ = nullptr;
  QSpinBox* targetMaxImages_ = nullptr;
  QCheckBox* shuffled_ = nullptr;
  QCheckBox* thresholded_ = nullptr;
  QDoubleSpinBox* threshold_ = nullptr;
  QLineEdit* importanceMaps_ = nullptr;
  QDoubleSpinBox* harmonizationWeight_ = nullptr;
  QDoubleSpinBox* noiseSigma_ = nullptr;
  QSpinBox* epochs_ = nullptr;
  QSpinBox* batchSize_ = nullptr;
  QComboBox* optimizer_ = nullptr;
  QDoubleSpinBox* learningRate_ = nullptr;
  QComboBox* schedule_ = nullptr;
  QLineEdit* seeds_ = nullptr;
  QComboBox* device_ = nullptr;
  QLabel* deviceIndicator_ = nullptr;
  QLineEdit* outputDir_ = nullptr;
  QLabel* formError_ = nullptr;
  std::vector<QWidget*> similarityRows_;
  std::vector<QWidget*> matrixRows_;
  std::vector<QWidget*> harmonizationRows_;
  std::vector<QWidget*> noiseRows_;

  // Queue.
  QLabel* currentLaunch_ = nullptr;
  QProgressBar* progress_ = nullptr;
  QPushButton* cancelButton_ = nullptr;
  QListWidget* queueList_ = nullptr;

  // Runs, curves and comparison.
  QLabel* runsFolderLabel_ = nullptr;
  QComboBox* regularizerFilter_ = nullptr;
  QComboBox* stateFilter_ = nullptr;
  QTableWidget* runsTable_ = nullptr;
  QComboBox* metric_ = nullptr;
  bp::widgets::SeriesPlot* curves_ = nullptr;
  QTableWidget* comparison_ = nullptr;
  QTimer* poll_ = nullptr;
  bool filling_ = false;  // the table is being rebuilt: its item changes are not the user's
};

}  // namespace bp::app
