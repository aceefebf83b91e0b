#include "app/training_runs_view.h"

#include <QComboBox>
#include <QCoreApplication>
#include <QDir>
#include <QFileDialog>
#include <QFontMetrics>
#include <QFileInfo>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QListWidget>
#include <QProgressBar>
#include <QPushButton>
#include <QSplitter>
#include <QTabWidget>
#include <QTableWidget>
#include <QTimer>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>
#include <map>
#include "widgets/custom_plot.h"

#include "app/training_launch_form.h"
#include "app/training_queue.h"
#include "app/training_session.h"
#include "app/workspace.h"
#include "runtime/log.h"
#include "widgets/palette.h"
#include "widgets/plot_export.h"
#include "widgets/series_plot.h"

namespace bp::app {
namespace {

enum RunColumn { kShowColumn, kNameColumn, kStateColumn, kRegularizerColumn, kSeedColumn, kEpochColumn,
                 kTestColumn, kValidationColumn, kMinutesColumn, kDeviceColumn, kRunColumnCount };
// The side-by-side table's target column.
constexpr int kComparisonTargetColumn = 2;

QString number(double value, int digits = 3) {
  return std::isfinite(value) ? QString::number(value, 'f', digits) : QStringLiteral("—");
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

TrainingRunsView::TrainingRunsView(Workspace& workspace, TrainingQueue& queue, QWidget* parent)
    : QWidget(parent), workspace_(workspace), queue_(queue), exportJobs_(this) {
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
  runsTable_->setMinimumHeight(80);
  runsLayout->addWidget(runsTable_, 1);
  message_ = new QLabel(runsBox);
  message_->setWordWrap(true);
  message_->hide();
  runsLayout->addWidget(message_);
  auto* runButtons = new QHBoxLayout;
  auto* resumeButton = new QPushButton(tr("Resume selected run"), runsBox);
  resumeButton->setToolTip(tr("Continue an interrupted, cancelled or failed run from its last complete epoch"));
  auto* loadRunConfigButton = new QPushButton(tr("Load its config into the form"), runsBox);
  auto* showAllButton = new QPushButton(tr("Show all"), runsBox);
  auto* hideAllButton = new QPushButton(tr("Hide all"), runsBox);
  auto* exportRunButton = new QPushButton(tr("Export for Python…"), runsBox);
  exportRunButton->setObjectName("exportRun");
  exportRunButton->setToolTip(tr("The selected run's classifier as a state_dict that torch.load reads (ResNet18/34 with "
                              "torchvision's names), with its config and normalisation beside it"));
  runButtons->addWidget(resumeButton);
  runButtons->addWidget(loadRunConfigButton);
  runButtons->addWidget(exportRunButton);
  runButtons->addStretch(1);
  runButtons->addWidget(showAllButton);
  runButtons->addWidget(hideAllButton);
  runsLayout->addLayout(runButtons);
  connect(openFolderButton, &QPushButton::clicked, this, &TrainingRunsView::chooseRunsFolder);
  connect(refreshButton, &QPushButton::clicked, this, &TrainingRunsView::refreshRuns);
  connect(regularizerFilter_, &QComboBox::currentIndexChanged, this, &TrainingRunsView::fillRunsTable);
  connect(stateFilter_, &QComboBox::currentIndexChanged, this, &TrainingRunsView::fillRunsTable);
  connect(resumeButton, &QPushButton::clicked, this, &TrainingRunsView::resumeSelectedRun);
  connect(exportRunButton, &QPushButton::clicked, this, &TrainingRunsView::chooseExportFile);
  connect(&exportJobs_, &JobRunner::jobFinished, this, [this](int, const QString&, bool, const QString& error) {
    if (!error.isEmpty()) setMessage(tr("The export failed: %1").arg(error));
  });
  connect(loadRunConfigButton, &QPushButton::clicked, this, [this] {
    const int run = selectedRun();
    if (run >= 0 && runs_[static_cast<std::size_t>(run)].summary.contains("config"))
      Q_EMIT configRequested(runs_[static_cast<std::size_t>(run)].summary.at("config"));
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
  curves_->setMinimumHeight(140);
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
  connect(metric_, &QComboBox::currentIndexChanged, this, &TrainingRunsView::redrawCurves);
  connect(exportButton, &QPushButton::clicked, this, &TrainingRunsView::exportCurves);

  // The queue keeps the height of its content; the runs and their curves share the rest.
  auto* runsAndViews = new QSplitter(Qt::Vertical, this);
  runsAndViews->addWidget(runsBox);
  runsAndViews->addWidget(views);
  runsAndViews->setStretchFactor(0, 2);
  runsAndViews->setStretchFactor(1, 3);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(queueBox);
  layout->addWidget(runsAndViews, 1);

  connect(&queue_, &TrainingQueue::changed, this, &TrainingRunsView::showQueue);
  connect(&queue_, &TrainingQueue::epochReported, this, &TrainingRunsView::onEpoch);
  connect(&queue_, &TrainingQueue::launchStarted, this, [this](const QString&, const QString& outputDir) {
    workspace_.setRunsFolder(outputDir);
    // The first run folder appears once the worker has written its summary.
    QTimer::singleShot(500, this, &TrainingRunsView::refreshRuns);
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

  connect(&workspace_, &Workspace::runsFolderChanged, this, &TrainingRunsView::refreshRuns);
  refreshRuns();
  showQueue();
}

bool TrainingRunsView::resumeSelectedRun() {
  const int run = selectedRun();
  if (run < 0) return false;
  const bp::RunRecord& record = runs_[static_cast<std::size_t>(run)];
  if (record.state == bp::RunState::Running || record.state == bp::RunState::Finished ||
      !record.summary.contains("config")) {
    setMessage(tr("%1 is %2: only interrupted, cancelled or failed runs resume.")
                     .arg(QString::fromStdString(record.name), QString::fromLatin1(bp::runStateName(record.state))));
    return false;
  }
  setMessage({});
  TrainingLaunch launch;
  launch.title = tr("Resume %1").arg(QString::fromStdString(record.name));
  launch.config = record.summary.at("config");
  launch.outputDir = QString::fromStdString(record.folder.parent_path().string());
  launch.resume = true;
  queue_.enqueue(launch);
  return true;
}

void TrainingRunsView::chooseExportFile() {
  const int run = selectedRun();
  if (run < 0) {
    setMessage(tr("Select a finished run to export."));
    return;
  }
  const bp::RunRecord& record = runs_[static_cast<std::size_t>(run)];
  const QString file = QFileDialog::getSaveFileName(
      this, tr("Export %1 for Python").arg(QString::fromStdString(record.name)),
      QString::fromStdString((record.folder.parent_path() / (record.name + ".pth")).string()),
      tr("PyTorch state_dict (*.pth *.pt)"));
  if (!file.isEmpty()) exportSelectedRun(file);
}

bool TrainingRunsView::exportSelectedRun(const QString& file) {
  const int run = selectedRun();
  if (run < 0 || runs_[static_cast<std::size_t>(run)].state != bp::RunState::Finished) {
    setMessage(tr("Select a finished run to export."));
    return false;
  }
  const std::string folder = runs_[static_cast<std::size_t>(run)].folder.string();
  const std::string target = file.toStdString();
  exportJobs_.run<std::string>(
      tr("Exporting %1 for Python").arg(QFileInfo(file).fileName()),
      [folder, target](const bp::Job&) { return exportRunForPython(folder, target); },
      [this, file](std::string& python) {
        setMessage(tr("Exported to %1; Python loads it with the lines in %1.json (\"python\").").arg(file), false);
        Q_EMIT runExported(file, QString::fromStdString(python));
      });
  return true;
}

void TrainingRunsView::refreshRuns() {
  const QString folder = workspace_.runsFolder();
  runsFolderLabel_->setText(folder);
  runs_.clear();
  if (QFileInfo(folder).isDir()) {
    try {
      runs_ = bp::listRuns(folder.toStdString());
    } catch (const std::exception& error) {
      bp::logWarning(std::string("Runs: ") + error.what());
    }
  }
  fillRunsTable();
}

void TrainingRunsView::chooseRunsFolder() {
  const QString folder = QFileDialog::getExistingDirectory(this, tr("Open a folder of runs"), workspace_.runsFolder());
  if (!folder.isEmpty()) workspace_.setRunsFolder(folder);
}

void TrainingRunsView::showQueue() {
  const auto& current = queue_.current();
  currentLaunch_->setText(current ? tr("Running: %1 — %2").arg(current->title, queue_.progressMessage())
                                  : tr("Nothing running"));
  progress_->setValue(current ? static_cast<int>(queue_.progress() * 1000) : 0);
  cancelButton_->setEnabled(current.has_value());
  queueList_->clear();
  for (const TrainingLaunch& launch : queue_.waiting()) queueList_->addItem(tr("Waiting: %1").arg(launch.title));
}

void TrainingRunsView::onEpoch(const QString& runFolder, const bp::ClassifierEpochReport& report) {
  const std::filesystem::path folder = runFolder.toStdString();
  auto found = std::find_if(runs_.begin(), runs_.end(), [&](const bp::RunRecord& run) { return run.folder == folder; });
  if (found == runs_.end()) {
    // A run of another folder than the one shown: the registry shows it once its folder is opened.
    if (QDir(QString::fromStdString(folder.parent_path().string())).absolutePath() == workspace_.runsFolder()) refreshRuns();
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

int TrainingRunsView::selectedRun() const {
  const int row = runsTable_->currentRow();
  if (row < 0) return -1;
  const QTableWidgetItem* item = runsTable_->item(row, kNameColumn);
  return item ? item->data(Qt::UserRole).toInt() : -1;
}

bool TrainingRunsView::runShown(const bp::RunRecord& run) const {
  const QString regularizer = regularizerFilter_->currentData().toString();
  const QVariant state = stateFilter_->currentData();  // invalid: every state
  return (regularizer.isEmpty() || regularizer.toStdString() == run.regularizer) &&
         (!state.isValid() || static_cast<bp::RunState>(state.toInt()) == run.state);
}

void TrainingRunsView::fillRunsTable() {
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
    runsTable_->setItem(row, kRegularizerColumn, new QTableWidgetItem(regularizerLabel(run.regularizer, run.control)));
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

void TrainingRunsView::fillComparison() {
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
        regularizerLabel(group.regularizer, group.control),
        QString::fromStdString(group.target),
        tr("%1 of %2 finished%3").arg(group.finished).arg(group.runs).arg(seeds.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(seeds.join(QStringLiteral(", ")))),
        number(group.meanTestAccuracy) + spread,
        group.finished > 0 ? QStringLiteral("%1 – %2").arg(number(group.minTestAccuracy), number(group.maxTestAccuracy)) : QStringLiteral("—"),
        std::isfinite(delta) && group.regularizer != "none" ? QStringLiteral("%1%2").arg(delta >= 0 ? QStringLiteral("+") : QString(), number(delta)) : QStringLiteral("—"),
        number(group.meanSeconds / 60.0, 1)};
    for (int column = 0; column < cells.size(); ++column) {
      auto* item = new QTableWidgetItem(cells[column]);
      item->setForeground(bp::widgets::palette::seriesColor(row));
      // A target names its matrix file and image folder: whole, it widened the table past a laptop's
      // screen. Elided in the middle (both ends say the most), whole in the tooltip.
      if (column == kComparisonTargetColumn) {
        const QFontMetrics metrics(comparison_->font());
        item->setText(metrics.elidedText(cells[column], Qt::ElideMiddle, metrics.averageCharWidth() * 36));
        item->setToolTip(cells[column]);
        // A saturated target makes the launch's figures no finding about the brain's similarity.
        if (!group.targetWarning.empty()) {
          item->setText(QStringLiteral("⚠ ") + item->text());
          item->setForeground(bp::widgets::palette::warning());
          item->setToolTip(cells[column] + QStringLiteral("\n\n⚠ ") + QString::fromStdString(group.targetWarning));
        }
      }
      comparison_->setItem(row, column, item);
    }
  }
}

void TrainingRunsView::redrawCurves() {
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

void TrainingRunsView::exportCurves() {
  const QString path = QFileDialog::getSaveFileName(this, tr("Export figure"), QStringLiteral("training-curves.pdf"),
                                                    tr("PDF (*.pdf);;SVG (*.svg);;PNG (*.png)"));
  if (path.isEmpty()) return;
  QString error;
  if (bp::widgets::exportPlot(curves_->plot(), path, &error))
    bp::logInfo("Exported figure " + path.toStdString());
  else
    bp::log(bp::LogLevel::Error, "Could not export the figure: " + error.toStdString());
}

void TrainingRunsView::showRuns(const std::vector<std::string>& runFolders) {
  for (const std::string& folder : runFolders) hiddenRuns_.remove(QString::fromStdString(folder));
}

QString TrainingRunsView::message() const { return message_->isHidden() ? QString() : message_->text(); }

void TrainingRunsView::setMessage(const QString& message, bool isError) {
  message_->setText(message);
  message_->setStyleSheet(isError ? QStringLiteral("color:#c00000") : QString());
  message_->setVisible(!message.isEmpty());
  if (!message.isEmpty() && isError) bp::logWarning(message.toStdString());
}

}  // namespace bp::app
