#include "app/training_queue.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QPointer>

#include "app/training_session.h"
#include "runtime/error.h"

namespace bp::app {

QString workerProgram() {
  const QString chosen = qEnvironmentVariable("BRAINPRIOR_CLI");
  if (!chosen.isEmpty()) return chosen;
  const QDir folder(QCoreApplication::applicationDirPath());
  for (const QString& candidate : {folder.filePath(QStringLiteral("brainprior-cli")),
                                   folder.filePath(QStringLiteral("cli/brainprior-cli"))})
    if (QFileInfo(candidate).isExecutable()) return candidate;
  return {};
}

TrainingQueue::TrainingQueue(JobRunner& jobs, QObject* parent) : QObject(parent), jobs_(jobs) {
  connect(&jobs_, &JobRunner::jobProgress, this, [this](int jobId, double fraction, const QString& message) {
    if (jobId != currentJob_) return;
    progress_ = fraction;
    message_ = message;
    Q_EMIT changed();
  });
  connect(&jobs_, &JobRunner::jobFinished, this,
          [this](int jobId, const QString&, bool cancelled, const QString& error) {
            if (jobId == currentJob_) onJobFinished(cancelled, error);
          });
}

void TrainingQueue::enqueue(const TrainingLaunch& launch) {
  waiting_.append(launch);
  if (!current_) startNext();
  Q_EMIT changed();
}

bool TrainingQueue::removeWaiting(int index) {
  if (index < 0 || index >= waiting_.size()) return false;
  waiting_.removeAt(index);
  Q_EMIT changed();
  return true;
}

void TrainingQueue::cancelCurrent() {
  if (currentJob_ != 0) jobs_.cancel(currentJob_);
}

void TrainingQueue::startNext() {
  if (waiting_.isEmpty()) return;
  current_ = waiting_.takeFirst();
  progress_ = 0.0;
  message_.clear();
  const TrainingLaunch launch = *current_;
  QPointer<TrainingQueue> self(this);
  const std::string program = workerProgram().toStdString();
  currentJob_ = jobs_.start(launch.title, [self, launch, program](const bp::Job& job) -> std::function<void()> {
    const auto onEpoch = [self](const std::string& runFolder, const bp::ClassifierEpochReport& report) {
      const QString folder = QString::fromStdString(runFolder);
      QMetaObject::invokeMethod(
          self.data(), [self, folder, report] { if (self) Q_EMIT self->epochReported(folder, report); },
          Qt::QueuedConnection);
    };
    if (launch.workers <= 1) {
      trainLaunch(launch.config, launch.outputDir.toStdString(), launch.resume, job, onEpoch);
      return [] {};
    }
    if (program.empty())
      throw bp::Error("brainprior-cli, which runs the data-parallel workers, is not beside the app; install it "
                      "or set BRAINPRIOR_CLI to its path");
    trainLaunchWithWorkers(launch.config, launch.outputDir.toStdString(), launch.resume, launch.workers, program, job,
                           onEpoch);
    return [] {};
  });
  Q_EMIT launchStarted(launch.title, launch.outputDir);
}

void TrainingQueue::onJobFinished(bool cancelled, const QString& error) {
  const TrainingLaunch finished = *current_;
  current_.reset();
  currentJob_ = 0;
  progress_ = 0.0;
  message_.clear();
  Q_EMIT launchFinished(finished.title, finished.outputDir, cancelled, error);
  // A failed or cancelled launch does not hold up the others: each launch is its own experiment.
  startNext();
  Q_EMIT changed();
}

}  // namespace bp::app
