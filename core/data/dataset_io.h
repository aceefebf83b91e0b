#pragma once
// The front door for opening data: recognise what a path holds and read it with the right reader.
// The GUI's File > Open and the CLI's commands both come through here.
#include <filesystem>
#include <optional>
#include <string>

#include "data/image_dataset.h"
#include "data/neural_dataset.h"
#include "data/nwb.h"
#include "runtime/job.h"

namespace bp {

enum class DatasetFormat {
  NeuralFileTree,    // neuralpredictors file tree (folder of .npy files)
  NeuralZippedTree,  // such a tree in a zip archive (as the Sensorium recordings are published)
  NeuralStaticHdf5,  // neuralpredictors static HDF5 (also BrainPrior's native save format)
  NeuralNwb,         // NWB 2 file with two-photon ROI traces and the images shown
  IdxImages,         // MNIST / Fashion-MNIST IDX files (raw or .gz)
  CifarBinary,       // CIFAR-10/100 binary batches
  ImageFolder,       // one subfolder of PNG/JPEG files per class
};

const char* datasetFormatName(DatasetFormat format);
bool isNeuralFormat(DatasetFormat format);

// Looks at names and magic bytes only (cheap). nullopt when nothing matches.
std::optional<DatasetFormat> detectDatasetFormat(const std::filesystem::path& path);

// Reads a neural recording; FileError if `path` holds no neural dataset. `nwb` says what to read
// from an NWB file (other formats ignore it).
NeuralDataset loadNeuralDataset(const std::filesystem::path& path, const Job& job = {},
                                const NwbReadOptions& nwb = {});

// Reads labelled images. `split` picks "train" or "test" where a format has both
// (IDX folders call the test split "t10k"; either name works).
ImageDataset loadImageDataset(const std::filesystem::path& path, const ImageLoadOptions& options = {},
                              const std::string& split = "train", const Job& job = {});

}  // namespace bp
