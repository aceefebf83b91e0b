#pragma once
// The one-command demo: `demo` runs the whole pipeline of Li et al. 2019 on the embedded default
// data (demo_pipeline.h), narrating each step on stderr.
#include <CLI/CLI.hpp>

#include "cli_support.h"

namespace bp::cli {

void addDemoCommands(CLI::App& app, GlobalOptions& options);

}  // namespace bp::cli
