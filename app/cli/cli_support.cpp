#include "cli_support.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <algorithm>
#include <memory>
#include <thread>

#include "data/dataset_io.h"
#include "data/default_data.h"
#include "distributed/launch_environment.h"
#include "distributed/local_workers.h"
#include "runtime/atomic_file.h"
#include "runtime/error.h"
#include "runtime/log.h"

namespace bp::cli {

void addGlobalOptions(CLI::App& app, GlobalOptions& options) {
  app.add_option("--threads", options.runtime.threads, "CPU threads for tensor work (0 = one per core)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--device", options.runtime.device, "Compute device")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  app.add_flag("-q,--quiet", options.quiet, "Print only results and errors");
}

namespace {
std::vector<std::string>& recordedCommandLine() {
  static std::vector<std::string> arguments;
  return arguments;
}
}  // namespace

void recordCommandLine(int argc, char** argv) { recordedCommandLine().assign(argv, argv + argc); }
const std::vector<std::string>& commandLine() { return recordedCommandLine(); }

void addNwbOptions(CLI::App& command, NwbReadOptions& options) {
  const std::string group = "NWB recordings";
  command.add_option("--roi-series", options.roiSeries,
                     "Path in the NWB file of the RoiResponseSeries to read (needed when it has several; `info` "
                     "lists them)")
      ->group(group);
  command.add_option("--presentations", options.presentations,
                     "Path of the IndexSeries or ImageSeries of images shown, or /intervals/trials (needed when "
                     "the file has several)")
      ->group(group);
  command.add_option("--image-column", options.imageColumn,
                     "The trials table's column of indices into /stimulus/templates")
      ->capture_default_str()
      ->group(group);
  command.add_option("--window-start", options.windowStart, "Response window start after each onset, in seconds")
      ->capture_default_str()
      ->check(CLI::Range(-60.0, 60.0))
      ->group(group);
  command.add_option("--window-length", options.windowLength, "Response window length, in seconds")
      ->capture_default_str()
      ->check(CLI::Range(1e-6, 60.0))
      ->group(group);
}

void addDataParallelOptions(CLI::App& command, DataParallelOptions& options) {
  command
      .add_option("--nproc", options.workers,
                  "Data-parallel workers to start on this machine (torch.distributed over Gloo; each takes a share "
                  "of every batch; the weights match one process's). Under torchrun or srun, leave it out: their "
                  "environment makes this process one worker")
      ->check(CLI::Range(1, 1024));
  command
      .add_option("--timeout", options.timeoutSeconds,
                  "Seconds a data-parallel worker waits for the others (to join, and at every exchange) before it "
                  "stops with an error naming the silent worker")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 86400.0));
}

bool runAsLocalWorkers(const GlobalOptions& global, const DataParallelOptions& options) {
  const int workers = options.workers;
  if (workers <= 1) return false;
  const LaunchEnvironment launch = launchEnvironment();
  if (launch.distributed())
    throw Error("--nproc starts its own workers: it cannot run inside a launch of " + launch.launcher +
                " (WORLD_SIZE " + std::to_string(launch.worldSize) + ")");
  // The workers repeat this command without --nproc, with a fair share of the cores each unless
  // --threads says otherwise.
  std::vector<std::string> arguments(commandLine().begin() + (commandLine().empty() ? 0 : 1), commandLine().end());
  for (auto at = arguments.begin(); at != arguments.end();) {
    if (*at == "--nproc" && at + 1 != arguments.end()) at = arguments.erase(at, at + 2);
    else if (at->rfind("--nproc=", 0) == 0) at = arguments.erase(at);
    else ++at;
  }
  if (global.runtime.threads == 0) {
    const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    arguments.insert(arguments.begin(), {"--threads", std::to_string(std::max(1, cores / workers))});
  }
  LocalWorkersLaunch local;
  local.program = "/proc/self/exe";
  local.arguments = arguments;
  local.workers = workers;
  local.grace =
      std::chrono::milliseconds(static_cast<std::int64_t>(options.timeoutSeconds * 1000.0)) + std::chrono::seconds(10);
  // Each worker speaks for itself (rank 0's progress, everyone's errors); this process only waits.
  runLocalWorkers(local, progressJob(GlobalOptions{global.runtime, true}));
  return true;
}

