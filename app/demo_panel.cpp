#include "app/demo_panel.h"

#include <QDateTime>
#include <QDir>
#include <QDoubleSpinBox>
#include <QEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>
#include <QRegularExpression>
#include <QScrollArea>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTimer>
#include <QVBoxLayout>
#include <filesystem>
#include <initializer_list>
#include <limits>

#include "app/controls_column.h"
#include "runtime/error.h"
#include "runtime/log.h"
#include "widgets/bar_plot.h"
#include "widgets/palette.h"
#include "widgets/series_plot.h"

namespace bp::app {
namespace {

// A row per engine step: the engine's title is shown while the step waits; the step's own
// announcement replaces it (and brings its narration) when it starts.
static_assert(bp::kDemoStepTitles.size() == static_cast<std::size_t>(DemoPanel::StepCount),
              "one row per step of the engine's demo");

// Okabe–Ito colours, apart for colour-blind viewers and on a projector.
constexpr const char* kDoneStyle = "color:#007a5a;font-weight:bold";
constexpr const char* kRunningStyle = "color:#0072b2;font-weight:bold";
constexpr const char* kStoppedStyle = "color:#d55e00;font-weight:bold";
constexpr const char* kIdleStyle = "color:#707070";

QString duration(double seconds) {
  const int whole = qRound(seconds);
  if (whole < 60) return QStringLiteral("%1 s").arg(whole);
  return QStringLiteral("%1:%2 min").arg(whole / 60).arg(whole % 60, 2, 10, QLatin1Char('0'));
}

QFont scaledFont(QFont font, double factor, bool bold) {
  if (font.pointSizeF() > 0) {
    font.setPointSizeF(font.pointSizeF() * factor);
  } else {
    font.setPixelSize(qRound(font.pixelSize() * factor));
  }
  font.setBold(bold);
  return font;
}

QString idleHeading() { return DemoPanel::tr("The whole study in a few minutes"); }

QString idleNarration() {
  return DemoPanel::tr(
      "Five steps, each told here as it runs: synthetic mouse-V1 neurons respond to Fashion-MNIST images; a "
      "convolutional network learns to predict them; its noise-free predictions give a denoised similarity of "
      "images; a small ResNet learns Fashion-MNIST without a prior, with that similarity as its prior, and with "
      "a shuffled copy of it; finally noise and adversarial attacks probe all three. Each finished step opens "
      "its results in the tab that explains them.");
}

}  // namespace

DemoPanel::DemoPanel(JobRunner& jobs, QWidget* parent) : QWidget(parent), jobs_(jobs) {
  auto* settings = new QGroupBox(tr("Settings"), this);
  auto* form = new QFormLayout(settings);
  auto spin = [this](int low, int high, const QString& tip) {
    auto* box = new QSpinBox(this);
    box->setRange(low, high);
    box->setToolTip(tip);
    return box;
  };
  fitEpochs_ = spin(1, 500, tr("Epochs of the predictive model of the neurons (early stopping may end it sooner)"));
  targetImages_ = spin(20, 60000, tr("Fashion-MNIST training images the denoised similarity spans"));
  trainImages_ = spin(100, 60000, tr("Images each classifier trains on"));
  testImages_ = spin(10, 10000, tr("Images each classifier is tested on"));
  epochs_ = spin(1, 200, tr("Epochs of each classifier"));
  alpha_ = new QDoubleSpinBox(this);
  alpha_->setRange(0.0, 1000.0);
  alpha_->setDecimals(2);
  alpha_->setSingleStep(0.5);
  alpha_->setToolTip(tr("Strength of the neural-similarity prior"));
  seeds_ = new QLineEdit(this);
  seeds_->setToolTip(tr("One run of each classifier per seed, e.g. \"1, 2, 3\""));
  probeImages_ = spin(10, 10000, tr("Test images of the noise and attack probe"));
  outputField_ = new QLineEdit(this);
  outputField_->setPlaceholderText(tr("a new folder in %1").arg(QDir::toNativeSeparators(demosFolder())));
  outputField_->setToolTip(tr("An empty or new folder for the demo's files; a folder that holds a demo is refused"));
  auto* browse = new QPushButton(tr("…"), this);
  browse->setToolTip(tr("Choose the demo's folder"));
  connect(browse, &QPushButton::clicked, this, &DemoPanel::chooseOutputFolder);
  auto* outputRow = new QHBoxLayout;
  outputRow->addWidget(outputField_, 1);
  outputRow->addWidget(browse);
  form->addRow(tr("Model epochs"), fitEpochs_);
  form->addRow(tr("Target images"), targetImages_);
  form->addRow(tr("Train images"), trainImages_);
  form->addRow(tr("Test images"), testImages_);
  form->addRow(tr("Classifier epochs"), epochs_);
  form->addRow(tr("Prior strength α"), alpha_);
  form->addRow(tr("Seeds"), seeds_);
  form->addRow(tr("Probe images"), probeImages_);
  form->addRow(tr("Folder"), outputRow);

  startButton_ = new QPushButton(tr("Start Demo"), this);
  startButton_->setDefault(true);
  stopButton_ = new QPushButton(tr("Stop and Show Results So Far"), this);
  stopButton_->setToolTip(tr("Stop the demo; the finished steps keep their files and stay shown"));
  replayButton_ = new QPushButton(tr("Replay a Finished Demo…"), this);
  replayButton_->setToolTip(tr("Tell a finished demo again from its folder, step by step at your pace: nothing is "
                               "computed, so a talk never waits"));
  connect(replayButton_, &QPushButton::clicked, this, &DemoPanel::chooseFolderToReplay);
  connect(startButton_, &QPushButton::clicked, this, &DemoPanel::start);
  connect(stopButton_, &QPushButton::clicked, this, &DemoPanel::stopAndShowResults);
  problem_ = new QLabel(this);
  problem_->setWordWrap(true);
  problem_->setStyleSheet(QString::fromLatin1(kStoppedStyle));
  problem_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  folderLabel_ = new QLabel(this);
  folderLabel_->setWordWrap(true);
  folderLabel_->setTextInteractionFlags(Qt::TextSelectableByMouse);

  auto* left = new QVBoxLayout;
  left->addWidget(settings);
  left->addWidget(startButton_);
  left->addWidget(stopButton_);
  left->addWidget(replayButton_);
  left->addWidget(problem_);
  left->addWidget(folderLabel_);
  left->addStretch(1);
  auto* leftWidget = new QWidget(this);
  leftWidget->setLayout(left);

  heading_ = new QLabel(this);
  heading_->setWordWrap(true);
  narration_ = new QLabel(this);
  narration_->setWordWrap(true);
  narration_->setAlignment(Qt::AlignTop | Qt::AlignLeft);
  narration_->setMinimumHeight(120);
  progress_ = new QProgressBar(this);
  progress_->setRange(0, 1000);
  progress_->setTextVisible(false);
  progressMessage_ = new QLabel(this);
  progressMessage_->setStyleSheet(QString::fromLatin1(kIdleStyle));
  // Beside the story, not in the form: presentation mode hides the form. Page Down is what
  // presentation remotes send.
  nextButton_ = new QPushButton(this);
  nextButton_->setObjectName(QStringLiteral("replayNext"));
  nextButton_->setToolTip(tr("The replay's next beat: a step's narration, then its finding (Page Down)"));
  connect(nextButton_, &QPushButton::clicked, this, &DemoPanel::advanceReplay);

  // The last finished step's key figure, so that an audience sees the result, not only hears it,
  // while the next step runs.
  figureBars_ = new bp::widgets::BarPlot(this);
  figureCurves_ = new bp::widgets::SeriesPlot(this);
  for (QWidget* figure : std::initializer_list<QWidget*>{figureBars_, figureCurves_}) {
    figure->setMinimumHeight(200);
    figure->hide();
  }

  auto* stepsBox = new QGroupBox(tr("Steps"), this);
  auto* grid = new QGridLayout(stepsBox);
  grid->setColumnStretch(1, 1);
  grid->setVerticalSpacing(4);
  for (int i = 0; i < StepCount; ++i) {
    StepRow& row = steps_[static_cast<std::size_t>(i)];
    row.numberLabel = new QLabel(QString::number(i + 1), this);
    row.numberLabel->setAlignment(Qt::AlignRight | Qt::AlignTop);
    row.titleLabel = new QLabel(this);
    row.stateLabel = new QLabel(this);
    row.stateLabel->setAlignment(Qt::AlignRight | Qt::AlignTop);
    row.findingLabel = new QLabel(this);
    row.findingLabel->setWordWrap(true);
    row.findingLabel->setTextFormat(Qt::RichText);
    row.findingLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    row.showButton = new QPushButton(tr("Show"), this);
    row.showButton->setToolTip(tr("Show this step's results in their tab"));
    const auto step = static_cast<Step>(i);
    connect(row.showButton, &QPushButton::clicked, this, [this, step] { Q_EMIT resultsRequested(step); });
    grid->addWidget(row.numberLabel, 2 * i, 0);
    grid->addWidget(row.titleLabel, 2 * i, 1);
    grid->addWidget(row.stateLabel, 2 * i, 2);
    grid->addWidget(row.showButton, 2 * i, 3);
    grid->addWidget(row.findingLabel, 2 * i + 1, 1, 1, 3);
  }

  // The story scrolls when its findings and warnings outgrow the screen (a laptop in presentation
  // mode), rather than squeezing a finding out of view.
  auto* story = new QWidget(this);
  auto* right = new QVBoxLayout(story);
  right->setContentsMargins(0, 0, 0, 0);
  right->addWidget(heading_);
  right->addWidget(narration_);
  right->addWidget(nextButton_, 0, Qt::AlignLeft);
  right->addWidget(progress_);
  right->addWidget(progressMessage_);
  right->addWidget(figureBars_);
  right->addWidget(figureCurves_);
  right->addWidget(stepsBox);
  right->addStretch(1);
  auto* storyScroll = new QScrollArea(this);
  storyScroll->setWidget(story);
  storyScroll->setWidgetResizable(true);
  storyScroll->setFrameShape(QFrame::NoFrame);
  storyScroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);

