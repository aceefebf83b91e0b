#pragma once
// The form that fits a core + readout model of the workspace's neurons: architecture, optimiser,
// budget and seed, defaults suited to the dataset, Fit and Stop. The fit runs in a worker, reports
// its live curve after every epoch, and adds the fitted model to the workspace. The form's settings
// are kept in the workspace ("fit"), so a project brings them back.
#include <QString>
#include <QStringList>
#include <QWidget>
#include <atomic>
#include <memory>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/job_runner.h"
#include "training/neural_fit_report.h"

class QComboBox;
class QDoubleSpinBox;
class QPushButton;
class QCheckBox;
class QListWidget;
class QSpinBox;

namespace bp::app {

class Workspace;

class ModelFitForm : public QWidget {
  Q_OBJECT
public:
  ModelFitForm(Workspace& workspace, JobRunner& jobs, QWidget* parent = nullptr);

  // Fits a model with the form's settings in a worker. An interrupted fit of the same dataset and
  // settings resumes from its checkpoint.
  void fit();
  // Ends the running fit after its current epoch, keeping the best weights so far.
  void stopFit();
  // The form as the engine's fit config ({"model": ..., "trainer": ...}), and back.
  nlohmann::json fitConfigFromForm() const;
  void applyFitConfig(const nlohmann::json& config);

  QSpinBox* epochsSpin() const { return epochs_; }
  QCheckBox* shifterBox() const { return shifter_; }
  QCheckBox* modulatorBox() const { return modulator_; }
  // Further recordings fitted with the loaded dataset as one model (a shared core, a readout each).
  void addRecording(const QString& path);
  QStringList moreRecordings() const;

Q_SIGNALS:
  // The fit in progress after each epoch (`curve` empty once it ended), named as it will be added.
  void liveCurveChanged(const QString& name, const std::vector<bp::NeuralEpochReport>& curve);

private:
  void applyDefaults();
  void enableEyeAndBehaviour();
  QString checkpointPath(const nlohmann::json& config) const;

  Workspace& workspace_;
  JobRunner& jobs_;
  // The fit in progress: its live curve and the job running it.
  std::vector<bp::NeuralEpochReport> liveCurve_;
  QString liveName_;
  int fitJob_ = 0;
  int fitCounter_ = 0;
  // Set by the Stop button, read by the fit after each epoch.
  std::shared_ptr<std::atomic<bool>> stopFit_;

  QComboBox* core_ = nullptr;
  QComboBox* readout_ = nullptr;
  QSpinBox* layers_ = nullptr;
  QSpinBox* channels_ = nullptr;
  QSpinBox* firstKernel_ = nullptr;
  QSpinBox* laterKernel_ = nullptr;
  QSpinBox* rotations_ = nullptr;
  QDoubleSpinBox* learningRate_ = nullptr;
  QSpinBox* batchSize_ = nullptr;
  QSpinBox* epochs_ = nullptr;
  QDoubleSpinBox* minutes_ = nullptr;
  QSpinBox* seed_ = nullptr;
  QCheckBox* shifter_ = nullptr;
  QCheckBox* modulator_ = nullptr;
  QListWidget* moreRecordings_ = nullptr;
  QPushButton* fitButton_ = nullptr;
  QPushButton* stopButton_ = nullptr;
};

}  // namespace bp::app
