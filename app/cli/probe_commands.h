#pragma once
// Robustness probing from the command line: `probe` measures trained classifier runs under
// corruptions and adversarial attacks and tabulates them per launch (docs/science.md §1 step 7).
#include <CLI/CLI.hpp>

#include "cli_support.h"

namespace bp::cli {

void addProbeCommands(CLI::App& app, GlobalOptions& options);

}  // namespace bp::cli
