#pragma once
// Commands on single classifiers, BrainPrior's runs and imported models alike: `layers`.
#include <CLI/CLI.hpp>

#include "cli_support.h"

namespace bp::cli {

void addClassifierCommands(CLI::App& app, GlobalOptions& global);

}  // namespace bp::cli
