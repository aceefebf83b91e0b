#pragma once
// The one way the GUI runs long work: off the GUI thread, with progress (at most ~10 updates a
// second), cancellation, a result delivered on the GUI thread, and errors reported with their reason.
#include <QObject>
#include <QString>
#include <QThreadPool>
#include <functional>
#include <map>
#include <memory>

#include "runtime/job.h"

namespace bp::app {

class JobRunner : public QObject {
  Q_OBJECT
public:
  // Work runs on a worker thread and returns the continuation to run on the GUI thread.
  using Work = std::function<std::function<void()>(const bp::Job&)>;

  explicit JobRunner(QObject* parent = nullptr);
  ~JobRunner() override;

  int start(const QString& title, Work work);

  // Convenience: computes a Result on a worker, then hands it to `done` on the GUI thread.
  template <class Result>
  int run(const QString& title, std::function<Result(const bp::Job&)> work, std::function<void(Result&)> done) {
    return start(title, [work = std::move(work), done = std::move(done)](const bp::Job& job) -> std::function<void()> {
      auto result = std::make_shared<Result>(work(job));
      return [done, result] { done(*result); };
    });
  }

  void cancel(int jobId);
  void cancelAll();
  int activeJobCount() const { return static_cast<int>(jobs_.size()); }
  // Blocks until every job has ended (used when quitting, after cancelAll()).
  void waitForAll();

Q_SIGNALS:
  void jobStarted(int jobId, const QString& title);
  void jobProgress(int jobId, double fraction, const QString& message);
  // `error` is empty on success; `cancelled` is true when the user stopped the job.
  void jobFinished(int jobId, const QString& title, bool cancelled, const QString& error);

private:
  struct Running {
    QString title;
    std::shared_ptr<bp::CancelToken> cancel;
  };
  void finish(int jobId, std::function<void()> continuation, bool cancelled, const QString& error);

  QThreadPool pool_;
  std::map<int, Running> jobs_;
  int nextId_ = 1;
};

}  // namespace bp::app
