#include "app/training_queue.h"

#include <QPointer>

#include "app/training_session.h"

namespace bp::app {

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
  currentJob_ = jobs_.start(launch.title, [self, launch](const bp::Job& job) -> std::function<void()> {
    trainLaunch(launch.config, launch.outputDir.toStdString(), launch.resume, job,
                [self](const std::string& runFolder, const bp::ClassifierEpochReport& report) {
                  const QString folder = QString::fromStdString(runFolder);
                  QMetaObject::invokeMethod(
                      self.data(), [self, folder, report] { if (self) Q_EMIT self->epochReported(folder, report); },
                      Qt::QueuedConnection);
                });
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
