#pragma once
// Readers for labelled image collections: MNIST-style IDX files, CIFAR binary batches and folders
// of class subfolders. All produce planar float images (RGB or one luminance channel) converted
// by ImageLoadOptions, report progress, honour cancellation, and throw FileError naming the
// offending file for any malformed input.
#include <filesystem>
#include <string>
#include <vector>

#include "data/image_dataset.h"
#include "runtime/job.h"

namespace bp {

// Whether a file is an image the folder reader takes, by its extension: .png, .jpg, .jpeg or .bmp
// in any case.
bool isImageFile(const std::filesystem::path& file);

// An IDX image file (magic 0x00000803) and its label file (magic 0x00000801), raw or gzipped.
// Class names are the ten Fashion-MNIST names when the images' path contains "fashion" (any
// case), otherwise the digits "0".."9" (extended to the largest label if it is above 9).
ImageDataset readIdx(const std::filesystem::path& imagesFile, const std::filesystem::path& labelsFile,
                     const ImageLoadOptions& options = {}, const Job& job = {});

// `<split>-images-idx3-ubyte[.gz]` and `<split>-labels-idx1-ubyte[.gz]` in `folder`; split is
// "train" or "t10k" (the names MNIST and Fashion-MNIST use).
ImageDataset readIdxFolder(const std::filesystem::path& folder, const std::string& split,
                           const ImageLoadOptions& options = {}, const Job& job = {});

// CIFAR binary batches, read in the given order: CIFAR-10 records (label byte + 3072 pixel bytes)
// or CIFAR-100 records (coarse and fine label bytes + 3072; the fine label is used). Class names
// come from batches.meta.txt (CIFAR-10) or fine_label_names.txt (CIFAR-100) beside the first
// batch when present, else the standard CIFAR-10 names or "0".."99".
ImageDataset readCifarBinary(const std::vector<std::filesystem::path>& batchFiles, const ImageLoadOptions& options = {},
                             const Job& job = {});

// The batches of one split in a folder as the CIFAR archives unpack it: split "train" reads
// data_batch_*.bin (CIFAR-10) or train.bin (CIFAR-100); "test" reads test_batch.bin or test.bin.
ImageDataset readCifarFolder(const std::filesystem::path& folder, const std::string& split,
                             const ImageLoadOptions& options = {}, const Job& job = {});

// One subfolder per class (sorted subfolder names are the class names), each holding PNG, JPEG or
// BMP files, read in sorted order. The images are colour (RGB) unless every one is grayscale.
// Without a resize in `options` all images must have one size.
ImageDataset readImageFolder(const std::filesystem::path& root, const ImageLoadOptions& options = {},
                             const Job& job = {});

// One image file (PNG, JPEG, BMP, or anything else OpenCV decodes; alpha dropped) as planar floats
// in the geometry a model takes: `channels` 1 (BT.601 luminance) or 3 (RGB, a gray file repeated),
// resized to height x width, pixels mapped from 0..255 onto [rangeMin, rangeMax] of `options` (its
// resize, grayscale and maxImages are not used). FileError for an unreadable file, bp::Error for a
// channel count other than 1 or 3 or a non-positive size. The probe panel reads dropped files this way.
std::vector<float> readImageFile(const std::filesystem::path& file, int channels, int height, int width,
                                 const ImageLoadOptions& options = {});

}  // namespace bp
