#pragma once
// The demo, narrated for an audience: the five steps of core/demo/demo_pipeline.h (neurons ->
// predictive model -> denoised similarity -> three classifiers -> robustness probe) run in one
// worker job; the panel lists them with their state and elapsed time, says what the running step
// does in large text, and shows each finished step's finding. As a step finishes the panel signals
// where its files are, so the window can open them in the panels that explain them. Stopping
// cancels the job: the finished steps keep their files and their results stay shown.
// A finished demo can also be replayed from its folder (bp::readDemoFolder): the same story, told
// at the presenter's pace (Next, or Page Down from a presentation remote), each step's narration
// first and then its finding and files, so that a talk never waits on a CPU.
#include <QElapsedTimer>
#include <QString>
#include <QVector>
#include <QWidget>
#include <array>
#include <optional>

#include "app/job_runner.h"
#include "demo/demo_pipeline.h"

class QDoubleSpinBox;
namespace bp::widgets {
class BarPlot;
class SeriesPlot;
}  // namespace bp::widgets
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTimer;

namespace bp::app {

class DemoPanel : public QWidget {
  Q_OBJECT
public:
  // The engine's steps, in the order it runs them.
  enum Step { RecordNeurons, FitModel, BuildTarget, TrainClassifiers, ProbeRobustness, StepCount };
  Q_ENUM(Step)
  enum class StepState { Waiting, Running, Done, Stopped, Failed, NotRun };

  explicit DemoPanel(JobRunner& jobs, QWidget* parent = nullptr);

  // Fills the form. An empty outputDir means a new timestamped folder under demosFolder().
  void setConfig(const bp::DemoConfig& config);
  // The form's settings; throws bp::Error naming a malformed seed list.
  bp::DemoConfig configFromForm() const;
  // Where Start puts a demo when the form names no folder.
  static QString demosFolder();

  // Starts the demo with the form's settings in a worker. False, with the reason under the form,
  // when a demo already runs or a setting is invalid; the engine's own refusals (a folder that
  // already holds a demo) arrive as the job's error and are shown the same way.
  bool start();
  // Cancels the running demo; the panel marks the interrupted step stopped and the later ones not
  // run, and asks the window to show the last finished step's results.
  void stopAndShowResults();
  bool isRunning() const { return jobId_ != 0; }

  // Reads a finished demo's folder and starts telling it: the steps wait for advanceReplay. False,
  // with the reason under the form, when a demo is running or the folder holds no finished demo.
  bool replay(const QString& folder);
  // Asks for a finished demo's folder (under demosFolder()) and replays it.
  void chooseFolderToReplay();
  // The replay's next beat: the next step's narration, or the finding of the step just told (and
  // its files, opened as the live demo opens them). Nothing when no replay is under way.
  void advanceReplay();
  bool isReplaying() const { return replay_.has_value(); }

  // The running or last demo's folder (empty before the first start).
  QString outputDir() const { return outputDir_; }
  StepState stepState(Step step) const { return steps_[step].state; }
  QString stepTitle(Step step) const;
  QString stepFinding(Step step) const;
  // Why a step's finding is not one (bp::DemoStep::warnings); shown under the finding.
  QStringList stepWarnings(Step step) const;
  // What the engine said the step does (empty until it has started).
  QString stepNarration(Step step) const { return steps_[step].narration; }
  // What the narration area says now: its heading and its text.
  QString narrationHeading() const;
  QString narration() const;
  // The error or refusal under the form (empty when none).
  QString problem() const;
  // The key figure beside the story: that of the last finished step that has one (the model's fit,
  // the denoising check, the accuracies, the noise curves), -1 before any. Its values: the bars'
  // heights, or for the noise curves each launch's mean accuracy at every noise level in turn (the
  // probe step's "noise_curve", so a replay draws it from demo.json alone).
  int keyFigureStep() const { return keyFigureStep_; }
  QVector<double> keyFigureValues() const;

Q_SIGNALS:
  void started(const QString& outputDir);
  // A step began; the narration area now tells it.
  void stepStarted(bp::app::DemoPanel::Step step);
  // Each step's files, as soon as the step has finished.
  void neuronsRecorded();
  void modelSaved(const QString& modelFile);
  void targetSaved(const QString& matrixFile);
  void classifiersTrained(const QString& runsFolder);
  void probeSaved(const QString& reportFile, const QString& runsFolder);
  // The user asked to see a finished step's results (its Show button, or stopping the demo).
  void resultsRequested(bp::app::DemoPanel::Step step);
  // The demo ended: all steps ran (`completed`), or it was stopped or failed.
  void ended(bool completed);

protected:
  void changeEvent(QEvent* event) override;

private:
  struct StepRow {
    StepState state = StepState::Waiting;
    QString narration;
    QString finding;
    QStringList warnings;
    double seconds = 0.0;
    QLabel* numberLabel = nullptr;
    QLabel* titleLabel = nullptr;
    QLabel* stateLabel = nullptr;
    QLabel* findingLabel = nullptr;
    QPushButton* showButton = nullptr;
  };

  void onStepStarted(const bp::DemoStep& step);
  void onStepFinished(const bp::DemoStep& step);
  void showKeyFigure(Step step, const bp::DemoStep& finished);
  void onJobFinished(bool cancelled, const QString& error);
  void showCompleted(const QString& where);
  void endReplay();
  void updateNextButton();
  void resetSteps();
  void setStepState(int step, StepState state);
  void updateRunningTime();
  void showProblem(const QString& text);
  void setRunning(bool running);
  void applyNarrationFonts();
  void chooseOutputFolder();
  int lastFinishedStep() const;

  JobRunner& jobs_;
  int jobId_ = 0;
  bool stopRequested_ = false;
  int currentStep_ = -1;
  double demoSeconds_ = 0.0;  // the finished demo's duration, as the engine measured it
  QString settingsWarning_;   // bp::demoSettingsWarning of the finished demo, or empty
  QString outputDir_;
  std::optional<bp::DemoResult> replay_;  // the demo being replayed
  int replayBeats_ = 0;                   // beats told: two per step (narration, then finding)
  std::array<StepRow, StepCount> steps_;

  QSpinBox* fitEpochs_ = nullptr;
  QSpinBox* targetImages_ = nullptr;
  QSpinBox* trainImages_ = nullptr;
  QSpinBox* testImages_ = nullptr;
  QSpinBox* epochs_ = nullptr;
  QDoubleSpinBox* alpha_ = nullptr;
  QLineEdit* seeds_ = nullptr;
  QSpinBox* probeImages_ = nullptr;
  QLineEdit* outputField_ = nullptr;
  QPushButton* startButton_ = nullptr;
  QPushButton* stopButton_ = nullptr;
  QPushButton* replayButton_ = nullptr;
  QPushButton* nextButton_ = nullptr;
  QLabel* problem_ = nullptr;
  QLabel* folderLabel_ = nullptr;

  QLabel* heading_ = nullptr;
  QLabel* narration_ = nullptr;
  QProgressBar* progress_ = nullptr;
  bp::widgets::BarPlot* figureBars_ = nullptr;
  bp::widgets::SeriesPlot* figureCurves_ = nullptr;
  int keyFigureStep_ = -1;
  QVector<double> keyFigureCurveValues_;  // the noise curves' accuracies, launch after launch
  QLabel* progressMessage_ = nullptr;
  QTimer* clock_ = nullptr;
  QElapsedTimer stepTimer_;
};

}  // namespace bp::app
