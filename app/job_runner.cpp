#include "app/job_runner.h"

#include <QMetaObject>
#include <QPointer>
#include <QRunnable>
#include <chrono>
#include <exception>
#include <mutex>

#include "runtime/error.h"
#include "runtime/runtime.h"

namespace bp::app {
namespace {

// Drops progress updates that come faster than the GUI can usefully draw them.
class ProgressThrottle {
public:
  bool admit(double fraction) {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto now = std::chrono::steady_clock::now();
    if (fraction < 1.0 && now - last_ < std::chrono::milliseconds(100)) return false;
    last_ = now;
    return true;
  }

private:
  std::mutex mutex_;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace

JobRunner::JobRunner(QObject* parent) : QObject(parent) {
  // Jobs themselves use every core through LibTorch/the readers; two at a time keeps the GUI fluid.
  pool_.setMaxThreadCount(2);
}

JobRunner::~JobRunner() {
  cancelAll();
  waitForAll();
}

int JobRunner::start(const QString& title, Work work) {
  const int jobId = nextId_++;
  auto cancel = std::make_shared<bp::CancelToken>();
  jobs_[jobId] = Running{title, cancel};
  Q_EMIT jobStarted(jobId, title);

  QPointer<JobRunner> self(this);
  auto throttle = std::make_shared<ProgressThrottle>();
  bp::Job job(
      [self, jobId, throttle](double fraction, const std::string& message) {
        if (!throttle->admit(fraction) || !self) return;
        const auto text = QString::fromStdString(message);
        QMetaObject::invokeMethod(
            self.data(), [self, jobId, fraction, text] { if (self) Q_EMIT self->jobProgress(jobId, fraction, text); },
            Qt::QueuedConnection);
      },
      cancel);

  pool_.start([self, jobId, job, work = std::move(work)] {
    bp::initializeWorkerThread();
    std::function<void()> continuation;
    bool cancelled = false;
    QString error;
    try {
      continuation = work(job);
    } catch (const bp::CancelledError&) {
      cancelled = true;
    } catch (const std::exception& e) {
      error = QString::fromStdString(e.what());
    } catch (...) {
      error = QStringLiteral("unknown error");
    }
    if (!self) return;
    QMetaObject::invokeMethod(
        self.data(),
        [self, jobId, continuation = std::move(continuation), cancelled, error]() mutable {
          if (self) self->finish(jobId, std::move(continuation), cancelled, error);
        },
        Qt::QueuedConnection);
  });
  return jobId;
}

void JobRunner::finish(int jobId, std::function<void()> continuation, bool cancelled, const QString& error) {
  const auto found = jobs_.find(jobId);
  if (found == jobs_.end()) return;
  const auto title = found->second.title;
  jobs_.erase(found);
  QString failure = error;
  if (continuation && !cancelled && error.isEmpty()) {
    try {
      continuation();
    } catch (const std::exception& e) {
      failure = QString::fromStdString(e.what());
    }
  }
  Q_EMIT jobFinished(jobId, title, cancelled, failure);
}

void JobRunner::cancel(int jobId) {
  const auto found = jobs_.find(jobId);
  if (found != jobs_.end()) found->second.cancel->cancel();
}

void JobRunner::cancelAll() {
  for (auto& [id, running] : jobs_) running.cancel->cancel();
}

void JobRunner::waitForAll() { pool_.waitForDone(); }

}  // namespace bp::app
