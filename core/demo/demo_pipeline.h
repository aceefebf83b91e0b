#pragma once
// The whole story of Li et al. 2019 in one call, on the embedded default data and sized for a
// 2-core laptop in front of an audience: the synthetic V1 population driven by Fashion-MNIST ->
// a predictive CNN model of its neurons -> the denoised neural similarity of Fashion-MNIST images
// predicted by that model -> a baseline, a neural-similarity-regularized and a shuffled-control
// classifier -> the noise and adversarial probe of all three. `brainprior-cli demo` runs it (the
// GUI's demo mode is to narrate the same steps). Every step says what it does before it starts and
// what it found when it ends, so a presenter can read the story off the progress.
//
// Files, all in DemoConfig::outputDir: v1-model.pt (+ .metrics.json), target.h5, runs/ (one run
// folder per launch and seed, run_folder.h), probe/report.json and probe/probe-table.csv
// (writeProbeReportFolder, as `brainprior-cli probe --output-dir`), demo.json (toJson(DemoResult)).
// A demo folder that already holds a demo is refused: a rerun never mixes runs of two demos.
#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/job.h"

namespace bp {

struct DemoConfig {
  std::filesystem::path outputDir;
  int fitEpochs = 8;                   // the predictive model's epochs (early stopping may end it sooner)
  std::int64_t targetImages = 500;     // Fashion-MNIST train images the target spans (pairs drawn from them)
  // Classifier train images. 10,000 shows the paper's effect in every seed within 3 minutes on 2
  // cores (docs/results.md); 6,000 took 90 s but showed it only on average over seeds.
  std::int64_t trainImages = 10000;
  std::int64_t testImages = 2000;      // classifier test images
  int epochs = 3;                      // per classifier
  double alpha = 2.0;                  // the regularizer's strength (the paper's 20 swamps this small problem)
  std::vector<std::uint64_t> seeds = {1};
  std::int64_t probeImages = 200;      // the probe's test images ("quick" preset otherwise)
};

// Keys: {"output_dir", "fit_epochs", "target_images", "train_images", "test_images", "epochs",
// "alpha", "seeds", "probe_images"}.
nlohmann::json toJson(const DemoConfig& config);
// Reads toJson(DemoConfig)'s keys strictly (runtime/config_reader.h): an absent key keeps its
// default, an unknown key or a value of the wrong type throws bp::Error naming it. The GUI's
// --demo-config reads its file with it; validate() judges the values.
DemoConfig demoConfigFromJson(const nlohmann::json& json);
// Throws bp::Error naming the first invalid setting (an empty output folder, a count below its
// minimum, no seeds, a negative alpha).
void validate(const DemoConfig& config);

// The steps' titles in the order they run (DemoStep::title), for a view that lists the steps
// before they start.
inline constexpr std::array<const char*, 5> kDemoStepTitles = {
    "Record the neurons", "Fit a model of the neurons", "Build the denoised neural similarity",
    "Train three classifiers", "Probe their robustness"};

struct DemoStep {
  std::string title;      // one of kDemoStepTitles
  std::string narration;  // what it does and why, said before it runs
  std::string finding;    // what it found, once it has run
  // Why the finding is not one (chance-level accuracy, a failed denoising check, a degenerate
  // target, medians of zeros): shown beside it wherever it is shown.
  std::vector<std::string> warnings;
  double seconds = 0.0;
  nlohmann::json result;  // the step's figures (e.g. the denoising check, the probe's launch table)
};

struct DemoResult {
  DemoConfig config;
  std::vector<DemoStep> steps;  // in order
  nlohmann::json probe;         // probe/report.json's content (probe_runner.h)
  double seconds = 0.0;
};

// One plain sentence when the demo's settings were too small to show the effect (some step's
// figures were flagged); nothing otherwise.
std::optional<std::string> demoSettingsWarning(const DemoResult& result);

// Keys: {"format": "brainprior demo", "version", "config", "steps": [{"title", "narration",
// "finding", "warnings", "seconds", "result"}], "seconds", "runtime"}, and "warning"
// (demoSettingsWarning) when there is one.
nlohmann::json toJson(const DemoResult& result);

// Called on the calling thread when a step starts (finding empty) and when it ends.
using DemoStepCallback = std::function<void(const DemoStep& step, bool finished)>;

// Runs the five steps. Throws bp::Error for an invalid config or a folder that already holds a
// demo, FileError when Fashion-MNIST is missing, CancelledError when the job is cancelled (the
// finished steps' files stay).
DemoResult runDemo(const DemoConfig& config, const Job& job = {}, const DemoStepCallback& onStep = {});

// A demo launch's role: "demo-neural" -> "neural" (the run folders carry the prefix).
std::string demoLaunchRole(const std::string& launch);

// The files the steps leave in a demo folder: the fitted model (step 2), the target (step 3), the
// run folders (step 4) and the probe report (step 5).
struct DemoFiles {
  std::filesystem::path model;        // v1-model.pt
  std::filesystem::path target;       // target.h5
  std::filesystem::path runs;         // runs/
  std::filesystem::path probeReport;  // probe/report.json
  std::filesystem::path summary;      // demo.json, written when the last step has finished
};
DemoFiles demoFiles(const std::filesystem::path& folder);

// A finished demo read back from its folder, for a replay that tells the story again at the speaker's
// pace without a CPU-bound minute: the steps with their narration, findings, warnings, times and
// figures, and the probe report. config.outputDir becomes `folder`, wherever the demo ran. Throws
// FileError naming the file for a folder without demo.json (a demo that was stopped never wrote
// it), a file that is not a finished demo of this format (its format, version, steps) or a step's
// file that is missing.
DemoResult readDemoFolder(const std::filesystem::path& folder);

}  // namespace bp
