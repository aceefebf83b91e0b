#pragma once
// Training launches, run one at a time in the order they were queued (two runs side by side on a
// CPU would only halve each other's speed). The queue belongs to the main window, not to a panel:
// closing the Training panel never stops a run, and quitting while one runs asks first.
#include <QList>
#include <QObject>
#include <QString>
#include <optional>

#include <nlohmann/json.hpp>

#include "app/job_runner.h"
#include "classifiers/run_registry.h"

namespace bp::app {

struct TrainingLaunch {
  QString title;          // shown in the queue and the status bar
  nlohmann::json config;  // the engine's training config (training_session.h), one run per seed
  QString outputDir;      // receives one run folder per seed
  bool resume = false;    // continue the runs from their checkpoints
  // Data-parallel worker processes of brainprior-cli on this machine (torch.distributed over
  // Gloo); 1 trains in the app's own worker thread.
  int workers = 1;
};

// The brainprior-cli that data-parallel launches start: $BRAINPRIOR_CLI, else the one beside the
// app (installed side by side, or in the build tree's cli/ folder); empty when there is none.
QString workerProgram();

class TrainingQueue : public QObject {
  Q_OBJECT
public:
  explicit TrainingQueue(JobRunner& jobs, QObject* parent = nullptr);

  // Starts at once when nothing runs, else waits its turn.
  void enqueue(const TrainingLaunch& launch);
  // Drops a waiting launch (index into waiting()); false for an index out of range.
  bool removeWaiting(int index);
  // Cancels the running launch within a batch; its run folder keeps the last complete epoch, and
  // the next launch starts.
  void cancelCurrent();

  bool isRunning() const { return current_.has_value(); }
  const std::optional<TrainingLaunch>& current() const { return current_; }
  const QList<TrainingLaunch>& waiting() const { return waiting_; }
  double progress() const { return progress_; }
  const QString& progressMessage() const { return message_; }

Q_SIGNALS:
  // What is running or waiting changed, or the running launch made progress.
  void changed();
  // A run finished an epoch (on the GUI thread).
  void epochReported(const QString& runFolder, const bp::ClassifierEpochReport& report);
  // A launch started (its run folders may not exist yet).
  void launchStarted(const QString& title, const QString& outputDir);
  // `error` is empty on success.
  void launchFinished(const QString& title, const QString& outputDir, bool cancelled, const QString& error);

private:
  void startNext();
  void onJobFinished(bool cancelled, const QString& error);

  JobRunner& jobs_;
  QList<TrainingLaunch> waiting_;
  std::optional<TrainingLaunch> current_;
  int currentJob_ = 0;
  double progress_ = 0.0;
  QString message_;
};

}  // namespace bp::app
