#include "app/training_panel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QCoreApplication>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QProgressBar>
#include <QPushButton>
#include <QRegularExpression>
#include <QScrollArea>
#include <QSpinBox>
#include <QSplitter>
#include <QTabWidget>
#include <QTableWidget>
#include <QTimer>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>
#include <map>
#include "widgets/custom_plot.h"

#include "app/training_queue.h"
#include "app/training_session.h"
#include "runtime/atomic_file.h"
#include "runtime/error.h"
#include "runtime/log.h"
#include "runtime/runtime.h"
#include "widgets/palette.h"
#include "widgets/plot_export.h"
#include "widgets/series_plot.h"

namespace bp::app {
namespace {

using Pointer = nlohmann::json::json_pointer;

enum RunColumn { kShowColumn, kNameColumn, kStateColumn, kRegularizerColumn, kSeedColumn, kEpochColumn,
                 kTestColumn, kValidationColumn, kMinutesColumn, kDeviceColumn, kRunColumnCount };

QString number(double value, int digits = 3) {
  return std::isfinite(value) ? QString::number(value, 'f', digits) : QStringLiteral("—");
}

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

QString regularizerLabel(const std::string& kind) {
  if (kind == "none") return QObject::tr("none (baseline)");
  if (kind == "neural_similarity") return QObject::tr("neural similarity");
  if (kind == "harmonization") return QObject::tr("harmonization");
  if (kind == "gaussian_noise_augmentation") return QObject::tr("Gaussian noise");
  return QString::fromStdString(kind);
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

struct Metric {
  const char* key;
  const char* label;
  const char* axis;
};
const Metric kMetrics[] = {
    {"test_accuracy", "Test accuracy (clean)", "accuracy"},
    {"validation_accuracy", "Validation accuracy", "accuracy"},
    {"train_accuracy", "Train accuracy", "accuracy"},
    {"total_loss", "Total loss (optimised)", "loss"},
    {"classification_loss", "Classification loss (cross-entropy)", "loss"},
    {"regularization_loss", "Regularization loss (unweighted)", "loss"},
    {"learning_rate", "Learning rate", "learning rate"},
    {"gamma", "Learned layer weights (γ)", "γ"},
};

double metricValue(const bp::ClassifierEpochReport& report, const std::string& key) {
  if (key == "test_accuracy") return report.testAccuracy;
  if (key == "validation_accuracy") return report.validationAccuracy;
  if (key == "train_accuracy") return report.trainAccuracy;
  if (key == "total_loss") return report.totalLoss;
  if (key == "classification_loss") return report.classificationLoss;
  if (key == "regularization_loss") return report.regularizationLoss;
  return report.learningRate;
}

QString tapName(std::size_t index) {
  return index == 0 ? QStringLiteral("stem") : QStringLiteral("stage %1").arg(index);
}

}  // namespace

TrainingPanel::TrainingPanel(TrainingQueue& queue, QWidget* parent) : QWidget(parent), queue_(queue) {
  buildForm();

  // The queue: what runs now, and what waits.
  auto* queueBox = new QGroupBox(tr("Queue (one launch at a time)"), this);
  auto* queueLayout = new QVBoxLayout(queueBox);
  currentLaunch_ = new QLabel(tr("Nothing running"), queueBox);
  currentLaunch_->setWordWrap(true);
  progress_ = new QProgressBar(queueBox);
  progress_->setRange(0, 1000);
  progress_->setTextVisible(false);
  cancelButton_ = new QPushButton(tr("Cancel (keeps the last complete epoch)"), queueBox);
  queueList_ = new QListWidget(queueBox);
  queueList_->setMaximumHeight(44);
  auto* removeButton = new QPushButton(tr("Remove from queue"), queueBox);
  progress_->setMaximumWidth(260);
  auto* currentRow = new QHBoxLayout;
  currentRow->addWidget(currentLaunch_, 1);
  currentRow->addWidget(progress_);
  currentRow->addWidget(cancelButton_);
  queueLayout->addLayout(currentRow);
  auto* waitingRow = new QHBoxLayout;
  waitingRow->addWidget(queueList_, 1);
  waitingRow->addWidget(removeButton, 0, Qt::AlignTop);
  queueLayout->addLayout(waitingRow);
  connect(cancelButton_, &QPushButton::clicked, &queue_, &TrainingQueue::cancelCurrent);
  connect(removeButton, &QPushButton::clicked, this, [this] { queue_.removeWaiting(queueList_->currentRow()); });

  // The registry of runs in the folder.
  auto* runsBox = new QGroupBox(tr("Runs"), this);
  auto* runsLayout = new QVBoxLayout(runsBox);
  runsFolderLabel_ = new QLabel(runsBox);
  runsFolderLabel_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  auto* openFolderButton = new QPushButton(tr("Open runs folder…"), runsBox);
  auto* refreshButton = new QPushButton(tr("Refresh"), runsBox);
  regularizerFilter_ = new QComboBox(runsBox);
  regularizerFilter_->addItem(tr("every regularizer"), QString());
  for (const char* kind : {"none", "neural_similarity", "harmonization", "gaussian_noise_augmentation"})
    regularizerFilter_->addItem(regularizerLabel(kind), QString::fromLatin1(kind));
  stateFilter_ = new QComboBox(runsBox);
  stateFilter_->addItem(tr("every state"), QVariant());
  for (const bp::RunState state : {bp::RunState::Running, bp::RunState::Finished, bp::RunState::Interrupted,
                                   bp::RunState::Cancelled, bp::RunState::Failed})
    stateFilter_->addItem(QString::fromLatin1(bp::runStateName(state)), static_cast<int>(state));
  auto* folderRow = new QHBoxLayout;
  folderRow->addWidget(runsFolderLabel_, 1);
  folderRow->addWidget(regularizerFilter_);
  folderRow->addWidget(stateFilter_);
  folderRow->addWidget(refreshButton);
  folderRow->addWidget(openFolderButton);
  runsLayout->addLayout(folderRow);
  runsTable_ = new QTableWidget(0, kRunColumnCount, runsBox);
  runsTable_->setHorizontalHeaderLabels({tr("Show"), tr("Run"), tr("State"), tr("Regularizer"), tr("Seed"),
                                         tr("Epoch"), tr("Test acc."), tr("Val. acc."), tr("Minutes"), tr("Device")});
  runsTable_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  runsTable_->horizontalHeader()->setSectionResizeMode(kNameColumn, QHeaderView::Stretch);
  runsTable_->verticalHeader()->hide();
  runsTable_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  runsTable_->setSelectionBehavior(QAbstractItemView::SelectRows);
  runsTable_->setSelectionMode(QAbstractItemView::SingleSelection);
  runsTable_->setMinimumHeight(120);
  runsLayout->addWidget(runsTable_, 1);
  auto* runButtons = new QHBoxLayout;
  auto* resumeButton = new QPushButton(tr("Resume selected run"), runsBox);
  resumeButton->setToolTip(tr("Continue an interrupted, cancelled or failed run from its last complete epoch"));
  auto* loadRunConfigButton = new QPushButton(tr("Load its config into the form"), runsBox);
  auto* showAllButton = new QPushButton(tr("Show all"), runsBox);
  auto* hideAllButton = new QPushButton(tr("Hide all"), runsBox);
  runButtons->addWidget(resumeButton);
  runButtons->addWidget(loadRunConfigButton);
  runButtons->addStretch(1);
  runButtons->addWidget(showAllButton);
  runButtons->addWidget(hideAllButton);
  runsLayout->addLayout(runButtons);
  connect(openFolderButton, &QPushButton::clicked, this, &TrainingPanel::chooseRunsFolder);
  connect(refreshButton, &QPushButton::clicked, this, &TrainingPanel::refreshRuns);
  connect(regularizerFilter_, &QComboBox::currentIndexChanged, this, &TrainingPanel::fillRunsTable);
  connect(stateFilter_, &QComboBox::currentIndexChanged, this, &TrainingPanel::fillRunsTable);
  connect(resumeButton, &QPushButton::clicked, this, &TrainingPanel::resumeSelectedRun);
  connect(loadRunConfigButton, &QPushButton::clicked, this, [this] {
    const int run = selectedRun();
    if (run >= 0 && runs_[static_cast<std::size_t>(run)].summary.contains("config"))
      applyConfig(runs_[static_cast<std::size_t>(run)].summary.at("config"));
  });
  connect(showAllButton, &QPushButton::clicked, this, [this] {
    hiddenRuns_.clear();
    fillRunsTable();
  });
  connect(hideAllButton, &QPushButton::clicked, this, [this] {
    for (const auto& run : runs_) hiddenRuns_.insert(QString::fromStdString(run.folder.string()));
    fillRunsTable();
  });
  connect(runsTable_, &QTableWidget::itemChanged, this, [this](QTableWidgetItem* item) {
    if (filling_ || item->column() != kShowColumn) return;
    const QString folder = item->data(Qt::UserRole).toString();
    if (item->checkState() == Qt::Checked)
      hiddenRuns_.remove(folder);
    else
      hiddenRuns_.insert(folder);
    redrawCurves();
  });

  // Curves, overlaid; launches side by side.
  auto* views = new QTabWidget(this);
  auto* curvesPage = new QWidget(views);
  auto* curvesLayout = new QVBoxLayout(curvesPage);
  auto* curveControls = new QHBoxLayout;
  metric_ = new QComboBox(curvesPage);
  for (const Metric& metric : kMetrics) metric_->addItem(tr(metric.label), QString::fromLatin1(metric.key));
  auto* exportButton = new QPushButton(tr("Export figure…"), curvesPage);
  curveControls->addWidget(new QLabel(tr("Show"), curvesPage));
  curveControls->addWidget(metric_, 1);
  curveControls->addWidget(exportButton);
  curvesLayout->addLayout(curveControls);
  curves_ = new bp::widgets::SeriesPlot(curvesPage);
  curves_->setMinimumHeight(220);
  curvesLayout->addWidget(curves_, 1);
  views->addTab(curvesPage, tr("Curves"));
  comparison_ = new QTableWidget(0, 8, views);
  comparison_->setHorizontalHeaderLabels({tr("Launch"), tr("Regularizer"), tr("Target"), tr("Seeds"),
                                          tr("Test acc. mean ± sd"), tr("Range"), tr("Δ vs baseline"),
                                          tr("Minutes / run")});
  comparison_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  comparison_->horizontalHeader()->setStretchLastSection(true);
  comparison_->verticalHeader()->hide();
  comparison_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  views->addTab(comparison_, tr("Side by side"));
  connect(metric_, &QComboBox::currentIndexChanged, this, &TrainingPanel::redrawCurves);
  connect(exportButton, &QPushButton::clicked, this, &TrainingPanel::exportCurves);

  // The queue keeps the height of its content; the runs and their curves share the rest.
  auto* runsAndViews = new QSplitter(Qt::Vertical, this);
  runsAndViews->addWidget(runsBox);
  runsAndViews->addWidget(views);
  runsAndViews->setStretchFactor(0, 2);
  runsAndViews->setStretchFactor(1, 3);
  auto* right = new QWidget(this);
  auto* rightLayout = new QVBoxLayout(right);
  rightLayout->setContentsMargins(0, 0, 0, 0);
  rightLayout->addWidget(queueBox);
  rightLayout->addWidget(runsAndViews, 1);

  auto* formScroll = findChild<QScrollArea*>(QStringLiteral("launcherScroll"));
  auto* splitter = new QSplitter(Qt::Horizontal, this);
  splitter->addWidget(formScroll);
  splitter->addWidget(right);
  splitter->setStretchFactor(1, 1);
  auto* layout = new QHBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  layout->addWidget(splitter);

  connect(&queue_, &TrainingQueue::changed, this, &TrainingPanel::showQueue);
  connect(&queue_, &TrainingQueue::epochReported, this, &TrainingPanel::onEpoch);
  connect(&queue_, &TrainingQueue::launchStarted, this, [this](const QString&, const QString& outputDir) {
    if (QDir(outputDir).absolutePath() != QDir(runsFolder_).absolutePath()) setRunsFolder(outputDir);
    // The first run folder appears once the worker has written its summary.
    QTimer::singleShot(500, this, &TrainingPanel::refreshRuns);
  });
  connect(&queue_, &TrainingQueue::launchFinished, this, [this] { refreshRuns(); });
  // Runs launched by another process (the CLI, another window) show their progress too; this
  // process's own runs arrive through epochReported, so they never cause a re-read.
  poll_ = new QTimer(this);
  poll_->setInterval(3000);
  connect(poll_, &QTimer::timeout, this, [this] {
    const qint64 self = QCoreApplication::applicationPid();
    if (std::any_of(runs_.begin(), runs_.end(), [self](const bp::RunRecord& run) {
          return run.state == bp::RunState::Running && run.summary.value("pid", qint64{0}) != self;
        }))
      refreshRuns();
  });
  poll_->start();

  applyConfig(defaultTrainingConfig());
  setEngineDevice(QStringLiteral("auto"));
  setRunsFolder(outputDir_->text());
  showQueue();
}

void TrainingPanel::buildForm() {
  auto* formWidget = new QWidget(this);
  auto* formLayout = new QVBoxLayout(formWidget);
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
  formLayout->addLayout(buttons);
  formError_ = new QLabel(formWidget);
  formError_->setWordWrap(true);
  formError_->setStyleSheet(QStringLiteral("color:#c00000"));
  formError_->hide();
  formLayout->addWidget(formError_);
  formLayout->addStretch(1);

  connect(queueButton, &QPushButton::clicked, this, &TrainingPanel::queueLaunch);
  connect(loadButton, &QPushButton::clicked, this, &TrainingPanel::chooseConfigToLoad);
  connect(saveButton, &QPushButton::clicked, this, &TrainingPanel::chooseWhereToSaveConfig);
  connect(defaultsButton, &QPushButton::clicked, this, [this] { applyConfig(defaultTrainingConfig()); });
  connect(regularizer_, &QComboBox::currentIndexChanged, this, &TrainingPanel::updateFormState);
  connect(targetSource_, &QComboBox::currentIndexChanged, this, &TrainingPanel::updateFormState);
  connect(architecture_, &QComboBox::currentIndexChanged, this, &TrainingPanel::updateFormState);
  connect(thresholded_, &QCheckBox::toggled, this, &TrainingPanel::updateFormState);
  connect(device_, &QComboBox::activated, this, [this] { Q_EMIT deviceRequested(device_->currentData().toString()); });
  connect(outputDir_, &QLineEdit::editingFinished, this, [this] { setRunsFolder(outputDir_->text()); });

  auto* scroll = new QScrollArea(this);
  scroll->setObjectName(QStringLiteral("launcherScroll"));
  scroll->setWidget(formWidget);
  scroll->setWidgetResizable(true);
  scroll->setMinimumWidth(formWidget->sizeHint().width() + 24);
}

void TrainingPanel::updateFormState() {
  const QString kind = regularizer_->currentData().toString();
  const bool similarity = kind == QLatin1String("neural_similarity");
  for (QWidget* widget : similarityRows_) widget->setEnabled(similarity);
  for (QWidget* widget : matrixRows_)
    widget->setEnabled(similarity && targetSource_->currentData().toString() == QLatin1String("matrix_file"));
  for (QWidget* widget : harmonizationRows_) widget->setEnabled(kind == QLatin1String("harmonization"));
  for (QWidget* widget : noiseRows_) widget->setEnabled(kind == QLatin1String("gaussian_noise_augmentation"));
  threshold_->setEnabled(similarity && thresholded_->isChecked());
  width_->setEnabled(architecture_->currentData().toString() == QLatin1String("small_resnet"));
}

nlohmann::json TrainingPanel::configFromForm() const {
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
  const std::vector<std::uint64_t> seeds = parseSeeds(seeds_->text());
  set("/seeds", seeds);
  if (!seeds.empty()) set("/seed", seeds.front());
  return config;
}

bool TrainingPanel::applyConfig(const nlohmann::json& config) {
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
  std::vector<std::uint64_t> seeds = normalized.value("seeds", std::vector<std::uint64_t>{});
  if (seeds.empty()) seeds.push_back(normalized.value("seed", std::uint64_t{0}));
  QStringList seedTexts;
  for (const std::uint64_t seed : seeds) seedTexts << QString::number(seed);
  seeds_->setText(seedTexts.join(QStringLiteral(", ")));
  setFormError({});
  updateFormState();
  return true;
}

bool TrainingPanel::queueLaunch() {
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
  for (const std::string& folder : folders) hiddenRuns_.remove(QString::fromStdString(folder));
  const QString name = QFileInfo(QString::fromStdString(folders.front())).fileName().remove(QRegularExpression(QStringLiteral("-seed[0-9]+$")));
  TrainingLaunch launch;
  launch.title = tr("Train %1 (%n seed(s))", nullptr, static_cast<int>(folders.size())).arg(name);
  launch.config = config;
  launch.outputDir = outputDir;
  queue_.enqueue(launch);
  return true;
}

bool TrainingPanel::resumeSelectedRun() {
  const int run = selectedRun();
  if (run < 0) return false;
  const bp::RunRecord& record = runs_[static_cast<std::size_t>(run)];
  if (record.state == bp::RunState::Running || record.state == bp::RunState::Finished ||
      !record.summary.contains("config")) {
    setFormError(tr("%1 is %2: only interrupted, cancelled or failed runs resume.")
                     .arg(QString::fromStdString(record.name), QString::fromLatin1(bp::runStateName(record.state))));
    return false;
  }
  setFormError({});
  TrainingLaunch launch;
  launch.title = tr("Resume %1").arg(QString::fromStdString(record.name));
  launch.config = record.summary.at("config");
  launch.outputDir = QString::fromStdString(record.folder.parent_path().string());
  launch.resume = true;
  queue_.enqueue(launch);
  return true;
}

void TrainingPanel::setRunsFolder(const QString& folder) {
  runsFolder_ = QDir(folder).absolutePath();
  if (outputDir_->text() != folder) outputDir_->setText(folder);
  refreshRuns();
}

void TrainingPanel::refreshRuns() {
  runsFolderLabel_->setText(runsFolder_);
  runs_.clear();
  if (QFileInfo(runsFolder_).isDir()) {
    try {
      runs_ = bp::listRuns(runsFolder_.toStdString());
    } catch (const std::exception& error) {
      bp::logWarning(std::string("Runs: ") + error.what());
    }
  }
  fillRunsTable();
}

void TrainingPanel::setEngineDevice(const QString& device) {
  selectData(device_, device);
  const bp::RuntimeInfo& info = bp::runtimeInfo();
  const bool gpu = info.device == "cuda";
  deviceIndicator_->setText(gpu ? tr("● GPU (CUDA, %n device(s))", nullptr, info.cudaDeviceCount)
                                : tr("● CPU, %n thread(s)%1", nullptr, info.threads)
                                      .arg(info.cudaAvailable ? QString() : tr(" — no CUDA device")));
  deviceIndicator_->setStyleSheet(gpu ? QStringLiteral("color:#009E73;font-weight:bold")
                                      : QStringLiteral("color:#0072B2;font-weight:bold"));
}

QString TrainingPanel::formError() const {
  return formError_->isHidden() ? QString() : formError_->text();
}

void TrainingPanel::setFormError(const QString& message) {
  formError_->setText(message);
  formError_->setVisible(!message.isEmpty());
  if (!message.isEmpty()) bp::logWarning(message.toStdString());
}

void TrainingPanel::chooseConfigToLoad() {
  const QString path = QFileDialog::getOpenFileName(this, tr("Load a training config"), {},
                                                    tr("Training configs (*.json);;All files (*)"));
  if (path.isEmpty()) return;
  try {
    applyConfig(nlohmann::json::parse(bp::readTextFile(path.toStdString())));
  } catch (const std::exception& error) {
    setFormError(tr("%1: %2").arg(path, QString::fromStdString(error.what())));
  }
}

void TrainingPanel::chooseWhereToSaveConfig() {
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

void TrainingPanel::chooseRunsFolder() {
  const QString folder = QFileDialog::getExistingDirectory(this, tr("Open a folder of runs"), runsFolder_);
  if (!folder.isEmpty()) setRunsFolder(folder);
}

void TrainingPanel::showQueue() {
  const auto& current = queue_.current();
  currentLaunch_->setText(current ? tr("Running: %1 — %2").arg(current->title, queue_.progressMessage())
                                  : tr("Nothing running"));
  progress_->setValue(current ? static_cast<int>(queue_.progress() * 1000) : 0);
  cancelButton_->setEnabled(current.has_value());
  device_->setEnabled(!current.has_value());
  queueList_->clear();
  for (const TrainingLaunch& launch : queue_.waiting()) queueList_->addItem(tr("Waiting: %1").arg(launch.title));
}

void TrainingPanel::onEpoch(const QString& runFolder, const bp::ClassifierEpochReport& report) {
  const std::filesystem::path folder = runFolder.toStdString();
  auto found = std::find_if(runs_.begin(), runs_.end(), [&](const bp::RunRecord& run) { return run.folder == folder; });
  if (found == runs_.end()) {
    // A run of another folder than the one shown: the registry shows it once its folder is opened.
    if (QDir(QString::fromStdString(folder.parent_path().string())).absolutePath() == runsFolder_) refreshRuns();
    return;
  }
  if (!found->history.empty() && found->history.back().epoch >= report.epoch) return;
  found->history.push_back(report);
  found->state = bp::RunState::Running;
  found->epochsDone = report.epoch;
  found->testAccuracy = report.testAccuracy;
  found->validationAccuracy = report.validationAccuracy;
  found->seconds = report.totalSeconds;
  fillRunsTable();
}

int TrainingPanel::selectedRun() const {
  const int row = runsTable_->currentRow();
  if (row < 0) return -1;
  const QTableWidgetItem* item = runsTable_->item(row, kNameColumn);
  return item ? item->data(Qt::UserRole).toInt() : -1;
}

bool TrainingPanel::runShown(const bp::RunRecord& run) const {
  const QString regularizer = regularizerFilter_->currentData().toString();
  const QVariant state = stateFilter_->currentData();  // invalid: every state
  return (regularizer.isEmpty() || regularizer.toStdString() == run.regularizer) &&
         (!state.isValid() || static_cast<bp::RunState>(state.toInt()) == run.state);
}

void TrainingPanel::fillRunsTable() {
  // The selection follows its run across a refresh (row numbers change when runs appear).
  const QTableWidgetItem* selectedItem = runsTable_->currentRow() >= 0 ? runsTable_->item(runsTable_->currentRow(), kShowColumn) : nullptr;
  const QString selectedFolder = selectedItem ? selectedItem->data(Qt::UserRole).toString() : QString();
  filling_ = true;
  runsTable_->setRowCount(0);
  for (std::size_t i = 0; i < runs_.size(); ++i) {
    const bp::RunRecord& run = runs_[i];
    if (!runShown(run)) continue;
    const int row = runsTable_->rowCount();
    runsTable_->insertRow(row);
    const QString folder = QString::fromStdString(run.folder.string());
    auto* show = new QTableWidgetItem;
    show->setFlags(Qt::ItemIsUserCheckable | Qt::ItemIsEnabled | Qt::ItemIsSelectable);
    show->setCheckState(hiddenRuns_.contains(folder) ? Qt::Unchecked : Qt::Checked);
    show->setData(Qt::UserRole, folder);
    runsTable_->setItem(row, kShowColumn, show);
    auto* name = new QTableWidgetItem(QString::fromStdString(run.name));
    name->setData(Qt::UserRole, static_cast<int>(i));
    name->setToolTip(run.error.empty() ? folder : QString::fromStdString(run.error));
    runsTable_->setItem(row, kNameColumn, name);
    auto* state = new QTableWidgetItem(QString::fromLatin1(bp::runStateName(run.state)));
    if (run.state == bp::RunState::Failed || run.state == bp::RunState::Unreadable)
      state->setForeground(QColor(0xC0, 0, 0));
    if (run.state == bp::RunState::Running) state->setForeground(QColor(0, 0x72, 0xB2));
    state->setToolTip(QString::fromStdString(run.error));
    runsTable_->setItem(row, kStateColumn, state);
    runsTable_->setItem(row, kRegularizerColumn, new QTableWidgetItem(regularizerLabel(run.regularizer)));
    runsTable_->setItem(row, kSeedColumn, new QTableWidgetItem(QString::number(run.seed)));
    runsTable_->setItem(row, kEpochColumn, new QTableWidgetItem(QStringLiteral("%1 / %2").arg(run.epochsDone).arg(run.epochs)));
    runsTable_->setItem(row, kTestColumn, new QTableWidgetItem(number(run.testAccuracy)));
    runsTable_->setItem(row, kValidationColumn, new QTableWidgetItem(number(run.validationAccuracy)));
    runsTable_->setItem(row, kMinutesColumn, new QTableWidgetItem(number(run.seconds / 60.0, 1)));
    runsTable_->setItem(row, kDeviceColumn, new QTableWidgetItem(QString::fromStdString(run.device).toUpper()));
    if (folder == selectedFolder) runsTable_->setCurrentCell(row, kNameColumn);
  }
  filling_ = false;
  fillComparison();
  redrawCurves();
}

void TrainingPanel::fillComparison() {
  std::vector<bp::RunRecord> shown;
  for (const auto& run : runs_)
    if (runShown(run)) shown.push_back(run);
  const std::vector<bp::RunGroup> groups = bp::compareRuns(shown);
  // The baseline a regularizer is judged against: the first launch without one.
  double baseline = std::nan("");
  for (const auto& group : groups)
    if (group.regularizer == "none" && std::isfinite(group.meanTestAccuracy)) {
      baseline = group.meanTestAccuracy;
      break;
    }
  comparison_->setRowCount(static_cast<int>(groups.size()));
  for (int row = 0; row < static_cast<int>(groups.size()); ++row) {
    const bp::RunGroup& group = groups[static_cast<std::size_t>(row)];
    QStringList seeds;
    for (const std::uint64_t seed : group.finishedSeeds) seeds << QString::number(seed);
    const QString spread = std::isfinite(group.sdTestAccuracy) ? QStringLiteral(" ± %1").arg(number(group.sdTestAccuracy)) : QString();
    const double delta = group.meanTestAccuracy - baseline;
    const QStringList cells = {
        QString::fromStdString(group.name),
        regularizerLabel(group.regularizer),
        QString::fromStdString(group.target),
        tr("%1 of %2 finished%3").arg(group.finished).arg(group.runs).arg(seeds.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(seeds.join(QStringLiteral(", ")))),
        number(group.meanTestAccuracy) + spread,
        group.finished > 0 ? QStringLiteral("%1 – %2").arg(number(group.minTestAccuracy), number(group.maxTestAccuracy)) : QStringLiteral("—"),
        std::isfinite(delta) && group.regularizer != "none" ? QStringLiteral("%1%2").arg(delta >= 0 ? QStringLiteral("+") : QString(), number(delta)) : QStringLiteral("—"),
        number(group.meanSeconds / 60.0, 1)};
    for (int column = 0; column < cells.size(); ++column) {
      auto* item = new QTableWidgetItem(cells[column]);
      item->setForeground(bp::widgets::palette::seriesColor(row));
      comparison_->setItem(row, column, item);
    }
  }
}

void TrainingPanel::redrawCurves() {
  const std::string key = metric_->currentData().toString().toStdString();
  const bool gamma = key == "gamma";
  curves_->clear();
  // One colour per launch, so baseline, brain-regularized and control runs read apart at a glance;
  // seeds of a launch share it.
  std::map<std::string, int> groupColor;
  for (const auto& run : runs_) groupColor.emplace(run.group, static_cast<int>(groupColor.size()));
  for (const auto& run : runs_) {
    if (!runShown(run) || hiddenRuns_.contains(QString::fromStdString(run.folder.string())) || run.history.empty())
      continue;
    const QColor color = bp::widgets::palette::seriesColor(groupColor[run.group]);
    if (gamma) {
      const std::size_t taps = run.history.back().gamma.size();
      for (std::size_t tap = 0; tap < taps; ++tap) {
        QVector<double> x, y;
        for (const auto& report : run.history)
          if (tap < report.gamma.size()) {
            x << report.epoch;
            y << report.gamma[tap];
          }
        // Later taps darker: the same launch colour, told apart by shade.
        curves_->addLine(QStringLiteral("%1 · %2").arg(QString::fromStdString(run.name), tapName(tap)), x, y,
                         color.darker(100 + static_cast<int>(tap) * 35));
      }
      continue;
    }
    QVector<double> x, y;
    for (const auto& report : run.history) {
      const double value = metricValue(report, key);
      if (!std::isfinite(value)) continue;
      x << report.epoch;
      y << value;
    }
    if (!x.isEmpty()) curves_->addLine(QString::fromStdString(run.name), x, y, color);
  }
  const Metric& metric = kMetrics[std::max(0, metric_->currentIndex())];
  curves_->setLabels(tr(metric.label), tr("epoch"), tr(metric.axis));
  curves_->setLegendVisible(curves_->seriesCount() > 0 && curves_->seriesCount() <= 12);
  curves_->rescale();
}

void TrainingPanel::exportCurves() {
  const QString path = QFileDialog::getSaveFileName(this, tr("Export figure"), QStringLiteral("training-curves.pdf"),
                                                    tr("PDF (*.pdf);;SVG (*.svg);;PNG (*.png)"));
  if (path.isEmpty()) return;
  QString error;
  if (bp::widgets::exportPlot(curves_->plot(), path, &error))
    bp::logInfo("Exported figure " + path.toStdString());
  else
    bp::log(bp::LogLevel::Error, "Could not export the figure: " + error.toStdString());
}

}  // namespace bp::app
