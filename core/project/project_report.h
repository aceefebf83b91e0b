#pragma once
// What a project's report covers: its neural data, fitted models, similarity matrices, runs, and
// the probe and predictivity reports it shows, with the project's own file embedded as provenance.
// `brainprior-cli report study.brainprior` and the GUI's Export Report both use it.
#include <filesystem>

#include "project/project_file.h"
#include "report/report.h"

namespace bp {

// Every file of `project` the report reads (files that do not exist are left out: the GUI asks
// for moved files before it gets here, the CLI reports the missing ones from readProject's caller).
ReportInputs reportInputsFromProject(const Project& project, const std::filesystem::path& projectFile);

}  // namespace bp
