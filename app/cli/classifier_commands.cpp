#include "classifier_commands.h"

#include <memory>

#include "classifiers/run_folder.h"
#include "classifiers/scripted_classifier.h"

namespace bp::cli {
namespace {

void runLayers(const GlobalOptions& global, const std::string& model) {
  startRuntime(global);
  const std::filesystem::path path(model);
  TrainedClassifier trained = loadAnalysisModel(path);
  nlohmann::json layers = nlohmann::json::array();
  for (const LayerShape& layer : layerShapes(trained.model, trained.imageShape))
    layers.push_back({{"name", layer.name}, {"shape", layer.shape}});
  nlohmann::json json = {{"model", model},
                         {"kind", std::filesystem::is_directory(path) ? "run" : "torchscript"},
                         {"image_shape", trained.imageShape},
                         {"classes", trained.model->classCount()},
                         {"class_names", trained.classNames},
                         {"layers", layers}};
  if (!std::filesystem::is_directory(path)) json["description"] = toJson(readScriptedModelDescription(path));
  printJson(json);
}

}  // namespace

void addClassifierCommands(CLI::App& app, GlobalOptions& global) {
  auto model = std::make_shared<std::string>();
  CLI::App* layersCommand = app.add_subcommand(
      "layers",
      "List a classifier's layers (a run folder, or an imported TorchScript model with its <file>.json) with their "
      "output shapes for one image, its input shape and classes, as JSON");
  layersCommand->add_option("model", *model, "A run folder or a TorchScript file")->required()->check(CLI::ExistingPath);
  layersCommand->callback([&global, model] { runLayers(global, *model); });
}

}  // namespace bp::cli