DataParallelWorker joinDataParallelLaunch(const GlobalOptions& global, const DataParallelOptions& options) {
  const LaunchEnvironment launch = launchEnvironment();
  DataParallelWorker worker;
  worker.speaker = global;
  if (launch.rank != 0) worker.speaker.quiet = true;
  startRuntime(worker.speaker);
  if (launch.distributed())
    worker.group = std::make_unique<DataParallelGroup>(
        launch, std::chrono::milliseconds(static_cast<std::int64_t>(options.timeoutSeconds * 1000.0)));
  return worker;
}

void startRuntime(const GlobalOptions& options) {
  if (options.quiet)
    setLogSink([](LogLevel level, const std::string& message) {
      if (level >= LogLevel::Warning) std::cerr << "[" << logLevelName(level) << "] " << message << '\n';
    });
  initializeRuntime(options.runtime);
}

namespace {

// Cancelled by SIGINT or SIGTERM; read by every job of the command. (A lock-free atomic store is
// safe in a signal handler.)
CancelToken& interruptToken() {
  static CancelToken token;
  return token;
}
std::atomic<int> interruptSignal{0};

void onInterrupt(int signal) {
  if (interruptSignal.exchange(signal) != 0) {
    // The second signal: the user does not want to wait for the current step.
    std::signal(signal, SIG_DFL);
    std::raise(signal);
    return;
  }
  interruptToken().cancel();
}

}  // namespace

void installInterruptHandlers() {
  std::signal(SIGINT, onInterrupt);
  std::signal(SIGTERM, onInterrupt);
}

int interruptedBy() { return interruptSignal.load(); }

Job progressJob(const GlobalOptions& options) {
  // Not owned: the token lives as long as the process.
  const std::shared_ptr<const CancelToken> cancel(&interruptToken(), [](const CancelToken*) {});
  if (options.quiet) return Job({}, cancel);
  struct State {
    bool terminal = ::isatty(STDERR_FILENO) != 0;
    int lastDecile = -1;
    std::chrono::steady_clock::time_point lastDraw;
  };
  auto state = std::make_shared<State>();
  return Job(
      [state](double fraction, const std::string& message) {
        const int percent = static_cast<int>(fraction * 100.0 + 0.5);
        if (state->terminal) {
          const auto now = std::chrono::steady_clock::now();
          if (percent < 100 && now - state->lastDraw < std::chrono::milliseconds(100)) return;
          state->lastDraw = now;
          std::fprintf(stderr, "\r\033[K[%3d%%] %s%s", percent, message.c_str(), percent >= 100 ? "\n" : "");
        } else if (percent / 10 != state->lastDecile) {
          state->lastDecile = percent / 10;
          std::fprintf(stderr, "[%3d%%] %s\n", percent, message.c_str());
        }
      },
      cancel);
}

void printJson(const nlohmann::json& value) { std::cout << value.dump(2) << std::endl; }

nlohmann::json readJsonFile(const std::string& path) {
  const std::string text = readTextFile(path);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& error) {
    throw FileError(path, std::string("not valid JSON: ") + error.what());
  }
}

std::optional<Tier> tierFromChoice(const std::string& choice) {
  return choice == "all" ? std::nullopt : parseTier(choice);
}

void reportSkippedRuns(const GlobalOptions& options, const nlohmann::json& skipped) {
  if (options.quiet) return;
  for (const auto& run : skipped)
    std::fprintf(stderr, "skipping %s: the run is %s\n", run.at("folder").get<std::string>().c_str(),
                 run.at("state").get<std::string>().c_str());
}

}  // namespace bp::cli
