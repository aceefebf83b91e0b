#pragma once
// Imported networks: any PyTorch model saved as TorchScript (torch.jit.trace or torch.jit.script,
// then save) used as a classifier (classifier.h) by every analysis, next to BrainPrior's own runs.
//
// The model returns either its logits (batch x classes) or a dictionary of named layer outputs, as
// torchvision's create_feature_extractor makes one; in a dictionary the entry "logits", when there
// is one, is the logits, and every entry is a layer an analysis can choose (4-D maps or batch x
// units). Its preprocessing is declared, never guessed, in "<model file>.json" beside it:
// (scripted_model_description.h).
//
// Every analysis hands the classifier images in [0, 1]; it brings them to the declared channels and
// size (image_shape.h), maps [0, 1] linearly onto `range`, then subtracts `mean` and divides by `std`
// (both in the range's units), all inside its forward pass, so perturbation budgets are fractions of
// the model's input range (8/255 is 8 grey levels of a 0-255 model) in every analysis alike.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "classifiers/scripted_model_description.h"
#include "classifiers/trained_classifier.h"

namespace bp {

// Loads a TorchScript model and its description onto the CPU in evaluation mode and runs it once on
// two black images of the declared input, to learn its layers and check its output. imageShape is
// the declared (channels, height, width). FileError, naming the file, for: no description; a file that
// is not TorchScript; a file saved by a newer PyTorch than this LibTorch reads (saying both versions)
// or using operators it lacks; an output that is neither logits nor a dictionary of tensors; an
// input size the model rejects; a model too big for memory.
TrainedClassifier loadScriptedClassifier(const std::filesystem::path& modelFile);
// The same with its description already read (readScriptedModelDescription).
TrainedClassifier loadScriptedClassifier(const std::filesystem::path& modelFile,
                                         const ScriptedModelDescription& description);

// FileError naming `modelFile` when the model returns no logits: its layers serve similarity and
// predictivity, but it cannot classify (so it cannot be probed).
void requireLogits(const TrainedClassifier& trained, const std::filesystem::path& modelFile);

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

// Layer names as error messages list them: "conv, pool, logits".
std::string layerNames(const std::vector<std::string>& names);

// The index of each of `names` among model's tapNames(); bp::Error naming an absent layer and the
// layers there are. Empty `names`: every tap.
std::vector<std::size_t> tapIndices(const ClassifierImpl& model, const std::vector<std::string>& names);

}  // namespace bp
