#include "demo_commands.h"

#include <cstdio>
#include <memory>

#include "demo/demo_pipeline.h"

namespace bp::cli {
namespace {

void runDemoCommand(const GlobalOptions& global, const DemoConfig& config) {
  validate(config);
  startRuntime(global);
  const bool narrate = !global.quiet;
  std::size_t number = 0;
  const DemoResult result = runDemo(config, progressJob(global), [&](const DemoStep& step, bool finished) {
    if (!narrate) return;
    if (!finished) {
      std::fprintf(stderr, "\n== %zu. %s\n   %s\n", ++number, step.title.c_str(), step.narration.c_str());
    } else {
      std::fprintf(stderr, "   -> %s (%.0f s)\n", step.finding.c_str(), step.seconds);
      for (const std::string& warning : step.warnings) std::fprintf(stderr, "   !! %s\n", warning.c_str());
    }
  });
  if (const auto warning = demoSettingsWarning(result); warning && narrate)
    std::fprintf(stderr, "\n!! %s\n", warning->c_str());
  printJson(toJson(result));
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
  command->add_option("-o,--output-dir", *outputDir, "An empty or new folder for the demo's files")->required();
  command->add_option("--fit-epochs", config->fitEpochs, "Epochs of the neural model")->capture_default_str();
  command->add_option("--target-images", config->targetImages, "Fashion-MNIST images the target spans")
      ->capture_default_str();
  command->add_option("--train-images", config->trainImages, "Classifier train images")->capture_default_str();
  command->add_option("--test-images", config->testImages, "Classifier test images")->capture_default_str();
  command->add_option("--epochs", config->epochs, "Epochs per classifier")->capture_default_str();
  command->add_option("--alpha", config->alpha, "Regularizer strength")->capture_default_str();
  command->add_option("--seeds", config->seeds, "One run per seed and launch")->capture_default_str();
  command->add_option("--probe-images", config->probeImages, "Test images of the probe")->capture_default_str();
  command->callback([&global, config, outputDir] {
    config->outputDir = *outputDir;
    runDemoCommand(global, *config);
  });
}

}  // namespace bp::cli
