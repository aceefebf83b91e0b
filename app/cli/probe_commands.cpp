#include "probe_commands.h"

#include <memory>

#include "probing/probe_runner.h"

namespace bp::cli {
namespace {

struct ProbeOptions {
  std::vector<std::string> runs;
  std::string config;
  std::int64_t maxImages = -1;  // -1: the config's
  std::string outputDir;
  std::string images;
  std::string split;
  bool color = false;
};

void runProbe(const GlobalOptions& global, const ProbeOptions& options) {
  ProbeReportFolderConfig folder;
  folder.runs = options.runs;
  if (!options.config.empty()) folder.probe = readConfigFile(options.config, probeConfigFromJson);
  // Command-line settings win over the file's.
  if (options.maxImages >= 0) folder.probe.maxImages = options.maxImages;
  if (!options.images.empty()) folder.probe.images.path = options.images;
  if (!options.split.empty()) folder.probe.images.split = options.split;
  if (options.color) folder.probe.images.grayscale = false;
  folder.outputDir = options.outputDir;
  const ProbeReportFolder written =
      writeProbeReportFolder(folder, progressJob(global), [&global](const nlohmann::json& skipped) {
        reportSkippedRuns(global, skipped);
        startRuntime(global);
      });
  printJson(written.json);
}

}  // namespace

void addProbeCommands(CLI::App& app, GlobalOptions& global) {
  auto probe = std::make_shared<ProbeOptions>();
  CLI::App* command = app.add_subcommand(
      "probe",
      "Probe trained classifier runs and imported models: clean accuracy, accuracy under corruptions, median minimum adversarial "
      "perturbations, attack success rates and, with importance maps (the config's alignment), the harmonization "
      "alignment score per model, mean +/- SEM over seeds per launch; the report on stdout");
  command
      ->add_option("models", probe->runs,
                   "Run folders, folders of runs (their finished runs) and imported TorchScript models (files, with "
                   "their <file>.json); all runs must share their test images")
      ->required()
      ->check(CLI::ExistingPath);
  command->add_option("--config", probe->config, "Probe config (JSON; see packaging/examples/probe-quick.json)")
      ->check(CLI::ExistingFile);
  command
      ->add_option("--max-images", probe->maxImages,
                   "Override the config's max_images: the first N test images (0: all)")
      ->check(CLI::NonNegativeNumber);
  command->add_option("--images", probe->images,
                      "Probe images for imported models when no run names them (any image dataset: IDX, CIFAR, "
                      "folder); overrides the config's images.path");
  command->add_option("--split", probe->split, "The --images split (default test)");
  command->add_flag("--color", probe->color, "Read the --images in colour (default grayscale)");
  command->add_option("--output-dir", probe->outputDir,
                      "Also write report.json and probe-table.csv (one row per model and per launch) here");
  command->callback([&global, probe] { runProbe(global, *probe); });
}

}  // namespace bp::cli
