#pragma once
// The engine's one loop over independent pieces of work on several threads (the comparison's
// resampling, the file tree's trial reading). Header-only: the body is a template, so the loop
// costs no call through std::function per piece.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "runtime/job.h"

namespace bp {

// Runs body(index, worker) for every index in [0, count) on `threads` worker threads (clamped to
// [1, count]); `worker`, in [0, threads), names the thread running it, so that the body can keep
// scratch memory per thread. The calling thread does none of the work: it watches, reporting
// progress (describe(done, count) as the message) whenever the whole percentage changes, so that
// the job's callback runs on the caller's thread alone and need not be thread-safe. At a cancel
// request, at an exception from a body or from the progress callback, every worker stops after
// the index it is on; then CancelledError is thrown for a cancel request, else the first
// exception is rethrown.
template <typename Describe, typename Body>
void parallelFor(std::size_t count, std::size_t threads, const Job& job, const Describe& describe, const Body& body) {
  // How often the watching thread wakes to report progress and look for cancellation.
  constexpr auto kPollInterval = std::chrono::milliseconds(20);
  if (count == 0) {
    job.throwIfCancelled();
    return;
  }
  threads = std::clamp<std::size_t>(threads, 1, count);
  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> done{0};
  std::atomic<bool> stop{false};
  std::mutex mutex;
  std::condition_variable workerFinished;
  std::size_t finishedWorkers = 0;
  std::exception_ptr firstFailure;

  const auto work = [&](std::size_t worker) {
    try {
      for (std::size_t index = next++; index < count && !stop; index = next++) {
        if (job.cancelled()) {
          stop = true;
          break;
        }
        body(index, worker);
        ++done;
      }
    } catch (...) {
      const std::lock_guard<std::mutex> lock(mutex);
      if (!firstFailure) firstFailure = std::current_exception();
      stop = true;
    }
    const std::lock_guard<std::mutex> lock(mutex);
    ++finishedWorkers;
    workerFinished.notify_one();
  };

  std::vector<std::thread> workers;
  workers.reserve(threads);
  // Workers must be joined on every path: a thread that cannot start, a progress callback that throws.
  try {
    for (std::size_t worker = 0; worker < threads; ++worker) workers.emplace_back(work, worker);
    int lastPercent = -1;
    std::unique_lock<std::mutex> lock(mutex);
    // The first pass reports 0% before waiting, so that even quick work gives one report to cancel from.
    for (bool first = true; first || finishedWorkers < workers.size(); first = false) {
      if (!first) workerFinished.wait_for(lock, kPollInterval, [&] { return finishedWorkers == workers.size(); });
      if (job.cancelled()) stop = true;
      const std::size_t finished = std::min(done.load(), count);
      const int percent = static_cast<int>(100 * finished / count);
      if (percent != lastPercent && !stop) {
        lastPercent = percent;
        lock.unlock();
        job.progress(static_cast<double>(finished) / static_cast<double>(count), describe(finished, count));
        lock.lock();
      }
    }
  } catch (...) {
    stop = true;
    for (auto& worker : workers) worker.join();
    throw;
  }
  for (auto& worker : workers) worker.join();
  job.throwIfCancelled();
  if (firstFailure) std::rethrow_exception(firstFailure);
}

}  // namespace bp
