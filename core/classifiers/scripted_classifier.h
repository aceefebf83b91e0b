#pragma once
// Imported networks: any PyTorch model saved as TorchScript (torch.jit.trace or torch.jit.script,
// then save) used as a classifier (classifier.h) by every analysis, next to BrainPrior's own runs.
//
// The model returns either its logits (batch x classes) or a dictionary of named layer outputs, as
// torchvision's create_feature_extractor makes one; in a dictionary the entry "logits", when there
// is one, is the logits, and every entry is a layer an analysis can choose (4-D maps or batch x
// units). Its preprocessing is declared, never guessed, in "<model file>.json" beside it:
//
//   {"input": {"channels": 3, "size": [224, 224], "range": [0, 1],
//              "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]},
//    "class_names": ["airplane", ...]}   (class_names optional)
//
// Every analysis hands the classifier images in [0, 1]; it brings them to the declared channels and
// size (image_shape.h), maps [0, 1] linearly onto `range`, then subtracts `mean` and divides by `std`
// (both in the range's units), all inside its forward pass, so perturbation budgets are fractions of
// the model's input range (8/255 is 8 grey levels of a 0-255 model) in every analysis alike.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "classifiers/trained_classifier.h"

namespace bp {

struct ScriptedModelInput {
  int channels = 3;
  std::int64_t height = 224;
  std::int64_t width = 224;
  double rangeLow = 0.0;   // the pixel value the model takes for black
  double rangeHigh = 1.0;  // and for white
  std::vector<float> mean;  // per channel, in the range's units
  std::vector<float> std;
};

struct ScriptedModelDescription {
  ScriptedModelInput input;
  std::vector<std::string> classNames;  // empty: unnamed
};

// Keys: {"input": {"channels", "size": [height, width], "range": [low, high], "mean", "std"},
// "class_names"}.
nlohmann::json toJson(const ScriptedModelDescription& description);
// Every "input" key is required (preprocessing is declared, not guessed); "class_names" is optional.
// bp::Error naming the missing, unknown or invalid key.
ScriptedModelDescription scriptedModelDescriptionFromJson(const nlohmann::json& json);
// Throws bp::Error naming the first invalid value (channels other than 1 or 3, a side < 8, an empty
// or inverted range, a mean or std per channel missing, a non-positive std).
void validate(const ScriptedModelInput& input);

// "<model file>.json".
std::filesystem::path scriptedModelDescriptionPath(const std::filesystem::path& modelFile);
// FileError naming the description file, and what it must say, when it is absent or invalid.
ScriptedModelDescription readScriptedModelDescription(const std::filesystem::path& modelFile);
// Written atomically beside the model (the GUI asks for the preprocessing once and keeps it there).
void writeScriptedModelDescription(const std::filesystem::path& modelFile, const ScriptedModelDescription& description);

// Loads a TorchScript model and its description onto the CPU in evaluation mode and runs it once on
// two black images of the declared input, to learn its layers and check its output. imageShape is
// the declared (channels, height, width). FileError, naming the file, for: no description; a file that
// is not TorchScript; a file saved by a newer PyTorch than this LibTorch reads (saying both versions)
// or using operators it lacks; an output that is neither logits nor a dictionary of tensors; an
// input size the model rejects; a model too big for memory.
TrainedClassifier loadScriptedClassifier(const std::filesystem::path& modelFile);

// A model an analysis names: a run folder (its trained model, run_folder.h's loadRunModel) or an
// imported TorchScript file (loadScriptedClassifier).
TrainedClassifier loadAnalysisModel(const std::filesystem::path& runFolderOrModelFile);

// One layer of a classifier as a forward pass of one image of `imageShape` shows it.
struct LayerShape {
  std::string name;
  std::vector<std::int64_t> shape;  // without the batch dimension
};
// Runs `model` once on a black image (no gradients, evaluation mode, then the mode it was in).
std::vector<LayerShape> layerShapes(Classifier& model, const std::vector<std::int64_t>& imageShape);

// The index of each of `names` among model's tapNames(); bp::Error naming an absent layer and the
// layers there are. Empty `names`: every tap.
std::vector<std::size_t> tapIndices(const ClassifierImpl& model, const std::vector<std::string>& names);

}  // namespace bp
