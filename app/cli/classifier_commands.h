#pragma once
// Commands on single models: `layers` of a classifier (BrainPrior's runs and imported models alike)
// and `export` of a trained model for Python.
#include <CLI/CLI.hpp>

#include "cli_support.h"

namespace bp::cli {

void addClassifierCommands(CLI::App& app, GlobalOptions& global);

}  // namespace bp::cli
