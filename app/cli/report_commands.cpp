#include "report_commands.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <memory>

#include "project/project_report.h"
#include "report/report.h"
#include "runtime/error.h"
#include "runtime/log.h"

namespace bp::cli {
namespace {

namespace fs = std::filesystem;

struct ReportOptions {
  std::vector<std::string> inputs;
  std::string output;
  std::string title;
};

void runReport(const GlobalOptions& global, const ReportOptions& options) {
  std::string extension = fs::path(options.output).extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  // PDF needs Qt's printing, which the headless CLI does not link.
  if (extension == ".pdf") throw Error("report: the command line writes HTML; export a PDF from the GUI");
  ReportInputs inputs;
  inputs.title = options.title;
  for (const auto& input : options.inputs) {
    if (std::filesystem::path(input).extension() != kProjectExtension) {
      mergeReportInputs(inputs, reportInputsFromFolder(input));
      continue;
    }
    const Project project = readProject(input);
    for (const std::string& key : missingProjectFiles(project))
      logWarning("report: the project's " + key + " (" + project.files.at(key).string() +
                 ") is missing; open the project in the GUI to say where it is");
    mergeReportInputs(inputs, reportInputsFromProject(project, input));
  }
  startRuntime(global);
  const Report report = buildReport(inputs, progressJob(global));
  writeReportHtml(report, options.output);

  nlohmann::json sections = nlohmann::json::array();
  std::size_t tables = 0;
  for (const auto& section : report.sections) {
    sections.push_back(section.title);
    tables += section.tables.size();
  }
  printJson({{"output", options.output},
             {"title", report.title},
             {"sections", sections},
             {"tables", tables},
             {"figures", figureCount(report)},
             {"bytes", fs::file_size(options.output)}});
}

}  // namespace

void addReportCommands(CLI::App& app, GlobalOptions& global) {
  auto options = std::make_shared<ReportOptions>();
  CLI::App* command = app.add_subcommand(
      "report",
      "One self-contained HTML report of what the inputs hold: the neural data and its reliability, similarity "
      "matrices, model fits, training runs and curves, robustness and predictivity tables, a demo's steps, and the "
      "configs, seeds, versions and devices behind them; a summary on stdout");
  command
      ->add_option("inputs", options->inputs,
                   "Projects (.brainprior), demo folders, folders of runs (with their probe-report/ and "
                   "predictivity-report/), run folders, "
                   "report.json files, neural model files (.pt), similarity matrix files and neural datasets")
      ->required();
  command->add_option("-o,--output", options->output, "The HTML file to write")->required();
  command->add_option("--title", options->title, "The report's title (default: \"BrainPrior report\")");
  command->callback([&global, options] { runReport(global, *options); });
}

}  // namespace bp::cli