  auto* layout = new QHBoxLayout(this);
  layout->addWidget(controlsColumn(leftWidget, this));
  layout->addWidget(storyScroll, 1);

  clock_ = new QTimer(this);
  clock_->setInterval(1000);
  connect(clock_, &QTimer::timeout, this, &DemoPanel::updateRunningTime);
  connect(&jobs_, &JobRunner::jobProgress, this, [this](int jobId, double fraction, const QString& message) {
    if (jobId != jobId_) return;
    progress_->setValue(static_cast<int>(fraction * 1000));
    if (!message.isEmpty()) progressMessage_->setText(message);
  });
  connect(&jobs_, &JobRunner::jobFinished, this,
          [this](int jobId, const QString&, bool cancelled, const QString& error) {
            if (jobId == jobId_) onJobFinished(cancelled, error);
          });

  setConfig({});
  resetSteps();
  showProblem({});
  heading_->setText(idleHeading());
  narration_->setText(idleNarration());
  applyNarrationFonts();
  setRunning(false);
  updateNextButton();
}

QString DemoPanel::demosFolder() {
  return QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation) + QStringLiteral("/demos");
}

void DemoPanel::setConfig(const bp::DemoConfig& config) {
  fitEpochs_->setValue(config.fitEpochs);
  targetImages_->setValue(static_cast<int>(config.targetImages));
  trainImages_->setValue(static_cast<int>(config.trainImages));
  testImages_->setValue(static_cast<int>(config.testImages));
  epochs_->setValue(config.epochs);
  alpha_->setValue(config.alpha);
  QStringList seeds;
  for (const std::uint64_t seed : config.seeds) seeds << QString::number(seed);
  seeds_->setText(seeds.join(QStringLiteral(", ")));
  probeImages_->setValue(static_cast<int>(config.probeImages));
  outputField_->setText(QString::fromStdString(config.outputDir.string()));
}

