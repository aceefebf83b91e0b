#include "classifier_commands.h"

#include <memory>

#include "classifiers/python_export.h"
#include "classifiers/run_folder.h"
#include "classifiers/scripted_classifier.h"
#include "training/neural_trainer.h"

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

struct ExportOptions {
  std::string model;
  std::string output;
};

void runExport(const GlobalOptions& global, const ExportOptions& options) {
  startRuntime(global);
  const std::filesystem::path model(options.model);
  const std::filesystem::path output(options.output);
  nlohmann::json json = {{"model", options.model}, {"output", options.output}, {"description", options.output + ".json"}};
  if (std::filesystem::is_directory(model)) {
    json["kind"] = "classifier";
    json["python"] = exportClassifierForPython(loadRunModel(model), output).at("python");
  } else {
    exportNeuralModelForPython(loadNeuralModel(model), output);
    json["kind"] = "neural model";
  }
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

  auto exported = std::make_shared<ExportOptions>();
  CLI::App* exportCommand = app.add_subcommand(
      "export",
      "Export a trained model for Python: a state_dict file that torch.load reads (a classifier run's ResNet18/34 "
      "with torchvision's parameter names) and <output>.json with its config and normalisation; prints the Python "
      "that loads it");
  exportCommand->add_option("model", exported->model, "A classifier run folder, or a neural model file from `fit`")
      ->required()
      ->check(CLI::ExistingPath);
  exportCommand->add_option("-o,--output", exported->output, "The state_dict file to write (e.g. model.pth)")
      ->required();
  exportCommand->callback([&global, exported] { runExport(global, *exported); });
}

}  // namespace bp::cli
