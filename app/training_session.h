#pragma once
// The GUI's side of classifier training. This header is free of LibTorch (and of Qt), for the same
// reason as model_session.h: Qt translation units include it instead of the trainer's headers. The
// config travels as the engine's JSON (classifier_trainer.h), so what the GUI launches is exactly
// what `brainprior-cli train --config` runs, and a config saved from the GUI runs in the CLI.
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "classifiers/run_registry.h"
#include "runtime/job.h"

namespace bp::app {

// The launcher's starting point: the small ResNet on Fashion-MNIST (the embedded default images),
// CPU-sized (10,000 train images, 3 epochs), no regularizer; every key present.
nlohmann::json defaultTrainingConfig();

// The config with every key present, after the engine's strict parse and validation; bp::Error
// naming the first unknown key, wrong type or invalid setting.
nlohmann::json normalizedTrainingConfig(const nlohmann::json& config);

// The run folders a launch writes (outputDir / "<name>-seed<seed>", one per seed), in order.
std::vector<std::string> launchRunFolders(const nlohmann::json& config, const std::string& outputDir);

// Trains every seed's run, one after the other, each into its run folder (run_folder.h): call on a
// worker. `onEpoch` gets the run folder and the epoch's report, on the worker. `resume` continues
// runs from their checkpoints; without it a folder that holds a run is refused.
std::vector<bp::RunRecord> trainLaunch(const nlohmann::json& config, const std::string& outputDir, bool resume,
                                       const bp::Job& job,
                                       const std::function<void(const std::string& runFolder,
                                                                const bp::ClassifierEpochReport&)>& onEpoch);

// The same launch trained by `workers` data-parallel processes of `cliProgram` (brainprior-cli),
// each `train` on a share of every batch (torch.distributed over Gloo on this machine; the
// config's batch_norm says how batch norm spans them): call on a worker. The config travels in a
// file in the output folder; `onEpoch` gets each run's epochs as rank 0 writes them to its run
// folder (read back every second); a cancelled job stops every worker, which records it in its
// run. bp::Error with the run's own error when a worker fails.
std::vector<bp::RunRecord> trainLaunchWithWorkers(const nlohmann::json& config, const std::string& outputDir,
                                                  bool resume, int workers, const std::string& cliProgram,
                                                  const bp::Job& job,
                                                  const std::function<void(const std::string& runFolder,
                                                                           const bp::ClassifierEpochReport&)>& onEpoch);

// Exports the finished run's classifier for Python (python_export.h: `file` and <file>.json) and
// returns the Python that loads it. FileError for an unreadable run or an unwritable file.
std::string exportRunForPython(const std::string& runFolder, const std::string& file);

}  // namespace bp::app
