#include "app/cluster_script_dialog.h"

#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFontDatabase>
#include <QFormLayout>
#include <QLineEdit>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include "distributed/launch_script.h"
#include "runtime/atomic_file.h"
#include "runtime/log.h"

namespace bp::app {

ClusterScriptDialog::ClusterScriptDialog(const nlohmann::json& config, const QString& outputDir, QWidget* parent)
    : QDialog(parent), config_(config) {
  setWindowTitle(tr("Cluster launch script"));
  launcher_ = new QComboBox(this);
  launcher_->setObjectName(QStringLiteral("launcherChooser"));
  launcher_->addItem(tr("Slurm (sbatch)"), QStringLiteral("slurm"));
  launcher_->addItem(tr("torchrun (on every node)"), QStringLiteral("torchrun"));
  auto spin = [this](int value, int maximum) {
    auto* box = new QSpinBox(this);
    box->setRange(1, maximum);
    box->setValue(value);
    return box;
  };
  nodes_ = spin(2, 4096);
  workersPerNode_ = spin(4, 256);
  threadsPerWorker_ = spin(8, 1024);
  gpus_ = new QCheckBox(tr("One GPU per worker"), this);
  gpus_->setChecked(true);
  outputDir_ = new QLineEdit(outputDir, this);
  outputDir_->setToolTip(tr("On a file system every node sees: rank 0 writes the run folders, every rank reads "
                            "their checkpoints to resume"));
  script_ = new QPlainTextEdit(this);
  script_->setObjectName(QStringLiteral("clusterScript"));
  script_->setReadOnly(true);
  script_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
  script_->setMinimumWidth(640);

  auto* form = new QFormLayout;
  form->addRow(tr("Launcher"), launcher_);
  form->addRow(tr("Nodes"), nodes_);
  form->addRow(tr("Workers per node"), workersPerNode_);
  form->addRow(tr("Threads per worker"), threadsPerWorker_);
  form->addRow(QString(), gpus_);
  form->addRow(tr("Output folder"), outputDir_);

  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
  auto* copy = buttons->addButton(tr("Copy"), QDialogButtonBox::ActionRole);
  auto* save = buttons->addButton(tr("Save…"), QDialogButtonBox::ActionRole);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  connect(copy, &QPushButton::clicked, this, [this] { QApplication::clipboard()->setText(script()); });
  connect(save, &QPushButton::clicked, this, [this] {
    const QString path = QFileDialog::getSaveFileName(this, tr("Save the launch script"), defaultScriptName(),
                                                      tr("Shell scripts (*.sbatch *.sh);;All files (*)"));
    if (!path.isEmpty()) saveTo(path);
  });

  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addWidget(script_, 1);
  layout->addWidget(buttons);

  for (QSpinBox* box : {nodes_, workersPerNode_, threadsPerWorker_})
    connect(box, &QSpinBox::valueChanged, this, &ClusterScriptDialog::updateScript);
  connect(launcher_, &QComboBox::currentIndexChanged, this, &ClusterScriptDialog::updateScript);
  connect(gpus_, &QCheckBox::toggled, this, &ClusterScriptDialog::updateScript);
  connect(outputDir_, &QLineEdit::textChanged, this, &ClusterScriptDialog::updateScript);
  updateScript();
}

QString ClusterScriptDialog::scriptFor(const QString& configFile) const {
  LaunchScriptRequest request;
  request.launcher = clusterLauncherFromName(launcher_->currentData().toString().toStdString());
  request.configFile = configFile.toStdString();
  request.outputDir = outputDir_->text().trimmed().toStdString();
  request.nodes = nodes_->value();
  request.workersPerNode = workersPerNode_->value();
  request.threadsPerWorker = threadsPerWorker_->value();
  request.gpus = gpus_->isChecked();
  request.jobName = config_.value("name", std::string("brainprior"));
  if (request.jobName.empty()) request.jobName = "brainprior";
  return QString::fromStdString(launchScript(request));
}

QString ClusterScriptDialog::defaultScriptName() const {
  return launcher_->currentData().toString() == QLatin1String("slurm") ? QStringLiteral("train.sbatch")
                                                                       : QStringLiteral("train.sh");
}

void ClusterScriptDialog::updateScript() {
  // Until it is saved, the config is named as Save writes it: beside the script.
  script_->setPlainText(scriptFor(defaultScriptName() + QStringLiteral(".config.json")));
}

QString ClusterScriptDialog::script() const { return script_->toPlainText(); }

bool ClusterScriptDialog::saveTo(const QString& scriptPath) {
  const QString configPath = QFileInfo(scriptPath).absoluteFilePath() + QStringLiteral(".config.json");
  try {
    writeFileAtomically(configPath.toStdString(), config_.dump(2) + "\n");
    const QString text = scriptFor(configPath);
    writeFileAtomically(scriptPath.toStdString(), text.toStdString());
    QFile::setPermissions(scriptPath, QFile::permissions(scriptPath) | QFileDevice::ExeOwner | QFileDevice::ExeGroup);
    script_->setPlainText(text);
    logInfo("Saved the cluster launch script " + scriptPath.toStdString() + " and its config " +
            configPath.toStdString());
    return true;
  } catch (const std::exception& error) {
    QMessageBox::warning(this, windowTitle(), QString::fromStdString(error.what()));
    return false;
  }
}

}  // namespace bp::app
