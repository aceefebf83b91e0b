#pragma once
// The embedded default: a synthetic V1 population driven by Fashion-MNIST (Debian package
// dataset-fashion-mnist), so the whole pipeline runs on a fresh machine with no download.
#include <filesystem>

#include "data/nwb.h"
#include "data/synthetic_v1.h"
#include "runtime/job.h"

namespace bp {

// /usr/share/datasets/fashion-mnist, or $BRAINPRIOR_FASHION_MNIST when set.
std::filesystem::path defaultImageSourcePath();

// Reads just enough Fashion-MNIST training images for `config` and generates the population.
// FileError with an install hint when the package is missing.
SyntheticV1Result generateDefaultDataset(const SyntheticV1Config& config = {}, const Job& job = {});

// A neural dataset from a path (loadNeuralDataset), or the embedded default population for
// "default", as every command and panel that takes a dataset reads the word.
NeuralDataset loadNeuralOrDefault(const std::string& path, const Job& job = {}, const NwbReadOptions& nwb = {});

}  // namespace bp
