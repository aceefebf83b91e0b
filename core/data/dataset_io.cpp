#include "data/dataset_io.h"

#include <algorithm>
#include <array>

#include "data/file_tree.h"
#include "data/image_readers.h"
#include "data/nwb.h"
#include "data/static_hdf5.h"
#include "runtime/error.h"

namespace fs = std::filesystem;

namespace bp {
namespace {

bool hasIdxImages(const fs::path& folder) {
  for (const char* name : {"train-images-idx3-ubyte", "train-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte",
                           "t10k-images-idx3-ubyte.gz"})
    if (fs::exists(folder / name)) return true;
  return false;
}

bool hasCifarBatches(const fs::path& folder) {
  for (const char* name : {"data_batch_1.bin", "test_batch.bin", "train.bin", "test.bin"})
    if (fs::exists(folder / name)) return true;
  return false;
}

// A folder whose first class subfolder holds at least one image file.
bool hasClassSubfolders(const fs::path& folder) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(folder, ec)) {
    if (!entry.is_directory()) continue;
    for (const auto& file : fs::directory_iterator(entry.path(), ec))
      if (file.is_regular_file() && isImageFile(file.path())) return true;
  }
  return false;
}

std::string idxSplitName(const std::string& split) { return split == "test" ? "t10k" : split; }

std::string cifarSplitName(const std::string& split) { return split == "t10k" ? "test" : split; }

[[noreturn]] void throwUnrecognised(const fs::path& path) {
  if (!fs::exists(path)) throw FileError(path.string(), "no such file or folder");
  throw FileError(path.string(),
                  "not a dataset BrainPrior recognises (expected a neuralpredictors file tree (or its zip archive) or static HDF5 "
                  "file, an NWB 2 file, "
                  "MNIST/Fashion-MNIST IDX files, CIFAR binary batches, or a folder of class subfolders with images)");
}

}  // namespace

const char* datasetFormatName(DatasetFormat format) {
  switch (format) {
    case DatasetFormat::NeuralFileTree: return "neuralpredictors file tree";
    case DatasetFormat::NeuralZippedTree: return "neuralpredictors file tree (zip)";
    case DatasetFormat::NeuralStaticHdf5: return "neuralpredictors static HDF5";
    case DatasetFormat::NeuralNwb: return "NWB 2 (two-photon ROI traces)";
    case DatasetFormat::IdxImages: return "IDX images (MNIST / Fashion-MNIST)";
    case DatasetFormat::CifarBinary: return "CIFAR binary batches";
    case DatasetFormat::ImageFolder: return "image folder (one subfolder per class)";
  }
  return "unknown";
}

bool isNeuralFormat(DatasetFormat format) {
  return format == DatasetFormat::NeuralFileTree || format == DatasetFormat::NeuralZippedTree ||
         format == DatasetFormat::NeuralStaticHdf5 ||
         format == DatasetFormat::NeuralNwb;
}

std::optional<DatasetFormat> detectDatasetFormat(const fs::path& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    if (looksLikeFileTree(path)) return DatasetFormat::NeuralFileTree;
    if (hasIdxImages(path)) return DatasetFormat::IdxImages;
    if (hasCifarBatches(path)) return DatasetFormat::CifarBinary;
    if (hasClassSubfolders(path)) return DatasetFormat::ImageFolder;
    return std::nullopt;
  }
  if (!fs::is_regular_file(path, ec)) return std::nullopt;
  if (looksLikeHdf5(path)) return looksLikeNwb(path) ? DatasetFormat::NeuralNwb : DatasetFormat::NeuralStaticHdf5;
  if (looksLikeZippedFileTree(path)) return DatasetFormat::NeuralZippedTree;
  const auto name = path.filename().string();
  if (name.find("idx3-ubyte") != std::string::npos) return DatasetFormat::IdxImages;
  if (path.extension() == ".bin") return DatasetFormat::CifarBinary;
  return std::nullopt;
}

NeuralDataset loadNeuralDataset(const fs::path& path, const Job& job, const NwbReadOptions& nwb) {
  const auto format = detectDatasetFormat(path);
  if (!format) throwUnrecognised(path);
  switch (*format) {
    case DatasetFormat::NeuralFileTree: return readFileTree(path, job);
    case DatasetFormat::NeuralZippedTree: return readZippedFileTree(path, job);
    case DatasetFormat::NeuralStaticHdf5: return readStaticHdf5(path, job);
    case DatasetFormat::NeuralNwb: return readNwb(path, nwb, job);
    default:
      throw FileError(path.string(), std::string("holds ") + datasetFormatName(*format) +
                                         ", not neural recordings (open it as an image dataset)");
  }
}

ImageDataset loadImageDataset(const fs::path& path, const ImageLoadOptions& options, const std::string& split,
                              const Job& job) {
  if (split != "train" && split != "test" && split != "t10k")
    throw Error("unknown split '" + split + "' (expected train or test)");
  const auto format = detectDatasetFormat(path);
  if (!format) throwUnrecognised(path);
  switch (*format) {
    case DatasetFormat::IdxImages:
      if (fs::is_directory(path)) return readIdxFolder(path, idxSplitName(split), options, job);
      {
        auto labels = path.filename().string();
        labels.replace(labels.find("images-idx3"), std::string("images-idx3").size(), "labels-idx1");
        return readIdx(path, path.parent_path() / labels, options, job);
      }
    case DatasetFormat::CifarBinary:
      if (fs::is_directory(path)) return readCifarFolder(path, cifarSplitName(split), options, job);
      return readCifarBinary({path}, options, job);
    case DatasetFormat::ImageFolder:
      // A folder with train/ and test/ inside picks the split; otherwise the folder is the dataset.
      if (fs::is_directory(path / cifarSplitName(split)) && hasClassSubfolders(path / cifarSplitName(split)))
        return readImageFolder(path / cifarSplitName(split), options, job);
      return readImageFolder(path, options, job);
    default:
      throw FileError(path.string(), std::string("holds ") + datasetFormatName(*format) +
                                         ", not labelled images (open it as a neural dataset)");
  }
}

}  // namespace bp
