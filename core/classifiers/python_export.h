#pragma once
// Trained models out to Python. Classifiers: a state_dict file that Python's torch.load reads, with
// torchvision's parameter names (conv1, bn1, layer1.0.conv1, layer1.0.downsample.0, fc, ...), so
// that torchvision's ResNet18 or ResNet34 with BrainPrior's CIFAR stem (a 3 x 3 stride-1 conv1 over
// the input channels, no max-pool) loads it with load_state_dict(strict=True), and beside it
// "<file>.json" with what the weights do not say: the architecture and config, the class names, the
// image shape and the normalisation that BrainPrior applies inside the model ((image - mean) / std on
// images in [0, 1]), which a Python user applies before calling the network. small_resnet follows the
// same naming with three stages, which torchvision's ResNet class cannot build (its widths are fixed).
// Fitted neural models: their tensors under LibTorch's own names, with their config and
// normalisation in the JSON, for users who read the weights (e.g. readout positions) in Python.
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "classifiers/trained_classifier.h"
#include "training/neural_trainer.h"

namespace bp {

// The model's parameters and buffers under torchvision's names, in the model's order, without
// BrainPrior's normalisation buffers. bp::Error for an imported model.
std::vector<std::pair<std::string, torch::Tensor>> torchvisionStateDict(const Classifier& model);

// Writes `file` (the state_dict) and "<file>.json" (format "brainprior classifier for python"; keys
// "architecture", "model" (ClassifierConfig), "class_names", "image_shape", "normalization": {"mean",
// "std"}, "torchvision", "python": the lines that rebuild and run it), both atomically; returns that
// description.
nlohmann::json exportClassifierForPython(const TrainedClassifier& trained, const std::filesystem::path& file);

// Writes `file` (the model's parameters and buffers under LibTorch's names) and "<file>.json" (format
// "brainprior neural model for python"; keys "model" (NeuralModelConfig), "normalization"), atomically.
void exportNeuralModelForPython(const FittedNeuralModel& fitted, const std::filesystem::path& file);

}  // namespace bp
