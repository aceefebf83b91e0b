#pragma once
// Brain-regularized classifier training from the command line: `train` runs a config (one run
// folder per seed), `runs` lists the run folders under a folder.
#include <CLI/CLI.hpp>

#include "cli_support.h"

namespace bp::cli {

void addTrainCommands(CLI::App& app, GlobalOptions& options);

}  // namespace bp::cli
