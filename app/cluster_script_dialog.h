#pragma once
// The Training tab's "Cluster script…": the Slurm or torchrun script that trains the form's config
// with data-parallel workers on a cluster (core/distributed/launch_script.h), shown as it changes
// and ready to copy, or saved with the config beside it.
#include <QDialog>

#include <nlohmann/json.hpp>

class QCheckBox;
class QComboBox;
class QLineEdit;
class QPlainTextEdit;
class QSpinBox;

namespace bp::app {

class ClusterScriptDialog : public QDialog {
  Q_OBJECT
public:
  // `config`: the engine's normalized training config; `outputDir`: the form's output folder.
  ClusterScriptDialog(const nlohmann::json& config, const QString& outputDir, QWidget* parent = nullptr);

  QString script() const;
  // Writes the script (executable) and the config beside it as <script>.config.json, which the
  // script names by its absolute path; false, with the reason shown, when a write fails.
  bool saveTo(const QString& scriptPath);

private:
  void updateScript();
  QString scriptFor(const QString& configFile) const;
  QString defaultScriptName() const;

  nlohmann::json config_;
  QComboBox* launcher_ = nullptr;
  QSpinBox* nodes_ = nullptr;
  QSpinBox* workersPerNode_ = nullptr;
  QSpinBox* threadsPerWorker_ = nullptr;
  QCheckBox* gpus_ = nullptr;
  QLineEdit* outputDir_ = nullptr;
  QPlainTextEdit* script_ = nullptr;
};

}  // namespace bp::app
