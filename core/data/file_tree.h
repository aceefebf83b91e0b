#pragma once
// The neuralpredictors "file tree" static dataset: one .npy per trial and data key
// (data/<key>/<i>.npy), per-trial metadata in meta/trials/, neuron metadata in meta/neurons/,
// normalisation statistics in meta/statistics/, and a config.json whose "links" alias data keys.
#include <filesystem>

#include "data/neural_dataset.h"
#include "runtime/job.h"

namespace bp {

// True when `root` is a folder with a config.json, or with data/ and meta/trials/tiers.npy.
bool looksLikeFileTree(const std::filesystem::path& root);

// Reads images, responses and (when their folders exist) behavior and pupil_center for every
// trial declared in meta/trials/tiers.npy. Trials with no data file at all are left out and
// listed in missingTrialIds; a trial with only some of its files, a file of the wrong shape or
// any malformed file throws FileError naming that file. Files are read on
// std::thread::hardware_concurrency() threads; progress and cancellation go through `job`
// (CancelledError when cancelled). trialIds and missingTrialIds are meta/trials/trial_idx.npy
// values when that file exists, else the file indices i.
NeuralDataset readFileTree(const std::filesystem::path& root, const Job& job = {});

}  // namespace bp
