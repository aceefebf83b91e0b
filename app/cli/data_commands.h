#pragma once
#include <CLI/CLI.hpp>

#include "cli_support.h"

namespace bp::cli {

// info, synth, convert, runtime: opening, generating, saving and describing data.
void addDataCommands(CLI::App& app, const GlobalOptions& options);

}  // namespace bp::cli
