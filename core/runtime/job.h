#pragma once
// Progress reporting and cancellation for long engine calls. Every long core algorithm takes a
// `const Job&`: it reports fractions in [0, 1] with a message and polls for cancellation.
#include <atomic>
#include <functional>
#include <memory>
#include <string>

namespace bp {

class CancelToken {
public:
  void cancel() { cancelled_.store(true, std::memory_order_relaxed); }
  bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }

private:
  std::atomic<bool> cancelled_{false};
};

using ProgressCallback = std::function<void(double fraction, const std::string& message)>;

class Job {
public:
  Job() = default;
  Job(ProgressCallback progress, std::shared_ptr<const CancelToken> cancel)
      : progress_(std::move(progress)), cancel_(std::move(cancel)) {}

  // Reports progress of this job; `fraction` is local to the job and mapped into the parent's range.
  void progress(double fraction, const std::string& message) const;
  bool cancelled() const { return cancel_ && cancel_->cancelled(); }
  // Throws CancelledError when the user asked to stop.
  void throwIfCancelled() const;
  // A job covering [begin, end] of this job's progress range, sharing its cancel token.
  Job subJob(double begin, double end) const;

private:
  ProgressCallback progress_;
  std::shared_ptr<const CancelToken> cancel_;
  double begin_ = 0.0;
  double end_ = 1.0;
};

}  // namespace bp
