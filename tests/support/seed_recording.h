#pragma once
// The smallest valid recording: two neurons, 2x2 images, two train trials and one test image shown
// twice. The HDF5 fuzz harness's seed, and the base of the one-byte file that crashed libhdf5
// (core.test_static_hdf5), whose byte offset depends on exactly these contents.
#include "data/neural_dataset.h"

namespace bp::test {

inline NeuralDataset seedRecording() {
  NeuralDataset dataset;
  dataset.name = "seed";
  dataset.channels = 1;
  dataset.height = dataset.width = 2;
  dataset.neuronCount = 2;
  dataset.tiers = {Tier::Train, Tier::Train, Tier::Test, Tier::Test};
  dataset.imageIds = {0, 1, 2, 2};
  dataset.trialIds = {0, 1, 2, 3};
  dataset.imageClasses = {"a", "b", "a", "a"};
  dataset.images = {0, 64, 128, 255, 255, 128, 64, 0, 10, 20, 30, 40, 10, 20, 30, 40};
  dataset.responses = {0, 1, 2, 3, 1, 1, 2, 0};
  dataset.validate();
  return dataset;
}

}  // namespace bp::test
