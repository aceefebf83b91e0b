// parallelFor: every index runs exactly once on worker threads (never the caller's) whose ids stay in
// range, for empty, tiny and large loops; a body's exception reaches the caller and stops the other
// workers after the index they are on; a cancel (before the call or from the progress callback) ends
// with CancelledError without running the rest; progress arrives on the caller's thread, in [0, 1]
// (or the sub-job's range) and never going back. The stopping checks hold the other workers inside
// their bodies until the stop is certain to be visible, so they do not depend on timing.
#include <QtTest>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "runtime/error.h"
#include "runtime/job.h"
#include "runtime/parallel.h"
#include "runtime/runtime.h"
#include "test_registry.h"

using namespace bp;

namespace {

// A body's own exception type, so that the test can tell it from anything the loop might throw.
struct BodyFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// How long a held body waits at most before giving up (a safety net against a hang; the checks
// never rely on it running out).
constexpr auto kSafetyTimeout = std::chrono::seconds(120);

std::string describeCount(std::size_t done, std::size_t count) {
  return std::to_string(done) + " of " + std::to_string(count);
}

// Set, under its mutex, by the destructor of a thread_local ThreadEndSignal, i.e. once the thread
// that made it has finished its work function: for the thread whose body threw, that is after
// parallelFor's catch block has raised the stop flag.
struct ThreadEnd {
  std::mutex mutex;
  std::condition_variable changed;
  bool ended = false;

  // Waits until the thread has ended; false when the safety timeout ran out instead.
  bool wait() {
    std::unique_lock<std::mutex> lock(mutex);
    return changed.wait_for(lock, kSafetyTimeout, [this] { return ended; });
  }
};

struct ThreadEndSignal {
  ThreadEnd* end;
  ~ThreadEndSignal() {
    const std::lock_guard<std::mutex> lock(end->mutex);
    end->ended = true;
    end->changed.notify_all();
  }
};

std::size_t countRan(const std::vector<std::atomic<int>>& ran, std::size_t begin, std::size_t end) {
  std::size_t total = 0;
  for (std::size_t i = begin; i < end; ++i) total += ran[i].load() > 0 ? 1 : 0;
  return total;
}

}  // namespace

