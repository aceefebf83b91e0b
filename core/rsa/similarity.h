#pragma once
// Representational similarity matrices at matrix-multiply speed: one blocked, symmetric GEMM
// kernel (each block pair computed once), in memory or streamed to a chunked HDF5 dataset.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rsa/features.h"
#include "runtime/job.h"

namespace bp {

enum class SimilarityMeasure {
  CentredCosine,  // the paper's: centre each unit across images, unit-normalise each image, inner products
  Pearson,        // correlation between two images' unit patterns (centre and normalise each image)
  Euclidean,      // distance between two images' unit patterns (a dissimilarity by nature)
};

const char* similarityMeasureName(SimilarityMeasure measure);  // "centred-cosine", "pearson", "euclidean"
std::optional<SimilarityMeasure> parseSimilarityMeasure(const std::string& name);

struct SimilarityConfig {
  SimilarityMeasure measure = SimilarityMeasure::CentredCosine;
  bool dissimilarity = false;          // report 1 - s (cosine, Pearson); Euclidean is always a distance
  std::vector<float> unitWeights;      // per unit (the paper's w_a * v_a); empty = all 1
  std::int64_t blockSize = 2048;       // rows per GEMM block
};

// True when the values are dissimilarities (1 - s, or Euclidean distances): 0 on the diagonal.
bool isDissimilarity(const SimilarityConfig& config);

// {"measure", "dissimilarity", "unit_weights", "block_size"}; fromJson throws bp::Error naming the
// bad field, and takes a missing field's default.
nlohmann::json toJson(const SimilarityConfig& config);
SimilarityConfig similarityConfigFromJson(const nlohmann::json& json);

struct SimilarityMatrix {
  std::int64_t size = 0;                // images
  std::vector<float> values;            // size x size, row-major, symmetric
  std::vector<std::int64_t> imageIds;   // per row
  std::vector<std::string> labels;      // per row, or empty
  SimilarityConfig config;
  nlohmann::json provenance;            // source, software versions, runtime, time of making

  float at(std::int64_t i, std::int64_t j) const { return values[static_cast<std::size_t>(i * size + j)]; }
};

// Images above which the GUI and CLI stream to disk instead of holding the matrix in memory.
constexpr std::int64_t kInMemorySimilarityLimit = 10000;

SimilarityMatrix computeSimilarity(const FeatureMatrix& features, const SimilarityConfig& config = {},
                                   const Job& job = {});

// Same values, written block by block to `file` (see rsa/matrix_file.h) with memory bounded by a few
// blocks, whatever the number of images. Atomic: a failed or cancelled run leaves no file.
void computeSimilarityToFile(const FeatureMatrix& features, const SimilarityConfig& config,
                             const std::filesystem::path& file, const Job& job = {});

}  // namespace bp
