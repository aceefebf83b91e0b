#pragma once
// Neural predictivity from the command line: `predictivity` scores every layer of trained
// classifier runs by how well a cross-validated linear readout predicts a neural dataset's
// responses (docs/science.md §2), one row per model and layer for an accuracy-vs-predictivity plot.
#include <CLI/CLI.hpp>

#include "cli_support.h"

namespace bp::cli {

void addPredictivityCommands(CLI::App& app, GlobalOptions& options);

}  // namespace bp::cli