class TestParallel : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() { initializeRuntime(); }

  void visitsEveryIndexExactlyOnce_data() {
    QTest::addColumn<int>("count");
    QTest::addColumn<int>("threads");
    for (const int count : {0, 1, 3, 1000})
      for (const int threads : {1, 2, 4})
        QTest::newRow((std::to_string(count) + " indices, " + std::to_string(threads) + " threads").c_str())
            << count << threads;
    QTest::newRow("0 threads means 1") << 5 << 0;
  }

  void visitsEveryIndexExactlyOnce() {
    QFETCH(int, count);
    QFETCH(int, threads);
    const auto n = static_cast<std::size_t>(count);
    // The thread count is clamped to [1, count].
    const std::size_t workers = std::clamp<std::size_t>(static_cast<std::size_t>(threads), 1, std::max<std::size_t>(n, 1));
    const std::thread::id caller = std::this_thread::get_id();

    std::vector<std::atomic<int>> visits(n);
    std::vector<std::atomic<int>> workerUsed(workers);
    std::atomic<bool> workerOutOfRange{false};
    std::atomic<bool> ranOnCaller{false};
    std::vector<std::pair<double, std::string>> reports;
    bool reportedOffCaller = false;
    bool describedOutOfRange = false;
    const Job job(
        [&](double fraction, const std::string& message) {
          if (std::this_thread::get_id() != caller) reportedOffCaller = true;
          reports.emplace_back(fraction, message);
        },
        nullptr);

    parallelFor(
        n, static_cast<std::size_t>(threads), job,
        [&](std::size_t done, std::size_t total) {
          if (done > total || total != n) describedOutOfRange = true;
          return describeCount(done, total);
        },
        [&](std::size_t index, std::size_t worker) {
          if (std::this_thread::get_id() == caller) ranOnCaller = true;
          if (worker >= workers) {
            workerOutOfRange = true;
          } else {
            ++workerUsed[worker];
          }
          ++visits[index];
        });

    for (std::size_t i = 0; i < n; ++i) QVERIFY2(visits[i].load() == 1, ("index " + std::to_string(i)).c_str());
    QVERIFY(!workerOutOfRange);
    QVERIFY(!ranOnCaller);
    int bodies = 0;
    for (const auto& used : workerUsed) bodies += used.load();
    QCOMPARE(bodies, count);
    QVERIFY(!reportedOffCaller);
    QVERIFY(!describedOutOfRange);
    if (n == 0) {
      QVERIFY(reports.empty());  // nothing to do, nothing reported
    } else {
      QVERIFY(!reports.empty());  // the first pass always reports
      for (const auto& report : reports) QVERIFY(report.first >= 0.0 && report.first <= 1.0);
    }
  }

  void progressStaysInRangeAndNeverGoesBack() {
    constexpr std::size_t kCount = 5000;
    const std::thread::id caller = std::this_thread::get_id();
    for (const auto& [begin, end] : {std::pair<double, double>{0.0, 1.0}, std::pair<double, double>{0.25, 0.75}}) {
      std::vector<double> fractions;
      std::vector<std::string> messages;
      bool offCaller = false;
      const Job parent(
          [&](double fraction, const std::string& message) {
            if (std::this_thread::get_id() != caller) offCaller = true;
            fractions.push_back(fraction);
            messages.push_back(message);
          },
          nullptr);
      std::atomic<std::size_t> sum{0};
      parallelFor(kCount, 4, parent.subJob(begin, end), describeCount,
                  [&](std::size_t index, std::size_t) { sum += index; });
      QCOMPARE(sum.load(), kCount * (kCount - 1) / 2);
      QVERIFY(!offCaller);
      QVERIFY(!fractions.empty());
      for (std::size_t i = 0; i < fractions.size(); ++i) {
        QVERIFY2(fractions[i] >= begin && fractions[i] <= end, std::to_string(fractions[i]).c_str());
        if (i > 0) QVERIFY2(fractions[i] >= fractions[i - 1], messages[i].c_str());
        // The message is describe(done, count) for the fraction done / count of this loop.
        const std::size_t done = std::stoul(messages[i].substr(0, messages[i].find(' ')));
        QCOMPARE(messages[i], describeCount(done, kCount));
        const double expected = begin + (end - begin) * static_cast<double>(done) / static_cast<double>(kCount);
        QVERIFY(std::abs(fractions[i] - expected) < 1e-12);
      }
      // One report per whole percentage at most.
      QVERIFY(fractions.size() <= 101);
    }
  }

  void aBodysExceptionReachesTheCallerAndStopsTheLoop_data() {
    QTest::addColumn<int>("threads");
    QTest::newRow("1 thread") << 1;
    QTest::newRow("2 threads") << 2;
    QTest::newRow("4 threads") << 4;
  }

  // Index kFailing throws. Bodies of later indices wait until the thread that threw has ended
  // (parallelFor has raised its stop flag by then), so each other worker can finish at most the one
  // later index it holds and then must stop: at most threads - 1 later indices run, whatever the
  // scheduling. With one thread the loop is sequential: exactly the indices before the failure ran.
  void aBodysExceptionReachesTheCallerAndStopsTheLoop() {
    QFETCH(int, threads);
    constexpr std::size_t kCount = 1000;
    constexpr std::size_t kFailing = 10;
    ThreadEnd failingThread;
    std::atomic<bool> timedOut{false};
    std::vector<std::atomic<int>> ran(kCount);
    const auto body = [&](std::size_t index, std::size_t) {
      if (index == kFailing) {
        // Made on this (worker) thread alone; its destructor runs when the thread ends.
        thread_local ThreadEndSignal endSignal{&failingThread};
        (void)endSignal;
        throw BodyFailure("index " + std::to_string(index) + " failed");
      }
      if (index > kFailing && !failingThread.wait()) timedOut = true;
      ++ran[index];
    };
    try {
      parallelFor(kCount, static_cast<std::size_t>(threads), Job{}, describeCount, body);
      QFAIL("the body's exception was swallowed");
    } catch (const BodyFailure& failure) {
      QCOMPARE(std::string(failure.what()), std::string("index 10 failed"));
    } catch (const std::exception& other) {
      QFAIL((std::string("another exception came back: ") + other.what()).c_str());
    }
    QVERIFY(!timedOut);
    QCOMPARE(ran[kFailing].load(), 0);
    for (std::size_t i = 0; i < kCount; ++i) QVERIFY(ran[i].load() <= 1);
    const std::size_t later = countRan(ran, kFailing + 1, kCount);
    QVERIFY2(later <= static_cast<std::size_t>(threads - 1), std::to_string(later).c_str());
    QVERIFY(countRan(ran, 0, kCount) < kCount - 1);
    if (threads == 1) {
      QCOMPARE(countRan(ran, 0, kFailing), kFailing);
      QCOMPARE(later, std::size_t{0});
    }
  }

  void aProgressCallbacksExceptionReachesTheCaller() {
    std::atomic<int> bodies{0};
    const Job job([](double, const std::string&) { throw BodyFailure("progress failed"); }, nullptr);
    try {
      parallelFor(200, 4, job, describeCount, [&](std::size_t, std::size_t) { ++bodies; });
      QFAIL("the progress callback's exception was swallowed");
    } catch (const BodyFailure& failure) {
      QCOMPARE(std::string(failure.what()), std::string("progress failed"));
    }
    QVERIFY(bodies.load() <= 200);
  }

  void aCancelledJobRunsNothing() {
    auto token = std::make_shared<CancelToken>();
    token->cancel();
    const Job cancelled({}, token);
    std::atomic<int> bodies{0};
    for (const std::size_t count : {std::size_t{0}, std::size_t{1}, std::size_t{100}})
      QVERIFY_THROWS_EXCEPTION(CancelledError,
                               parallelFor(count, 4, cancelled, describeCount, [&](std::size_t, std::size_t) { ++bodies; }));
    // Workers look at the token before every index.
    QCOMPARE(bodies.load(), 0);
  }

  void aCancelFromTheProgressCallbackStopsTheLoop_data() {
    QTest::addColumn<int>("threads");
    QTest::newRow("1 thread") << 1;
    QTest::newRow("4 threads") << 4;
  }

  // The first report (made before the caller first waits) cancels; every body but index 0's waits for
  // that cancel, so no worker gets past the index it holds: at most one index per worker besides
  // index 0 runs.
  void aCancelFromTheProgressCallbackStopsTheLoop() {
    QFETCH(int, threads);
    constexpr std::size_t kCount = 1000;
    auto token = std::make_shared<CancelToken>();
    std::vector<double> fractions;
    const Job job(
        [&](double fraction, const std::string&) {
          fractions.push_back(fraction);
          token->cancel();
        },
        token);
    std::atomic<bool> timedOut{false};
    std::vector<std::atomic<int>> ran(kCount);
    const auto body = [&](std::size_t index, std::size_t) {
      if (index > 0) {
        const auto deadline = std::chrono::steady_clock::now() + kSafetyTimeout;
        while (!token->cancelled()) {
          if (std::chrono::steady_clock::now() > deadline) {
            timedOut = true;
            break;
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
      }
      ++ran[index];
    };
    QVERIFY_THROWS_EXCEPTION(CancelledError,
                             parallelFor(kCount, static_cast<std::size_t>(threads), job, describeCount, body));
    QVERIFY(!timedOut);
    QCOMPARE(fractions.size(), std::size_t{1});  // no report after the cancel
    QVERIFY(fractions[0] >= 0.0 && fractions[0] <= 1.0);
    const std::size_t total = countRan(ran, 0, kCount);
    QVERIFY2(total <= static_cast<std::size_t>(threads) + 1, std::to_string(total).c_str());
  }
};

BRAINPRIOR_TEST_CLASS(TestParallel)
#include "test_parallel.moc"
