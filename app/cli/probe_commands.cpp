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

// The runs to probe: a run folder as given (an unfinished one is refused by the probe, by name),
// and the finished runs of a folder of runs (the others are listed in `skipped`).
std::vector<fs::path> collectRuns(const std::vector<std::string>& arguments, nlohmann::json& skipped) {
  std::vector<fs::path> folders;
  for (const auto& argument : arguments) {
    if (fs::exists(fs::path(argument) / "summary.json")) {
      folders.emplace_back(argument);
      continue;
    }
    const std::vector<RunRecord> records = listRuns(argument);
    std::size_t finished = 0;
    for (const auto& record : records) {
      if (record.state == "finished") {
        folders.push_back(record.folder);
        ++finished;
      } else {
        skipped.push_back({{"folder", record.folder.string()}, {"state", record.state}});
      }
    }
    if (finished == 0)
      throw FileError(argument, "holds no finished run (" + std::to_string(records.size()) + " runs in all)");
  }
  return folders;
}

void runProbe(const GlobalOptions& global, const ProbeOptions& options) {
  ProbeConfig config;
  if (!options.config.empty()) {
    try {
      config = probeConfigFromJson(readJsonFile(options.config));
    } catch (const FileError&) {
      throw;
    } catch (const Error& error) {
      throw FileError(options.config, error.what());
    }
  }
  // Command-line settings win over the file's.
  if (options.maxImages >= 0) config.maxImages = options.maxImages;
  validate(config);
  nlohmann::json skipped = nlohmann::json::array();
  const std::vector<fs::path> folders = collectRuns(options.runs, skipped);
  if (!global.quiet)
    for (const auto& run : skipped)
      std::fprintf(stderr, "skipping %s: the run is %s\n", run.at("folder").get<std::string>().c_str(),
                   run.at("state").get<std::string>().c_str());
  startRuntime(global);
  const ProbeReport report = probeRuns(folders, config, progressJob(global));
  nlohmann::json json = toJson(report);
  json["skipped"] = skipped;
  if (!options.outputDir.empty()) {
    fs::create_directories(options.outputDir);
    writeFileAtomically(fs::path(options.outputDir) / "report.json", json.dump(2) + "\n");
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
      "perturbations and attack success rates per model, mean +/- SEM over seeds per launch; the report on stdout");
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
