#include "demo_commands.h"

#include <cstdio>
#include <memory>

#include "demo/demo_pipeline.h"
#include "runtime/atomic_file.h"

namespace bp::cli {
namespace {

// The live demo and its replay tell the story in the same words.
void narrate(const DemoStep& step, bool finished, std::size_t number) {
  if (!finished) {
    std::fprintf(stderr, "\n== %zu. %s\n   %s\n", number, step.title.c_str(), step.narration.c_str());
  } else {
    std::fprintf(stderr, "   -> %s (%.0f s)\n", step.finding.c_str(), step.seconds);
    for (const std::string& warning : step.warnings) std::fprintf(stderr, "   !! %s\n", warning.c_str());
  }
}

void warnAboutSettings(const GlobalOptions& global, const DemoResult& result) {
  if (const auto warning = demoSettingsWarning(result); warning && !global.quiet)
    std::fprintf(stderr, "\n!! %s\n", warning->c_str());
}

void runDemoCommand(const GlobalOptions& global, const DemoConfig& config) {
  validate(config);
  startRuntime(global);
  std::size_t number = 0;
  const DemoResult result = runDemo(config, progressJob(global), [&](const DemoStep& step, bool finished) {
    if (!finished) ++number;
    if (!global.quiet) narrate(step, finished, number);
  });
  warnAboutSettings(global, result);
  printJson(toJson(result));
}

// A finished demo told again from its folder, instantly: nothing is computed.
void replayDemoCommand(const GlobalOptions& global, const std::string& folder) {
  const DemoResult result = readDemoFolder(folder);
  if (!global.quiet) {
    std::fprintf(stderr, "Replay of the demo in %s (it ran in %.0f s)\n", folder.c_str(), result.seconds);
    for (std::size_t i = 0; i < result.steps.size(); ++i) {
      narrate(result.steps[i], false, i + 1);
      narrate(result.steps[i], true, i + 1);
    }
  }
  warnAboutSettings(global, result);
  // demo.json as the demo wrote it: its runtime is the machine that ran it, not this one.
  printJson(nlohmann::json::parse(readTextFile(demoFiles(folder).summary)));
}

}  // namespace

void addDemoCommands(CLI::App& app, GlobalOptions& global) {
  auto config = std::make_shared<DemoConfig>();
  auto outputDir = std::make_shared<std::string>();
  CLI::App* command = app.add_subcommand(
      "demo",
      "The whole pipeline of Li et al. 2019 on the embedded default data, in minutes on a 2-core CPU: synthetic V1 "
      "neurons -> a predictive model -> the denoised neural similarity of Fashion-MNIST images -> baseline, "
      "neural-regularized and shuffled-control classifiers -> their noise and adversarial probe; each step "
      "narrated on stderr, the summary (demo.json) on stdout");
  auto replay = std::make_shared<std::string>();
  CLI::Option* output = command->add_option("-o,--output-dir", *outputDir, "An empty or new folder for the demo's files");
  CLI::Option* replayOption = command->add_option(
      "--replay", *replay,
      "Tell a finished demo again from its folder, instantly (its narration and findings; demo.json on stdout)");
  output->excludes(replayOption);
  command->add_option("--fit-epochs", config->fitEpochs, "Epochs of the neural model")->capture_default_str();
  command->add_option("--target-images", config->targetImages, "Fashion-MNIST images the target spans")
      ->capture_default_str();
  command->add_option("--train-images", config->trainImages, "Classifier train images")->capture_default_str();
  command->add_option("--test-images", config->testImages, "Classifier test images")->capture_default_str();
  command->add_option("--epochs", config->epochs, "Epochs per classifier")->capture_default_str();
  command->add_option("--alpha", config->alpha, "Regularizer strength")->capture_default_str();
  command->add_option("--seeds", config->seeds, "One run per seed and launch")->capture_default_str();
  command->add_option("--probe-images", config->probeImages, "Test images of the probe")->capture_default_str();
  command->callback([&global, config, outputDir, replay] {
    if (!replay->empty()) return replayDemoCommand(global, *replay);
    if (outputDir->empty()) throw CLI::RequiredError("--output-dir (or --replay)");
    config->outputDir = *outputDir;
    runDemoCommand(global, *config);
  });
}

}  // namespace bp::cli
