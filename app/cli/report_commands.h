#pragma once
// `report`: one self-contained HTML report (report/report.h) of demos, runs, probe and
// predictivity reports, models, matrices and neural data named on the command line.
#include <CLI/CLI.hpp>

#include "cli_support.h"

namespace bp::cli {

void addReportCommands(CLI::App& app, GlobalOptions& options);

}  // namespace bp::cli
