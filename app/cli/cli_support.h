#pragma once
// What every brainprior-cli subcommand shares: runtime options, progress on stderr, and error
// reporting (message on stderr, non-zero exit).
#include <CLI/CLI.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "data/default_data.h"
#include "data/neural_dataset.h"
#include "data/nwb.h"
#include "distributed/data_parallel_group.h"

#include "runtime/error.h"
#include "runtime/job.h"
#include "runtime/runtime.h"

namespace bp::cli {

struct GlobalOptions {
  RuntimeConfig runtime;
  bool quiet = false;  // no progress and no info log lines on stderr
};

void addGlobalOptions(CLI::App& app, GlobalOptions& options);

// What every command that reads a neural dataset takes for NWB files (docs/cli.md): which ROI
// series and presentations, and the response window.
void addNwbOptions(CLI::App& command, NwbReadOptions& options);

// What data-parallel commands (train, fit; docs/distributed.md) take: --nproc and --timeout.
struct DataParallelOptions {
  int workers = 1;              // local workers this command starts
  double timeoutSeconds = 300;  // how long a worker waits for the others
};
void addDataParallelOptions(CLI::App& command, DataParallelOptions& options);
// --nproc above 1: runs this command as that many data-parallel workers on this machine (copies of
// this process with torchrun's environment) and returns true once all have finished; false for 1
// (the caller goes on itself). bp::Error inside a launch of torchrun or srun.
bool runAsLocalWorkers(const GlobalOptions& global, const DataParallelOptions& options);
struct DataParallelWorker {
  std::unique_ptr<DataParallelGroup> group;  // null: this process works alone
  // The options this worker speaks with: rank 0's are the user's, the others keep quiet but for
  // warnings and errors.
  GlobalOptions speaker;
};
// Starts the runtime and joins the data-parallel launch that this process's environment describes
// (torchrun, srun, --nproc), if any.
DataParallelWorker joinDataParallelLaunch(const GlobalOptions& global, const DataParallelOptions& options);
// The command line this process was started with (main() records it; `train --nproc` repeats it
// for its workers).
void recordCommandLine(int argc, char** argv);
const std::vector<std::string>& commandLine();
// Starts the engine with the user's options (call once, inside a subcommand's callback).
void startRuntime(const GlobalOptions& options);
// A job that draws progress on stderr (a bar on a terminal, a line every 10% otherwise).
// SIGINT and SIGTERM cancel the command through its jobs: the engine stops at its next check
// (a training run then records "cancelled" in its log and summary and keeps its last complete
// epoch, so --resume continues it). A second signal ends the process at once.
void installInterruptHandlers();
// The signal that interrupted the command, 0 when none did.
int interruptedBy();
// A job that draws progress on stderr (unless quiet) and is cancelled by an interrupt.
Job progressJob(const GlobalOptions& options);
void printJson(const nlohmann::json& value);
// A JSON file (a config); FileError naming the file when it is unreadable or not JSON.
nlohmann::json readJsonFile(const std::string& path);
// A config file read by the engine's `parse` (a ...FromJson): its errors (an unknown key, a wrong
// type) become a FileError that names the file too.
template <class Parse>
auto readConfigFile(const std::string& path, Parse parse) -> decltype(parse(nlohmann::json())) {
  const nlohmann::json json = readJsonFile(path);
  try {
    return parse(json);
  } catch (const FileError&) {
    throw;
  } catch (const Error& error) {
    throw FileError(path, error.what());
  } catch (const nlohmann::json::exception& error) {
    throw FileError(path, std::string("a value of the wrong type: ") + error.what());
  }
}
// "train", "validation", "test", or "all" (nullopt).
std::optional<Tier> tierFromChoice(const std::string& choice);

// Says on stderr (unless quiet) which runs collectRunFolders skipped and why.
void reportSkippedRuns(const GlobalOptions& options, const nlohmann::json& skipped);

}  // namespace bp::cli
