#include "app/training_launch_form.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QSpinBox>
#include <QVBoxLayout>
#include <cmath>

#include "app/cluster_script_dialog.h"
#include "app/controls_column.h"
#include "app/form_edits.h"
#include "app/training_queue.h"
#include "app/training_session.h"
#include "app/workspace.h"
#include "classifiers/run_registry.h"
#include "runtime/atomic_file.h"
#include "runtime/log.h"
#include "runtime/runtime.h"

namespace bp::app {
namespace {

using Pointer = nlohmann::json::json_pointer;

QString text(const nlohmann::json& config, const char* pointer) {
  const nlohmann::json value = config.value(Pointer(pointer), nlohmann::json());
  return value.is_string() ? QString::fromStdString(value.get<std::string>()) : QString();
}

double real(const nlohmann::json& config, const char* pointer, double fallback) {
  const nlohmann::json value = config.value(Pointer(pointer), nlohmann::json());
  return value.is_number() ? value.get<double>() : fallback;
}

void selectData(QComboBox* box, const QString& data) {
  const int index = box->findData(data);
  if (index >= 0) box->setCurrentIndex(index);
}

// Seeds as the user types them: "1, 2, 3" or "1 2 3"; empty on a malformed list.
std::vector<std::uint64_t> parseSeeds(const QString& text) {
  std::vector<std::uint64_t> seeds;
  for (const QString& part : text.split(QRegularExpression(QStringLiteral("[,;\\s]+")), Qt::SkipEmptyParts)) {
    bool ok = false;
    const qulonglong seed = part.toULongLong(&ok);
    if (!ok) return {};
    seeds.push_back(seed);
  }
  return seeds;
}

}  // namespace

QString regularizerLabel(const std::string& kind, const std::string& control) {
  if (kind == "none") return QObject::tr("none (baseline)");
  if (kind == "neural_similarity" && control == "shuffled") return QObject::tr("neural similarity, shuffled (control)");
  if (kind == "neural_similarity" && control == "pixel") return QObject::tr("pixel similarity (control)");
  if (kind == "neural_similarity") return QObject::tr("neural similarity");
  if (kind == "harmonization") return QObject::tr("harmonization");
  if (kind == "gaussian_noise_augmentation") return QObject::tr("Gaussian noise");
  return QString::fromStdString(kind);
}

TrainingLaunchForm::TrainingLaunchForm(Workspace& workspace, TrainingQueue& queue, QWidget* parent)
    : QWidget(parent), workspace_(workspace), queue_(queue) {
  auto* formWidget = new QWidget(this);
  auto* formLayout = new QVBoxLayout(formWidget);
  formLayout->setContentsMargins(0, 0, 0, 0);
  auto addBox = [&](const QString& title) {
    auto* box = new QGroupBox(title, formWidget);
    auto* form = new QFormLayout(box);
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    formLayout->addWidget(box);
    return form;
  };
  auto pathRow = [&](QLineEdit*& edit, const QString& placeholder, bool folder, const QString& filter) {
    auto* row = new QWidget(formWidget);
    auto* layout = new QHBoxLayout(row);
    layout->setContentsMargins(0, 0, 0, 0);
    edit = new QLineEdit(row);
    edit->setPlaceholderText(placeholder);
    auto* browse = new QPushButton(tr("…"), row);
    browse->setMaximumWidth(32);
    layout->addWidget(edit, 1);
    layout->addWidget(browse);
    QLineEdit* target = edit;
    connect(browse, &QPushButton::clicked, this, [this, target, folder, filter] {
      const QString chosen = folder ? QFileDialog::getExistingDirectory(this, tr("Choose a folder"), target->text())
                                    : QFileDialog::getOpenFileName(this, tr("Choose a file"), target->text(), filter);
      if (!chosen.isEmpty()) target->setText(chosen);
    });
    return row;
  };

  QFormLayout* data = addBox(tr("Data"));
  data->addRow(tr("Images"), pathRow(dataPath_, tr("IDX, CIFAR binary or class folders"), true, {}));
  data->addRow(tr("Test images"), pathRow(testPath_, tr("optional: test split elsewhere"), true, {}));
  maxTrain_ = new QSpinBox(formWidget);
  maxTrain_->setRange(0, 10'000'000);
  maxTrain_->setSingleStep(1000);
  maxTrain_->setSpecialValueText(tr("all"));
  maxTest_ = new QSpinBox(formWidget);
  maxTest_->setRange(0, 10'000'000);
  maxTest_->setSingleStep(1000);
  maxTest_->setSpecialValueText(tr("all"));
  data->addRow(tr("Train images"), maxTrain_);
  data->addRow(tr("Test images used"), maxTest_);

  QFormLayout* model = addBox(tr("Model"));
  architecture_ = new QComboBox(formWidget);
  architecture_->addItem(tr("Small ResNet (CPU, demos)"), QStringLiteral("small_resnet"));
  architecture_->addItem(tr("ResNet18 (paper)"), QStringLiteral("resnet18"));
  architecture_->addItem(tr("ResNet34 (paper)"), QStringLiteral("resnet34"));
  width_ = new QSpinBox(formWidget);
  width_->setRange(1, 256);
  width_->setToolTip(tr("Small ResNet: channels of the stem; the stages have 1, 2 and 4 times as many"));
  classCount_ = new QSpinBox(formWidget);
  classCount_->setRange(2, 1000);
  model->addRow(tr("Architecture"), architecture_);
  model->addRow(tr("Width"), width_);
  model->addRow(tr("Classes"), classCount_);

  QFormLayout* regularizer = addBox(tr("Brain prior"));
  regularizer_ = new QComboBox(formWidget);
  for (const char* kind : {"none", "neural_similarity", "harmonization", "gaussian_noise_augmentation"})
    regularizer_->addItem(regularizerLabel(kind), QString::fromLatin1(kind));
  alpha_ = new QDoubleSpinBox(formWidget);
  alpha_->setRange(0.0, 10'000.0);
  alpha_->setDecimals(2);
  alpha_->setToolTip(tr("loss = CE + α · L_sim (20 in the paper; 10 for a thresholded target)"));
  pairBatch_ = new QSpinBox(formWidget);
  pairBatch_->setRange(1, 4096);
  targetSource_ = new QComboBox(formWidget);
  targetSource_->addItem(tr("Similarity matrix file (neural, another network)"), QStringLiteral("matrix_file"));
  targetSource_->addItem(tr("Pixel similarity (control)"), QStringLiteral("pixel"));
  targetSplit_ = new QComboBox(formWidget);
  targetSplit_->addItems({QStringLiteral("train"), QStringLiteral("test")});
  targetMaxImages_ = new QSpinBox(formWidget);
  targetMaxImages_->setRange(0, 10'000);
  targetMaxImages_->setSpecialValueText(tr("all"));
  shuffled_ = new QCheckBox(tr("Shuffled control (permuted image order)"), formWidget);
  thresholded_ = new QCheckBox(tr("Threshold at"), formWidget);
  threshold_ = new QDoubleSpinBox(formWidget);
  threshold_->setRange(0.01, 0.99);
  threshold_->setDecimals(2);
  harmonizationWeight_ = new QDoubleSpinBox(formWidget);
  harmonizationWeight_->setRange(0.0, 1000.0);
  harmonizationWeight_->setDecimals(3);
  noiseSigma_ = new QDoubleSpinBox(formWidget);
  noiseSigma_->setRange(0.0, 1.0);
  noiseSigma_->setDecimals(3);
  noiseSigma_->setSingleStep(0.01);
  auto* thresholdRow = new QWidget(formWidget);
  auto* thresholdLayout = new QHBoxLayout(thresholdRow);
  thresholdLayout->setContentsMargins(0, 0, 0, 0);
  thresholdLayout->addWidget(thresholded_);
  thresholdLayout->addWidget(threshold_, 1);
  QWidget* targetFileRow =
      pathRow(targetFile_, tr("e.g. target.h5 from brainprior-cli target"), false,
              tr("Similarity matrices (*.h5 *.hdf5);;All files (*)"));
  QWidget* targetImagesRow = pathRow(targetImages_, tr("the images the matrix indexes (empty: training images)"), true, {});
  QWidget* mapsRow =
      pathRow(importanceMaps_, tr("HDF5 file or folder of <index>.png"), false, tr("Importance maps (*.h5 *.hdf5);;All files (*)"));
  regularizer->addRow(tr("Regularizer"), regularizer_);
  regularizer->addRow(tr("α"), alpha_);
  regularizer->addRow(tr("Pairs per step"), pairBatch_);
  regularizer->addRow(tr("Target"), targetSource_);
  regularizer->addRow(tr("Matrix"), targetFileRow);
  regularizer->addRow(tr("Target images"), targetImagesRow);
  regularizer->addRow(tr("Split / first"), [&] {
    auto* row = new QWidget(formWidget);
    auto* layout = new QHBoxLayout(row);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(targetSplit_);
    layout->addWidget(targetMaxImages_, 1);
    return row;
  }());
  regularizer->addRow(shuffled_);
  regularizer->addRow(thresholdRow);
  regularizer->addRow(tr("Importance maps"), mapsRow);
  regularizer->addRow(tr("Harmonization weight"), harmonizationWeight_);
  regularizer->addRow(tr("Noise σ"), noiseSigma_);
  similarityRows_ = {alpha_, pairBatch_, targetSource_, targetImagesRow, targetSplit_, targetMaxImages_, shuffled_,
                     thresholdRow};
  matrixRows_ = {targetFileRow};
  harmonizationRows_ = {mapsRow, harmonizationWeight_};
  noiseRows_ = {noiseSigma_};

  QFormLayout* training = addBox(tr("Training"));
  name_ = new QLineEdit(formWidget);
  name_->setPlaceholderText(tr("empty: architecture and regularizer"));
  epochs_ = new QSpinBox(formWidget);
  epochs_->setRange(1, 10'000);
  batchSize_ = new QSpinBox(formWidget);
  batchSize_->setObjectName(QStringLiteral("batchSize"));
  batchSize_->setRange(1, 4096);
  optimizer_ = new QComboBox(formWidget);
  optimizer_->addItem(QStringLiteral("SGD"), QStringLiteral("sgd"));
  optimizer_->addItem(QStringLiteral("Adam"), QStringLiteral("adam"));
  optimizer_->addItem(QStringLiteral("AdamW"), QStringLiteral("adamw"));
  learningRate_ = new QDoubleSpinBox(formWidget);
  learningRate_->setRange(1e-6, 10.0);
  learningRate_->setDecimals(5);
  learningRate_->setSingleStep(0.01);
  schedule_ = new QComboBox(formWidget);
  schedule_->addItem(tr("constant"), QStringLiteral("constant"));
  schedule_->addItem(tr("step"), QStringLiteral("step"));
  schedule_->addItem(tr("cosine"), QStringLiteral("cosine"));
  schedule_->addItem(tr("cyclic (paper)"), QStringLiteral("cyclic"));
  seeds_ = new QLineEdit(formWidget);
  seeds_->setPlaceholderText(tr("e.g. 1, 2, 3: one run per seed"));
  training->addRow(tr("Name"), name_);
  training->addRow(tr("Epochs"), epochs_);
  training->addRow(tr("Batch size"), batchSize_);
  training->addRow(tr("Optimizer"), optimizer_);
  training->addRow(tr("Learning rate"), learningRate_);
  training->addRow(tr("Schedule"), schedule_);
  training->addRow(tr("Seeds"), seeds_);

  QFormLayout* run = addBox(tr("Run"));
  device_ = new QComboBox(formWidget);
  device_->addItem(tr("Automatic (CUDA when available)"), QStringLiteral("auto"));
  device_->addItem(tr("CPU"), QStringLiteral("cpu"));
  device_->addItem(tr("CUDA GPU"), QStringLiteral("cuda"));
  deviceIndicator_ = new QLabel(formWidget);
  deviceIndicator_->setObjectName(QStringLiteral("deviceIndicator"));
  run->addRow(tr("Device"), device_);
  run->addRow(QString(), deviceIndicator_);
  workers_ = new QSpinBox(formWidget);
  workers_->setObjectName(QStringLiteral("workersSpin"));
  workers_->setRange(1, 64);
  workers_->setToolTip(tr("Data-parallel worker processes on this machine (torch.distributed over Gloo): each "
                          "trains on a share of every batch. 1 trains inside the app."));
  batchNorm_ = new QComboBox(formWidget);
  batchNorm_->setObjectName(QStringLiteral("batchNormChooser"));
  batchNorm_->addItem(tr("Synchronized (same weights for any number of workers)"), QStringLiteral("synchronized"));
  batchNorm_->addItem(tr("Per worker (faster, as PyTorch's DDP)"), QStringLiteral("per_worker"));
  auto* clusterButton = new QPushButton(tr("Cluster script…"), formWidget);
  clusterButton->setToolTip(tr("The Slurm or torchrun script that trains this config on a cluster"));
  run->addRow(tr("Workers"), workers_);
  run->addRow(tr("Batch norm"), batchNorm_);
  run->addRow(QString(), clusterButton);
  connect(clusterButton, &QPushButton::clicked, this, &TrainingLaunchForm::showClusterScript);
  connect(workers_, &QSpinBox::valueChanged, this, &TrainingLaunchForm::updateFormState);
  run->addRow(tr("Output folder"), pathRow(outputDir_, tr("receives one folder per run"), true, {}));
  outputDir_->setText(QDir::current().absoluteFilePath(QStringLiteral("runs")));

  auto* buttons = new QGridLayout;
  auto* queueButton = new QPushButton(tr("Queue launch"), formWidget);
  queueButton->setDefault(true);
  queueButton->setToolTip(tr("Train one run per seed, after the launches already queued"));
  auto* loadButton = new QPushButton(tr("Load config…"), formWidget);
  auto* saveButton = new QPushButton(tr("Save config…"), formWidget);
  auto* defaultsButton = new QPushButton(tr("Defaults"), formWidget);
  buttons->addWidget(queueButton, 0, 0, 1, 3);
  buttons->addWidget(loadButton, 1, 0);
  buttons->addWidget(saveButton, 1, 1);
  buttons->addWidget(defaultsButton, 1, 2);
  formError_ = new QLabel(this);
  formError_->setWordWrap(true);
  formError_->setStyleSheet(QStringLiteral("color:#c00000"));
  formError_->hide();
  formLayout->addStretch(1);

  connect(queueButton, &QPushButton::clicked, this, &TrainingLaunchForm::queueLaunch);
  connect(loadButton, &QPushButton::clicked, this, &TrainingLaunchForm::chooseConfigToLoad);
  connect(saveButton, &QPushButton::clicked, this, &TrainingLaunchForm::chooseWhereToSaveConfig);
  connect(defaultsButton, &QPushButton::clicked, this, [this] { applyConfig(defaultTrainingConfig()); });
  connect(regularizer_, &QComboBox::currentIndexChanged, this, &TrainingLaunchForm::updateFormState);
  connect(targetSource_, &QComboBox::currentIndexChanged, this, &TrainingLaunchForm::updateFormState);
  connect(architecture_, &QComboBox::currentIndexChanged, this, &TrainingLaunchForm::updateFormState);
  connect(thresholded_, &QCheckBox::toggled, this, &TrainingLaunchForm::updateFormState);
  connect(device_, &QComboBox::activated, this, [this] { Q_EMIT deviceRequested(device_->currentData().toString()); });
  connect(outputDir_, &QLineEdit::editingFinished, this, [this] { workspace_.setRunsFolder(outputDir_->text().trimmed()); });

  // The fields scroll; the launch buttons and the form's error stay in view below them.
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(controlsColumn(formWidget, this), 1);
  layout->addLayout(buttons);
  layout->addWidget(formError_);

  // The queue runs one launch at a time: the device cannot change under it.
  connect(&queue_, &TrainingQueue::changed, this, [this] { device_->setEnabled(!queue_.current().has_value()); });
  connect(&workspace_, &Workspace::runsFolderChanged, this, [this](const QString& folder) {
    if (QDir(outputDir_->text().trimmed()).absolutePath() != folder) outputDir_->setText(folder);
  });
  applyConfig(defaultTrainingConfig());
  setEngineDevice(QStringLiteral("auto"));
  workspace_.setRunsFolder(outputDir_->text());
  watchFormEdits(this, [this] { workspace_.setSettings("training", configFromForm()); });
  workspace_.setSettings("training", configFromForm());
}

void TrainingLaunchForm::updateFormState() {
  const QString kind = regularizer_->currentData().toString();
  const bool similarity = kind == QLatin1String("neural_similarity");
  for (QWidget* widget : similarityRows_) widget->setEnabled(similarity);
  for (QWidget* widget : matrixRows_)
    widget->setEnabled(similarity && targetSource_->currentData().toString() == QLatin1String("matrix_file"));
  for (QWidget* widget : harmonizationRows_) widget->setEnabled(kind == QLatin1String("harmonization"));
  for (QWidget* widget : noiseRows_) widget->setEnabled(kind == QLatin1String("gaussian_noise_augmentation"));
  threshold_->setEnabled(similarity && thresholded_->isChecked());
  width_->setEnabled(architecture_->currentData().toString() == QLatin1String("small_resnet"));
  batchNorm_->setEnabled(workers_->value() > 1);
}

nlohmann::json TrainingLaunchForm::configFromForm() const {
  nlohmann::json config = loadedConfig_;
  auto set = [&config](const char* pointer, nlohmann::json value) { config[Pointer(pointer)] = std::move(value); };
  set("/name", name_->text().trimmed().toStdString());
  set("/data/path", dataPath_->text().trimmed().toStdString());
  set("/data/test_path", testPath_->text().trimmed().toStdString());
  set("/data/max_train_images", maxTrain_->value());
  set("/data/max_test_images", maxTest_->value());
  set("/model/architecture", architecture_->currentData().toString().toStdString());
  set("/model/width", width_->value());
  set("/model/class_count", classCount_->value());
  set("/regularizer/kind", regularizer_->currentData().toString().toStdString());
  set("/regularizer/alpha", alpha_->value());
  set("/regularizer/pair_batch_size", pairBatch_->value());
  set("/regularizer/target/source", targetSource_->currentData().toString().toStdString());
  set("/regularizer/target/matrix_file", targetFile_->text().trimmed().toStdString());
  set("/regularizer/target/images/path", targetImages_->text().trimmed().toStdString());
  set("/regularizer/target/images/split", targetSplit_->currentText().toStdString());
  set("/regularizer/target/images/max_images", targetMaxImages_->value());
  set("/regularizer/target/shuffled", shuffled_->isChecked());
  set("/regularizer/target/threshold", thresholded_->isChecked() ? nlohmann::json(threshold_->value()) : nlohmann::json());
  set("/regularizer/harmonization/importance_maps", importanceMaps_->text().trimmed().toStdString());
  set("/regularizer/harmonization/weight", harmonizationWeight_->value());
  set("/regularizer/noise_sigma", noiseSigma_->value());
  set("/epochs", epochs_->value());
  set("/batch_size", batchSize_->value());
  set("/optimizer/kind", optimizer_->currentData().toString().toStdString());
  set("/optimizer/learning_rate", learningRate_->value());
  set("/schedule/kind", schedule_->currentData().toString().toStdString());
  set("/batch_norm", batchNorm_->currentData().toString().toStdString());
  const std::vector<std::uint64_t> seeds = parseSeeds(seeds_->text());
  set("/seeds", seeds);
  if (!seeds.empty()) set("/seed", seeds.front());
  return config;
}

bool TrainingLaunchForm::applyConfig(const nlohmann::json& config) {
  nlohmann::json normalized;
  try {
    normalized = normalizedTrainingConfig(config);
  } catch (const std::exception& error) {
    setFormError(tr("Config refused: %1").arg(QString::fromStdString(error.what())));
    return false;
  }
  loadedConfig_ = normalized;
  name_->setText(text(normalized, "/name"));
  dataPath_->setText(text(normalized, "/data/path"));
  testPath_->setText(text(normalized, "/data/test_path"));
  maxTrain_->setValue(static_cast<int>(real(normalized, "/data/max_train_images", 0)));
  maxTest_->setValue(static_cast<int>(real(normalized, "/data/max_test_images", 0)));
  selectData(architecture_, text(normalized, "/model/architecture"));
  width_->setValue(static_cast<int>(real(normalized, "/model/width", 16)));
  classCount_->setValue(static_cast<int>(real(normalized, "/model/class_count", 10)));
  selectData(regularizer_, text(normalized, "/regularizer/kind"));
  alpha_->setValue(real(normalized, "/regularizer/alpha", 20.0));
  pairBatch_->setValue(static_cast<int>(real(normalized, "/regularizer/pair_batch_size", 16)));
  selectData(targetSource_, text(normalized, "/regularizer/target/source"));
  targetFile_->setText(text(normalized, "/regularizer/target/matrix_file"));
  targetImages_->setText(text(normalized, "/regularizer/target/images/path"));
  targetSplit_->setCurrentText(text(normalized, "/regularizer/target/images/split"));
  targetMaxImages_->setValue(static_cast<int>(real(normalized, "/regularizer/target/images/max_images", 0)));
  shuffled_->setChecked(normalized.value(Pointer("/regularizer/target/shuffled"), false));
  const double threshold = real(normalized, "/regularizer/target/threshold", std::nan(""));
  thresholded_->setChecked(std::isfinite(threshold));
  threshold_->setValue(std::isfinite(threshold) ? threshold : 0.8);
  importanceMaps_->setText(text(normalized, "/regularizer/harmonization/importance_maps"));
  harmonizationWeight_->setValue(real(normalized, "/regularizer/harmonization/weight", 1.0));
  noiseSigma_->setValue(real(normalized, "/regularizer/noise_sigma", 0.1));
  epochs_->setValue(static_cast<int>(real(normalized, "/epochs", 1)));
  batchSize_->setValue(static_cast<int>(real(normalized, "/batch_size", 64)));
  selectData(optimizer_, text(normalized, "/optimizer/kind"));
  learningRate_->setValue(real(normalized, "/optimizer/learning_rate", 0.1));
  selectData(schedule_, text(normalized, "/schedule/kind"));
  selectData(batchNorm_, text(normalized, "/batch_norm"));
  std::vector<std::uint64_t> seeds = normalized.value("seeds", std::vector<std::uint64_t>{});
  if (seeds.empty()) seeds.push_back(normalized.value("seed", std::uint64_t{0}));
  QStringList seedTexts;
  for (const std::uint64_t seed : seeds) seedTexts << QString::number(seed);
  seeds_->setText(seedTexts.join(QStringLiteral(", ")));
  setFormError({});
  updateFormState();
  return true;
}

bool TrainingLaunchForm::queueLaunch() {
  if (parseSeeds(seeds_->text()).empty()) {
    setFormError(tr("Seeds: give one or more whole numbers, e.g. \"1, 2, 3\"."));
    return false;
  }
  const QString outputDir = outputDir_->text().trimmed();
  if (outputDir.isEmpty()) {
    setFormError(tr("Choose an output folder for the runs."));
    return false;
  }
  nlohmann::json config;
  std::vector<std::string> folders;
  try {
    config = normalizedTrainingConfig(configFromForm());
    folders = launchRunFolders(config, outputDir.toStdString());
  } catch (const std::exception& error) {
    setFormError(tr("Config refused: %1").arg(QString::fromStdString(error.what())));
    return false;
  }
  // A folder that already holds a run would be refused by the engine mid-launch; say so now.
  for (const std::string& folder : folders)
    if (bp::isRunFolder(folder)) {
      setFormError(tr("%1 already holds a run: change the name or the output folder, or resume it from the runs table.")
                       .arg(QString::fromStdString(folder)));
      return false;
    }
  setFormError({});
  Q_EMIT launchQueued(folders);
  const QString name = QFileInfo(QString::fromStdString(folders.front())).fileName().remove(QRegularExpression(QStringLiteral("-seed[0-9]+$")));
  TrainingLaunch launch;
  launch.title = tr("Train %1 (%n seed(s))", nullptr, static_cast<int>(folders.size())).arg(name);
  launch.workers = workers_->value();
  if (launch.workers > 1) launch.title += tr(" on %n workers", nullptr, launch.workers);
  launch.config = config;
  launch.outputDir = outputDir;
  queue_.enqueue(launch);
  return true;
}

void TrainingLaunchForm::setEngineDevice(const QString& device) {
  selectData(device_, device);
  const bp::RuntimeInfo& info = bp::runtimeInfo();
  const bool gpu = info.device == "cuda";
  deviceIndicator_->setText(gpu ? tr("● GPU (CUDA, %n device(s))", nullptr, info.cudaDeviceCount)
                                : tr("● CPU, %n thread(s)%1", nullptr, info.threads)
                                      .arg(info.cudaAvailable ? QString() : tr(" — no CUDA device")));
  deviceIndicator_->setStyleSheet(gpu ? QStringLiteral("color:#009E73;font-weight:bold")
                                      : QStringLiteral("color:#0072B2;font-weight:bold"));
}

QString TrainingLaunchForm::formError() const {
  return formError_->isHidden() ? QString() : formError_->text();
}

void TrainingLaunchForm::setFormError(const QString& message) {
  formError_->setText(message);
  formError_->setVisible(!message.isEmpty());
  if (!message.isEmpty()) bp::logWarning(message.toStdString());
}

void TrainingLaunchForm::chooseConfigToLoad() {
  const QString path = QFileDialog::getOpenFileName(this, tr("Load a training config"), {},
                                                    tr("Training configs (*.json);;All files (*)"));
  if (path.isEmpty()) return;
  try {
    applyConfig(nlohmann::json::parse(bp::readTextFile(path.toStdString())));
  } catch (const std::exception& error) {
    setFormError(tr("%1: %2").arg(path, QString::fromStdString(error.what())));
  }
}

void TrainingLaunchForm::showClusterScript() {
  nlohmann::json config;
  try {
    config = normalizedTrainingConfig(configFromForm());
  } catch (const std::exception& error) {
    setFormError(tr("Config refused: %1").arg(QString::fromStdString(error.what())));
    return;
  }
  setFormError({});
  ClusterScriptDialog dialog(config, outputDir_->text().trimmed(), this);
  dialog.exec();
}

void TrainingLaunchForm::chooseWhereToSaveConfig() {
  const QString path = QFileDialog::getSaveFileName(this, tr("Save the training config"), QStringLiteral("run.json"),
                                                    tr("Training configs (*.json)"));
  if (path.isEmpty()) return;
  try {
    bp::writeFileAtomically(path.toStdString(), normalizedTrainingConfig(configFromForm()).dump(2) + "\n");
    bp::logInfo("Saved training config " + path.toStdString() + " (brainprior-cli train --config runs it)");
  } catch (const std::exception& error) {
    setFormError(QString::fromStdString(error.what()));
  }
}

}  // namespace bp::app
