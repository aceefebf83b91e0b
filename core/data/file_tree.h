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
// The Sensorium 2022 recordings are file trees too: their final_test tier is read as test trials,
// and a tier whose every trial's responses are exactly zero (what the competition scans publish
// for their test tiers) is withheld: its trials are listed in missingTrialIds, with a warning.
NeuralDataset readFileTree(const std::filesystem::path& root, const Job& job = {});

// A file tree packed in a zip archive (the Sensorium recordings are published so): a regular file
// whose archive holds a meta/trials/tiers.npy, at its top or in one folder.
bool looksLikeZippedFileTree(const std::filesystem::path& file);
// Unpacks the archive into a temporary folder (removed afterwards, whatever happens) and reads the
// tree there; the dataset's sourcePath is the archive. FileError naming the archive for a damaged
// archive, an entry that would land outside the folder, or a full disk.
NeuralDataset readZippedFileTree(const std::filesystem::path& file, const Job& job = {});

}  // namespace bp