bp::DemoConfig DemoPanel::configFromForm() const {
  bp::DemoConfig config;
  config.outputDir = outputField_->text().trimmed().toStdString();
  config.fitEpochs = fitEpochs_->value();
  config.targetImages = targetImages_->value();
  config.trainImages = trainImages_->value();
  config.testImages = testImages_->value();
  config.epochs = epochs_->value();
  config.alpha = alpha_->value();
  config.seeds.clear();
  for (const QString& text : seeds_->text().split(QRegularExpression(QStringLiteral("[,\\s]+")), Qt::SkipEmptyParts)) {
    bool ok = false;
    const qulonglong seed = text.toULongLong(&ok);
    if (!ok) throw bp::Error("demo: seed '" + text.toStdString() + "' is not a non-negative integer");
    config.seeds.push_back(seed);
  }
  config.probeImages = probeImages_->value();
  return config;
}

bool DemoPanel::start() {
  if (isRunning()) {
    showProblem(tr("A demo is already running; stop it first."));
    return false;
  }
  endReplay();
  bp::DemoConfig config;
  try {
    config = configFromForm();
    if (config.outputDir.empty()) {
      // A new folder per start, so that starting again never collides with an earlier demo.
      const QString stem = QDir(demosFolder()).filePath(
          QStringLiteral("demo-") + QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss")));
      QString folder = stem;
      for (int suffix = 2; QFileInfo::exists(folder); ++suffix) folder = stem + QStringLiteral("-%1").arg(suffix);
      config.outputDir = folder.toStdString();
    }
    bp::validate(config);
  } catch (const std::exception& error) {
    showProblem(QString::fromStdString(error.what()));
    return false;
  }

  outputDir_ = QString::fromStdString(config.outputDir.string());
  resetSteps();
  showProblem({});
  folderLabel_->setText(tr("Files: %1").arg(QDir::toNativeSeparators(outputDir_)));
  heading_->setText(tr("Starting the demo"));
  narration_->setText(idleNarration());
  progress_->setValue(0);
  progressMessage_->clear();
  demoSeconds_ = 0.0;
  settingsWarning_.clear();
  bp::logInfo("Demo into " + config.outputDir.string());

  QPointer<DemoPanel> self(this);
  jobId_ = jobs_.start(tr("Demo"), [self, config](const bp::Job& job) -> std::function<void()> {
    const bp::DemoResult result = bp::runDemo(config, job, [self](const bp::DemoStep& step, bool finished) {
      if (!self) return;
      QMetaObject::invokeMethod(
          self.data(),
          [self, step, finished] {
            if (!self) return;
            if (finished) {
              self->onStepFinished(step);
            } else {
              self->onStepStarted(step);
            }
          },
          Qt::QueuedConnection);
    });
    const double seconds = result.seconds;
    const QString warning = QString::fromStdString(bp::demoSettingsWarning(result).value_or(std::string()));
    return [self, seconds, warning] {
      if (!self) return;
      self->demoSeconds_ = seconds;
      self->settingsWarning_ = warning;
    };
  });
  setRunning(true);
  Q_EMIT started(outputDir_);
  return true;
}

void DemoPanel::stopAndShowResults() {
  if (!isRunning()) return;
  stopButton_->setEnabled(false);
  progressMessage_->setText(tr("Stopping once the engine reaches a safe point…"));
  jobs_.cancel(jobId_);
}

bool DemoPanel::replay(const QString& folder) {
  if (isRunning()) {
    showProblem(tr("A demo is running; stop it before replaying another."));
    return false;
  }
  bp::DemoResult result;
  try {
    result = bp::readDemoFolder(folder.toStdString());
  } catch (const std::exception& error) {
    showProblem(QString::fromStdString(error.what()));
    return false;
  }
  replay_ = std::move(result);
  replayBeats_ = 0;
  outputDir_ = folder;
  resetSteps();
  showProblem({});
  demoSeconds_ = replay_->seconds;
  settingsWarning_ = QString::fromStdString(bp::demoSettingsWarning(*replay_).value_or(std::string()));
  folderLabel_->setText(tr("Files: %1").arg(QDir::toNativeSeparators(outputDir_)));
  heading_->setText(tr("Replay of a finished demo"));
  narration_->setText(tr("The demo in %1 ran all %2 steps in %3. Each step is told as it was: first what it does, "
                         "then what it found, with its results opened in their tabs. Next (or Page Down) moves on.")
                          .arg(QDir::toNativeSeparators(outputDir_))
                          .arg(StepCount)
                          .arg(duration(demoSeconds_)));
  progress_->setValue(0);
  progressMessage_->clear();
  bp::logInfo("Replaying the demo in " + folder.toStdString());
  updateNextButton();
  return true;
}

void DemoPanel::chooseFolderToReplay() {
  const QString folder = QFileDialog::getExistingDirectory(this, tr("A finished demo's folder"), demosFolder());
  if (!folder.isEmpty()) replay(folder);
}

void DemoPanel::advanceReplay() {
  if (!replay_) return;
  const int step = replayBeats_ / 2;
  const bool finding = replayBeats_ % 2 == 1;
  ++replayBeats_;
  const bp::DemoStep& recorded = replay_->steps[static_cast<std::size_t>(step)];
  if (finding) {
    onStepFinished(recorded);
  } else {
    onStepStarted(recorded);
  }
  progress_->setValue(replayBeats_ * 1000 / (2 * StepCount));
  if (replayBeats_ == 2 * StepCount) {
    showCompleted(tr("Replayed from %1; each step's results are open in the tab that explains them (Show beside a "
                     "step brings it up).")
                      .arg(QDir::toNativeSeparators(outputDir_)));
    endReplay();
  }
  updateNextButton();
}

void DemoPanel::endReplay() {
  replay_.reset();
  replayBeats_ = 0;
  updateNextButton();
}

void DemoPanel::updateNextButton() {
  nextButton_->setVisible(replay_.has_value());
  if (!replay_) return;
  const int step = replayBeats_ / 2;
  nextButton_->setText(replayBeats_ % 2 == 0 ? tr("Next: step %1 of %2 ▸").arg(step + 1).arg(StepCount)
                                             : tr("Next: what step %1 found ▸").arg(step + 1));
  nextButton_->setShortcut(Qt::Key_PageDown);  // after the text, which resets it to the text's mnemonic
}

QString DemoPanel::stepTitle(Step step) const { return steps_[step].titleLabel->text(); }
QString DemoPanel::stepFinding(Step step) const { return steps_[step].finding; }
QStringList DemoPanel::stepWarnings(Step step) const { return steps_[step].warnings; }
QString DemoPanel::narrationHeading() const { return heading_->text(); }
QString DemoPanel::narration() const { return narration_->text(); }
QString DemoPanel::problem() const { return problem_->text(); }

void DemoPanel::onStepStarted(const bp::DemoStep& step) {
  if (currentStep_ + 1 >= StepCount) return;
  ++currentStep_;
  StepRow& row = steps_[static_cast<std::size_t>(currentStep_)];
  row.narration = QString::fromStdString(step.narration);
  row.titleLabel->setText(QString::fromStdString(step.title));
  heading_->setText(tr("Step %1 of %2 · %3").arg(currentStep_ + 1).arg(StepCount).arg(row.titleLabel->text()));
  narration_->setText(row.narration);
  stepTimer_.start();
  setStepState(currentStep_, StepState::Running);
  bp::logInfo("Demo step " + std::to_string(currentStep_ + 1) + ": " + step.title + ". " + step.narration);
  Q_EMIT stepStarted(static_cast<Step>(currentStep_));
}

void DemoPanel::onStepFinished(const bp::DemoStep& step) {
  if (currentStep_ < 0) return;
  StepRow& row = steps_[static_cast<std::size_t>(currentStep_)];
  row.finding = QString::fromStdString(step.finding);
  row.warnings.clear();
  QString shown = row.finding.toHtmlEscaped();
  for (const std::string& warning : step.warnings) {
    row.warnings << QString::fromStdString(warning);
    shown += QStringLiteral("<br><span style='%1'>⚠ %2</span>")
                 .arg(QString::fromLatin1(kStoppedStyle), tr("Not a finding: %1.").arg(row.warnings.back().toHtmlEscaped()));
  }
  row.seconds = step.seconds;
  row.findingLabel->setText(shown);
  setStepState(currentStep_, StepState::Done);
  bp::logInfo("Demo step " + std::to_string(currentStep_ + 1) + " found: " + step.finding);

  showKeyFigure(static_cast<Step>(currentStep_), step);
  const bp::DemoFiles files = bp::demoFiles(outputDir_.toStdString());
  auto path = [](const std::filesystem::path& file) { return QString::fromStdString(file.string()); };
  switch (static_cast<Step>(currentStep_)) {
    case RecordNeurons: Q_EMIT neuronsRecorded(); break;
    case FitModel: Q_EMIT modelSaved(path(files.model)); break;
    case BuildTarget: Q_EMIT targetSaved(path(files.target)); break;
    case TrainClassifiers: Q_EMIT classifiersTrained(path(files.runs)); break;
    case ProbeRobustness: Q_EMIT probeSaved(path(files.probeReport), path(files.runs)); break;
    case StepCount: break;
  }
}

void DemoPanel::showKeyFigure(Step step, const bp::DemoStep& finished) {
  const nlohmann::json& result = finished.result;
  auto number = [](const nlohmann::json& value) {
    return value.is_number() ? value.get<double>() : std::numeric_limits<double>::quiet_NaN();
  };
  // A figure absent from the step's result (an older demo.json) draws as a missing bar.
  auto field = [](const nlohmann::json& object, const char* key) {
    return object.is_object() && object.contains(key) ? object.at(key) : nlohmann::json();
  };
  auto role = [](const std::string& launch) { return QString::fromStdString(bp::demoLaunchRole(launch)); };
  using bp::widgets::palette::seriesColor;
  // A replayed demo.json is read strictly only as far as its story; its figures are drawn when
  // they are well formed, and a malformed one leaves the figure out rather than the panel.
  try {
    switch (step) {
      case FitModel:
        if (!result.contains("test_correlation_to_average")) return;
        figureBars_->setBars(
            {tr("test r, repeat average"), tr("fraction of oracle")},
            {number(result.at("test_correlation_to_average")), number(field(result, "fraction_of_oracle"))},
            {seriesColor(0), seriesColor(0)});
        figureBars_->setLabels(tr("How well the model predicts the neurons"), tr("correlation"));
        break;
      case BuildTarget: {
        if (!result.contains("denoising_check")) return;
        const nlohmann::json& check = result.at("denoising_check");
        figureBars_->setBars({tr("model's prediction"), tr("one trial")},
                             {number(field(check, "predicted_vs_repeat_average")),
                              number(field(check, "single_trial_vs_other_repeats"))},
                             {seriesColor(1), seriesColor(6)});
        figureBars_->setLabels(tr("Denoising check: agreement with the repeat-averaged similarity"), tr("Pearson r"));
        break;
      }
      case TrainClassifiers: {
        QStringList launches;
        QVector<double> means;
        QVector<QColor> colors;
        for (const auto& [launch, accuracies] : result.items()) {
          if (!accuracies.is_array() || accuracies.empty()) continue;
          double sum = 0.0;
          for (const auto& accuracy : accuracies) sum += number(accuracy);
          launches << role(launch);
          means << sum / static_cast<double>(accuracies.size());
          colors << seriesColor(static_cast<int>(colors.size()));
        }
        if (launches.isEmpty()) return;
        figureBars_->setBars(launches, means, colors);
        figureBars_->setLabels(tr("Clean test accuracy"), tr("accuracy"));
        break;
      }
      case ProbeRobustness: {
        figureCurves_->clear();
        keyFigureCurveValues_.clear();
        int index = 0;
        for (const auto& launch : result) {
          const nlohmann::json curve = field(launch, "noise_curve");
          if (curve.is_null()) continue;
          QVector<double> severities;
          QVector<double> accuracies;
          QVector<double> errors;
          for (const auto& value : curve.at("severities")) severities << number(value);
          for (const auto& value : curve.at("mean_accuracies")) accuracies << number(value);
          keyFigureCurveValues_ << accuracies;
          for (const auto& value : curve.at("sem_accuracies")) errors << number(value);
          const int series = figureCurves_->addLine(role(launch.at("launch").get<std::string>()), severities,
                                                    accuracies, seriesColor(index++));
          figureCurves_->addErrorBars(series, errors);
        }
        if (index == 0) return;
        figureCurves_->setLabels(tr("Accuracy under Gaussian noise"), tr("noise σ"), tr("accuracy"));
        figureCurves_->setLegendVisible(true);
        figureCurves_->rescale();
        break;
      }
      case RecordNeurons:
      case StepCount:
        return;
    }
  } catch (const nlohmann::json::exception& error) {
    bp::logWarning(std::string("Demo: step ") + std::to_string(step + 1) +
                   "'s figure cannot be drawn: " + error.what());
    return;
  }
  keyFigureStep_ = step;
  figureBars_->setVisible(step != ProbeRobustness);
  figureCurves_->setVisible(step == ProbeRobustness);
}

QVector<double> DemoPanel::keyFigureValues() const {
  if (keyFigureStep_ < 0) return {};
  return keyFigureStep_ == ProbeRobustness ? keyFigureCurveValues_ : figureBars_->values();
}

void DemoPanel::onJobFinished(bool cancelled, const QString& error) {
  jobId_ = 0;
  setRunning(false);
  const bool completed = !cancelled && error.isEmpty();
  // The step that was running when the job ended, if any (-1 when it ended between steps).
  const bool stepRunning =
      currentStep_ >= 0 && steps_[static_cast<std::size_t>(currentStep_)].state == StepState::Running;
  const int interrupted = stepRunning ? currentStep_ : -1;
  if (interrupted >= 0) setStepState(interrupted, cancelled ? StepState::Stopped : StepState::Failed);
  const int finished = lastFinishedStep();
  QStringList notRun;
  if (!completed)
    for (int i = finished + 1; i < StepCount; ++i) {
      if (i == interrupted) continue;
      setStepState(i, StepState::NotRun);
      notRun << QStringLiteral("%1. %2").arg(i + 1).arg(steps_[static_cast<std::size_t>(i)].titleLabel->text());
    }
  progressMessage_->clear();

  if (completed) {
    showCompleted(tr("Each step's results are open in the tab that explains them (Show beside a step brings it "
                     "up); its files, with demo.json, are in %1.")
                      .arg(QDir::toNativeSeparators(outputDir_)));
  } else if (cancelled) {
    heading_->setText(interrupted >= 0 ? tr("Stopped during step %1").arg(interrupted + 1) : tr("Stopped"));
    const QString folder = QDir::toNativeSeparators(outputDir_);
    QString text = tr("No step finished.");
    if (finished == 0) {
      text = tr("Step 1 finished; its results are open in its tab and its files are in %1.").arg(folder);
    } else if (finished > 0) {
      text = tr("Steps 1–%1 finished; their results are open in their tabs and their files are in %2.")
                 .arg(finished + 1)
                 .arg(folder);
    }
    if (!notRun.isEmpty() || interrupted >= 0) {
      QStringList unfinished = notRun;
      if (interrupted >= 0)
        unfinished.prepend(QStringLiteral("%1. %2 (stopped)")
                               .arg(interrupted + 1)
                               .arg(steps_[static_cast<std::size_t>(interrupted)].titleLabel->text()));
      text += QStringLiteral(" ") + tr("Not run: %1.").arg(unfinished.join(QStringLiteral("; ")));
    }
    narration_->setText(text);
    bp::logWarning("Demo stopped after " + std::to_string(finished + 1) + " of " + std::to_string(StepCount) +
                   " steps");
  } else {
    heading_->setText(currentStep_ >= 0 ? tr("Step %1 failed").arg(currentStep_ + 1) : tr("The demo did not start"));
    narration_->setText(error);
    showProblem(error);
  }
  Q_EMIT ended(completed);
  if (cancelled && finished >= 0) Q_EMIT resultsRequested(static_cast<Step>(finished));
}

void DemoPanel::showCompleted(const QString& where) {
  progress_->setValue(1000);
  heading_->setText(tr("The demo ran all %1 steps in %2").arg(StepCount).arg(duration(demoSeconds_)));
  QString text = where;
  // Beside the narration, not in the form: presentation mode hides the form, and an audience must
  // hear that these figures are not findings.
  if (!settingsWarning_.isEmpty()) text += QStringLiteral("\n\n⚠ ") + settingsWarning_;
  narration_->setText(text);
}

void DemoPanel::resetSteps() {
  currentStep_ = -1;
  keyFigureStep_ = -1;
  figureBars_->hide();
  figureCurves_->hide();
  for (int i = 0; i < StepCount; ++i) {
    StepRow& row = steps_[static_cast<std::size_t>(i)];
    row.narration.clear();
    row.finding.clear();
    row.warnings.clear();
    row.seconds = 0.0;
    row.titleLabel->setText(QString::fromUtf8(bp::kDemoStepTitles[static_cast<std::size_t>(i)]));
    row.findingLabel->clear();
    setStepState(i, StepState::Waiting);
  }
}

void DemoPanel::setStepState(int step, StepState state) {
  StepRow& row = steps_[static_cast<std::size_t>(step)];
  row.state = state;
  row.showButton->setEnabled(state == StepState::Done);
  const char* style = kIdleStyle;
  QString text;
  switch (state) {
    case StepState::Waiting: text = tr("waiting"); break;
    case StepState::Running:
      // A replayed step is not running: it is the one being told.
      text = replay_ ? tr("now") : tr("running · %1").arg(duration(static_cast<double>(stepTimer_.elapsed()) / 1000.0));
      style = kRunningStyle;
      break;
    case StepState::Done:
      text = tr("done · %1").arg(duration(row.seconds));
      style = kDoneStyle;
      break;
    case StepState::Stopped:
      text = tr("stopped");
      style = kStoppedStyle;
      break;
    case StepState::Failed:
      text = tr("failed");
      style = kStoppedStyle;
      break;
    case StepState::NotRun: text = tr("not run"); break;
  }
  row.stateLabel->setText(text);
  row.stateLabel->setStyleSheet(QString::fromLatin1(style));
}

void DemoPanel::updateRunningTime() {
  if (currentStep_ >= 0 && steps_[static_cast<std::size_t>(currentStep_)].state == StepState::Running)
    setStepState(currentStep_, StepState::Running);
}

void DemoPanel::showProblem(const QString& text) {
  problem_->setText(text);
  problem_->setVisible(!text.isEmpty());
}

void DemoPanel::setRunning(bool running) {
  startButton_->setEnabled(!running);
  stopButton_->setEnabled(running);
  replayButton_->setEnabled(!running);
  for (QWidget* field : std::initializer_list<QWidget*>{fitEpochs_, targetImages_, trainImages_, testImages_, epochs_,
                                                        alpha_, seeds_, probeImages_, outputField_})
    field->setEnabled(!running);
  if (running) {
    clock_->start();
  } else {
    clock_->stop();
  }
}

void DemoPanel::applyNarrationFonts() {
  // Relative to the panel's font, so that presentation mode's larger application font scales them.
  const QFont base = font();
  heading_->setFont(scaledFont(base, 1.8, true));
  narration_->setFont(scaledFont(base, 1.4, false));
  for (StepRow& row : steps_) {
    row.numberLabel->setFont(scaledFont(base, 1.15, true));
    row.titleLabel->setFont(scaledFont(base, 1.15, true));
    row.findingLabel->setFont(scaledFont(base, 1.05, false));
  }
}

void DemoPanel::changeEvent(QEvent* event) {
  if (event->type() == QEvent::FontChange) applyNarrationFonts();
  QWidget::changeEvent(event);
}

void DemoPanel::chooseOutputFolder() {
  const QString folder = QFileDialog::getExistingDirectory(this, tr("Folder for the demo's files"), demosFolder());
  if (!folder.isEmpty()) outputField_->setText(folder);
}

int DemoPanel::lastFinishedStep() const {
  int last = -1;
  for (int i = 0; i < StepCount; ++i)
    if (steps_[static_cast<std::size_t>(i)].state == StepState::Done) last = i;
  return last;
}

}  // namespace bp::app
