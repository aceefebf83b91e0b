#pragma once
// neuralpredictors "static" HDF5 datasets (one file per scan; layout in docs/science.md §4), which
// are also BrainPrior's native save format. Our extensions, ignored by neuralpredictors:
//   noise_free_rates               (trials, neurons) ground-truth rates of synthetic data
//   brainprior/missing_trial_ids   (missing,) source trial indices declared but absent
//   root attribute brainprior_name the dataset's name (default: the file's stem)
#include <filesystem>

#include "data/neural_dataset.h"
#include "runtime/job.h"

namespace bp {

// True when the file carries the 8-byte HDF5 signature (at offset 0 or after a user block).
bool looksLikeHdf5(const std::filesystem::path& file);

// Reads images (trials, channels, height, width) or (trials, height, width), responses, tiers and
// whatever optional keys are present. Without item_info/frame_image_id every trial counts as a
// distinct image (logged as a warning: oracle measures then find no repeats); without
// item_info/trial_idx trials are numbered 0..N-1. Throws FileError naming the file and the key
// for a missing required key, a shape that does not fit, or an unknown tier.
NeuralDataset readStaticHdf5(const std::filesystem::path& file, const Job& job = {});

// Saves every field of `dataset` so that readStaticHdf5 gives it back exactly (except sourcePath,
// which becomes `file`). Writes a temporary file and renames it over `file`: a failed or
// cancelled save leaves no file behind and an existing `file` intact.
void writeStaticHdf5(const NeuralDataset& dataset, const std::filesystem::path& file, const Job& job = {});

}  // namespace bp
