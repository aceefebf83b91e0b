#pragma once
#include <CLI/CLI.hpp>

#include "cli_support.h"

namespace bp::cli {

// rsa, compare, ceiling: similarity matrices, their comparison, and their noise ceiling.
void addRsaCommands(CLI::App& app, const GlobalOptions& options);

}  // namespace bp::cli
