#pragma once
// Tiny neural datasets written out trial by trial, for tests whose expected values are computed by
// hand. Images are 1x1: the measures and similarity code never look at pixels.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "data/neural_dataset.h"

namespace bp::test {

struct HandMadeTrial {
  // A constructor rather than an aggregate, so that trials without a class can omit it.
  HandMadeTrial(std::int64_t imageId, Tier tier, std::vector<float> responses, std::string imageClass = {})
      : imageId(imageId), tier(tier), responses(std::move(responses)), imageClass(std::move(imageClass)) {}

  std::int64_t imageId;
  Tier tier;
  std::vector<float> responses;  // one per neuron
  std::string imageClass;        // empty: the dataset records no classes
};

inline NeuralDataset makeHandMadeDataset(const std::vector<HandMadeTrial>& trials) {
  NeuralDataset dataset;
  dataset.name = "hand-made";
  dataset.channels = dataset.height = dataset.width = 1;
  dataset.neuronCount = static_cast<std::int64_t>(trials.front().responses.size());
  const bool hasClasses = !trials.front().imageClass.empty();
  for (std::size_t t = 0; t < trials.size(); ++t) {
    dataset.images.push_back(0.0f);
    dataset.responses.insert(dataset.responses.end(), trials[t].responses.begin(), trials[t].responses.end());
    dataset.tiers.push_back(trials[t].tier);
    dataset.imageIds.push_back(trials[t].imageId);
    dataset.trialIds.push_back(static_cast<std::int64_t>(t));
    if (hasClasses) dataset.imageClasses.push_back(trials[t].imageClass);
  }
  return dataset;
}

}  // namespace bp::test
