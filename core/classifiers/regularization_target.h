#pragma once
// What a brain regularizer pulls a classifier towards (docs/science.md §1 steps 4-6, §2): a target
// similarity matrix over a set of images, with its controls (shuffled image order, pixel similarity,
// Attias et al.'s thresholding), and per-image importance maps for harmonization.
//
// Target images. A matrix file written by `brainprior-cli target --images PATH --split SPLIT
// --max-images N` (or `brainprior-cli rsa` over any features) has one row per image, and its
// image_ids are indices into that image dataset as loadImageDataset reads it (file order, the first
// N). The regularizer needs the images themselves, so the target config names the same dataset:
// path, split and max_images must be those the matrix was made from. (Targets over a neural
// dataset's own stimuli are not supported yet: export the stimuli as an image folder first.)
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <torch/types.h>
#include <nlohmann/json_fwd.hpp>

#include "data/image_dataset.h"
#include "rsa/similarity.h"
#include "rsa/similarity_distribution.h"
#include "runtime/job.h"

namespace bp {

enum class TargetSource {
  MatrixFile,  // a similarity matrix file (model-predicted neural similarity, another network's, ...)
  Pixel,       // centred cosine of the images' pixels (computeSimilarity over flattened pixels)
};

struct TargetImagesConfig {
  std::string path;  // empty: the training data's path
  std::string split = "train";
  std::int64_t maxImages = 0;  // 0: all; otherwise the first maxImages in file order
};

struct RegularizationTargetConfig {
  TargetSource source = TargetSource::MatrixFile;
  std::string matrixFile;     // source matrix_file: the .h5 similarity matrix
  TargetImagesConfig images;  // the images the matrix's image_ids index (or whose pixels make the target)
  // The shuffled control: S'(a, b) = S(order[a], order[b]) with order = shuffledImageOrder(n, seed),
  // seed = shuffleSeed, or the run's seed when shuffleSeed is negative.
  bool shuffled = false;
  std::int64_t shuffleSeed = -1;
  // Attias et al. 2024: +1 above threshold, -1 below -threshold, 0 elsewhere (0.8 for CIFAR, with
  // alpha 10). Absent: no transform.
  std::optional<double> threshold;
};

// {"source": "matrix_file" | "pixel", "matrix_file", "images": {"path", "split", "max_images"},
// "shuffled", "shuffle_seed", "threshold": number or null}. Strict like every engine config.
nlohmann::json toJson(const RegularizationTargetConfig& config);
RegularizationTargetConfig regularizationTargetConfigFromJson(const nlohmann::json& json);

struct RegularizationTarget {
  torch::Tensor images;                    // n x C x H x W, float in [0, 1], CPU: row a's image
  torch::Tensor similarity;                // n x n float, CPU: the target after the shuffle and threshold
  std::vector<std::int64_t> imageIndices;  // per row, the image's index in the target image dataset
  std::string description;                 // "matrix file target.h5 (shuffled, thresholded at 0.8)", for logs
  // The matrix's values before the shuffle (which keeps them) and the threshold (which makes them
  // ternary on purpose): whether the target itself is healthy.
  SimilarityDistribution distribution;
  std::int64_t size() const { return similarity.defined() ? similarity.size(0) : 0; }
};

// Builds the target: reads the matrix (or computes the pixel similarity) and the images with the
// given channel mode, applies the shuffle and then the threshold. Throws FileError for unreadable
// files, bp::Error when the matrix is a dissimilarity, too large (above kInMemorySimilarityLimit
// images), or names image ids outside the image dataset.
RegularizationTarget loadRegularizationTarget(const RegularizationTargetConfig& config,
                                              const std::string& defaultImagesPath, bool grayscale,
                                              std::uint64_t runSeed, const Job& job = {});

// The same from what is already in memory: `matrix` rows index `images` by their image ids.
RegularizationTarget makeRegularizationTarget(const SimilarityMatrix& matrix, const ImageDataset& images,
                                              const RegularizationTargetConfig& config, std::uint64_t runSeed);

// The pixel-similarity control: centred cosine over the flattened pixels of every image (ids are
// the dataset indices).
SimilarityMatrix pixelSimilarity(const ImageDataset& images, const Job& job = {});

// Per-image importance maps for harmonization, aligned with a dataset's images.
struct ImportanceMaps {
  torch::Tensor maps;     // images x height x width, float (0 where an image has no map)
  torch::Tensor present;  // images, float: 1 where the image has a map, 0 otherwise
  std::int64_t count() const { return present.defined() ? static_cast<std::int64_t>(present.sum().item<double>()) : 0; }
};

// Reads importance maps for the `imageCount` images of a dataset (indices 0 .. imageCount - 1, as
// loadImageDataset reads the split), each resized to height x width:
//  - an HDF5 file: dataset `hdf5Dataset` of shape maps x H x W (or maps x 1 x H x W), any numeric
//    type; row r is image r, or image image_ids[r] when the file has an int64 "image_ids" dataset;
//  - a folder: one grayscale PNG (or JPEG, BMP, PGM, TIFF; 8 or 16 bit) per image, named by its index
//    ("42.png", "00042.png"); other files are ignored.
// Maps are used as they are (scale does not matter: harmonization z-scores them); ClickMe maps
// should be blurred beforehand as the paper does. FileError when nothing matches or a map is unreadable.
ImportanceMaps loadImportanceMaps(const std::filesystem::path& source, const std::string& hdf5Dataset,
                                  std::int64_t imageCount, int height, int width);

}  // namespace bp
