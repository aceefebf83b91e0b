#pragma once
// The launcher of brain-regularized classifier training: data, model, regularizer, alpha, target
// or control, seeds, device, data-parallel workers and output folder, validated by the engine before
// a launch is queued; and the script that launches the config on a cluster.
// The output folder is the workspace's runs folder; the form's config is kept in the workspace
// ("training"), so a project brings it back.
#include <QString>
#include <QWidget>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QSpinBox;

namespace bp::app {

class TrainingQueue;
class Workspace;

// A regularizer as the forms and tables name it; `control` (RunRecord::control: "shuffled", "pixel"
// or empty) marks the neural-similarity regularizer's controls as such.
QString regularizerLabel(const std::string& kind, const std::string& control = {});

class TrainingLaunchForm : public QWidget {
  Q_OBJECT
public:
  TrainingLaunchForm(Workspace& workspace, TrainingQueue& queue, QWidget* parent = nullptr);

  // The form as the engine's training config: the last loaded config with the form's fields over it.
  nlohmann::json configFromForm() const;
  // Shows a config in the form (missing keys keep the engine's defaults); false, with the reason
  // under the form, when the engine refuses it.
  bool applyConfig(const nlohmann::json& config);
  // Validates the form and queues a launch into the output folder; false (the reason shown under the
  // form) when the engine refuses the config.
  bool queueLaunch();
  // Shows the compute device the engine uses now (the main window applies a change).
  void setEngineDevice(const QString& device);

  QString formError() const;
  QComboBox* regularizerBox() const { return regularizer_; }
  QLineEdit* seedsEdit() const { return seeds_; }
  QSpinBox* epochsSpin() const { return epochs_; }
  QSpinBox* workersSpin() const { return workers_; }

Q_SIGNALS:
  // The user chose a compute device ("auto", "cpu" or "cuda").
  void deviceRequested(const QString& device);
  // A launch was queued that will write these run folders.
  void launchQueued(const std::vector<std::string>& runFolders);

private:
  void updateFormState();
  void chooseConfigToLoad();
  void chooseWhereToSaveConfig();
  void showClusterScript();
  void setFormError(const QString& message);

  Workspace& workspace_;
  TrainingQueue& queue_;
  nlohmann::json loadedConfig_;  // keys the form has no field for keep their values from here

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
  QSpinBox* workers_ = nullptr;
  QComboBox* batchNorm_ = nullptr;
  QLineEdit* outputDir_ = nullptr;
  QLabel* formError_ = nullptr;
  std::vector<QWidget*> similarityRows_;
  std::vector<QWidget*> matrixRows_;
  std::vector<QWidget*> harmonizationRows_;
  std::vector<QWidget*> noiseRows_;
};

}  // namespace bp::app
