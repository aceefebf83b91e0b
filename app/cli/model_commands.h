#pragma once
// Predictive models of neurons from the command line: fit, evaluate, predict, build the denoised
// target similarity, and most exciting inputs.
#include <CLI/CLI.hpp>

#include "cli_support.h"

namespace bp::cli {

void addModelCommands(CLI::App& app, GlobalOptions& options);

}  // namespace bp::cli
