#include "runtime/job.h"

#include <algorithm>

#include "runtime/error.h"

namespace bp {

void Job::progress(double fraction, const std::string& message) const {
  if (!progress_) return;
  const double clamped = std::clamp(fraction, 0.0, 1.0);
  progress_(begin_ + clamped * (end_ - begin_), message);
}

void Job::throwIfCancelled() const {
  if (cancelled()) throw CancelledError();
}

Job Job::subJob(double begin, double end) const {
  Job sub(progress_, cancel_);
  sub.begin_ = begin_ + std::clamp(begin, 0.0, 1.0) * (end_ - begin_);
  sub.end_ = begin_ + std::clamp(end, 0.0, 1.0) * (end_ - begin_);
  return sub;
}

}  // namespace bp
