#include "probe_commands.h"

#include <cstdio>
#include <filesystem>
#include <memory>

#include "classifiers/run_registry.h"
#include "probing/probe_runner.h"
#include "runtime/atomic_file.h"
#include "runtime/error.h"

namespace bp::cli {
namespace {

namespace fs = std::filesystem;

struct ProbeOptions {
  std::vector<std::string> runs;
  std::string config;
  std::int64_t maxImages = -1;  // -1: the config's
  std::string outputDir;
};

void runProbe(const GlobalOptions& global, const ProbeOptions& options) {
  ProbeConfig config;
  if (!options.config.empty()) config = readConfigFile(options.config, probeConfigFromJson);
  // Command-line settings win over the file's.
  if (options.maxImages >= 0) config.maxImages = options.maxImages;
  validate(config);
  nlohmann::json skipped = nlohmann::json::array();
  const std::vector<fs::path> folders = collectRunFolders(options.runs, skipped);
  reportSkippedRuns(global, skipped);
  startRuntime(global);
  const ProbeReport report = probeRuns(folders, config, progressJob(global));
  nlohmann::json json = toJson(report);
  json["skipped"] = skipped;
  if (!options.outputDir.empty()) {
    writeReportJson(options.outputDir, json);
    writeProbeTable(report, fs::path(options.outputDir) / "probe-table.csv");
  }
  printJson(json);
}

}  // namespace

void addProbeCommands(CLI::App& app, GlobalOptions& global) {
  auto probe = std::make_shared<ProbeOptions>();
  CLI::App* command = app.add_subcommand(
      "probe",
      "Probe trained classifier runs: clean accuracy, accuracy under corruptions, median minimum adversarial "
      "perturbations, attack success rates and, with importance maps (the config's alignment), the harmonization "
      "alignment score per model, mean +/- SEM over seeds per launch; the report on stdout");
  command
      ->add_option("runs", probe->runs,
                   "Run folders, or folders of runs (their finished runs); all must share their test images")
      ->required()
      ->check(CLI::ExistingDirectory);
  command->add_option("--config", probe->config, "Probe config (JSON; see packaging/examples/probe-quick.json)")
      ->check(CLI::ExistingFile);
  command
      ->add_option("--max-images", probe->maxImages,
                   "Override the config's max_images: the first N test images (0: all)")
      ->check(CLI::NonNegativeNumber);
  command->add_option("--output-dir", probe->outputDir,
                      "Also write report.json and probe-table.csv (one row per model and per launch) here");
  command->callback([&global, probe] { runProbe(global, *probe); });
}

}  // namespace bp::cli
