#include <string>

#include "data/image_dataset.h"
#include "data/neural_dataset.h"
#include "runtime/error.h"

namespace bp {
namespace {

void requireSize(const char* what, std::size_t actual, std::int64_t expected) {
  if (static_cast<std::int64_t>(actual) != expected)
    throw Error(std::string(what) + " has " + std::to_string(actual) + " values, expected " +
                std::to_string(expected));
}

void requireOptionalSize(const char* what, std::size_t actual, std::int64_t expected) {
  if (actual != 0) requireSize(what, actual, expected);
}

}  // namespace

const char* tierName(Tier tier) {
  switch (tier) {
    case Tier::Train: return "train";
    case Tier::Validation: return "validation";
    case Tier::Test: return "test";
  }
  return "train";
}

std::optional<Tier> parseTier(const std::string& name) {
  if (name == "train") return Tier::Train;
  if (name == "validation") return Tier::Validation;
  if (name == "test") return Tier::Test;
  return std::nullopt;
}

std::vector<std::int64_t> NeuralDataset::trialsOf(Tier tier) const {
  std::vector<std::int64_t> trials;
  for (std::int64_t t = 0; t < trialCount(); ++t)
    if (tiers[static_cast<std::size_t>(t)] == tier) trials.push_back(t);
  return trials;
}

void NeuralDataset::validate() const {
  const auto trials = trialCount();
  if (channels <= 0 || height <= 0 || width <= 0)
    throw Error("dataset '" + name + "' has no image geometry");
  requireSize("images", images.size(), trials * imageSize());
  requireSize("responses", responses.size(), trials * neuronCount);
  requireOptionalSize("behavior", behavior.size(), trials * 3);
  requireOptionalSize("pupil_center", pupilCenter.size(), trials * 2);
  requireOptionalSize("noise-free rates", noiseFreeRates.size(), trials * neuronCount);
  requireSize("image ids", imageIds.size(), trials);
  requireSize("trial ids", trialIds.size(), trials);
  requireOptionalSize("image classes", imageClasses.size(), trials);
  requireOptionalSize("unit ids", neurons.unitIds.size(), neuronCount);
  requireOptionalSize("neuron areas", neurons.area.size(), neuronCount);
  requireOptionalSize("neuron layers", neurons.layer.size(), neuronCount);
  requireOptionalSize("cell motor coordinates", neurons.cellMotorCoordinates.size(), neuronCount * 3);
}

void ImageDataset::validate() const {
  if (channels <= 0 || height <= 0 || width <= 0)
    throw Error("image dataset '" + name + "' has no image geometry");
  requireSize("pixels", pixels.size(), imageCount() * imageSize());
  for (const auto label : labels)
    if (label < 0 || label >= static_cast<std::int32_t>(classNames.size()))
      throw Error("image dataset '" + name + "' has label " + std::to_string(label) + " outside its " +
                  std::to_string(classNames.size()) + " classes");
}

}  // namespace bp
