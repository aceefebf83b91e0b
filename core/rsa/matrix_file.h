#pragma once
// Similarity matrix files (HDF5), format version 1:
//   similarity   n x n float32, chunked in square tiles (read a tile without reading rows)
//   image_ids    n int64
//   labels       n strings (optional)
//   metadata     one string: JSON {format, format_version, measure, dissimilarity, config, provenance}
// The JSON is a dataset, not an attribute: a config with thousands of unit weights outgrows
// HDF5's 64 KiB attribute limit.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/hdf5_file.h"
#include "rsa/similarity.h"
#include "runtime/job.h"

namespace bp {

constexpr int kSimilarityMatrixFormatVersion = 1;
// Side of the square chunks in which matrix files store values: 256 KiB per chunk, so a chunk
// fits HDF5's default 1 MiB chunk cache and a viewer's tile read touches few bytes it discards.
constexpr std::int64_t kSimilarityChunkSide = 256;

// True when an HDF5 file has the "similarity" and "metadata" datasets written here (a neural static
// HDF5 file has neither). Rehearsed in a helper process first (hdf5_file.h), as every outside file.
bool isSimilarityMatrixFile(const std::filesystem::path& file);

// Atomic: a failed or cancelled write leaves no file (and an existing one intact).
// Throws bp::Error when the matrix is inconsistent, FileError when the file cannot be written.
void writeSimilarityMatrix(const SimilarityMatrix& matrix, const std::filesystem::path& file, const Job& job = {});

// Reads a whole matrix into memory, from a BrainPrior matrix file or an rsatoolbox file (its first
// RDM). Matrices of more than `maxImages` images are refused with a FileError (read them through
// SimilarityMatrixFile instead): 50,000 images would take 10 GB.
SimilarityMatrix readSimilarityMatrix(const std::filesystem::path& file, const Job& job = {},
                                      std::int64_t maxImages = kInMemorySimilarityLimit);

// An open matrix file, for matrices too big to hold: everything but the values is read on open,
// values are read by block. Every problem (not HDF5, missing or wrong-shaped datasets, bad
// metadata, truncated data) throws FileError naming the file.
class SimilarityMatrixFile {
 public:
  static SimilarityMatrixFile open(const std::filesystem::path& file);

  const std::filesystem::path& path() const { return file_.path(); }
  std::int64_t size() const { return size_; }
  const SimilarityConfig& config() const { return config_; }
  const nlohmann::json& provenance() const { return provenance_; }
  const std::vector<std::int64_t>& imageIds() const { return imageIds_; }
  const std::vector<std::string>& labels() const { return labels_; }  // empty when the file has none

  // Values of rows [row0, row0 + rows) x columns [col0, col0 + cols), row-major.
  std::vector<float> readBlock(std::int64_t row0, std::int64_t col0, std::int64_t rows, std::int64_t cols) const;
  // The matrix shrunk by an integer factor f = ceil(size / maxSide) for viewing: cell (a, b) is the
  // mean of the f x f block at (a*f, b*f) (smaller at the edges). `side` receives ceil(size / f).
  // Memory: side^2 doubles plus one tile of kDownsampleTileSide^2 floats, whatever the size.
  std::vector<float> readDownsampled(std::int64_t maxSide, std::int64_t* side, const Job& job = {}) const;
  // Every value; refuses above `maxImages` images like readSimilarityMatrix.
  SimilarityMatrix readAll(const Job& job = {}, std::int64_t maxImages = kInMemorySimilarityLimit) const;

  static constexpr std::int64_t kDownsampleTileSide = 4 * kSimilarityChunkSide;

 private:
  explicit SimilarityMatrixFile(Hdf5File file) : file_(std::move(file)) {}
  // open() without the rehearsal in a helper process (rehearseReadInHelper), which runs this.
  static SimilarityMatrixFile openUnrehearsed(const std::filesystem::path& file);

  Hdf5File file_;
  std::int64_t size_ = 0;
  SimilarityConfig config_;
  nlohmann::json provenance_;
  std::vector<std::int64_t> imageIds_;
  std::vector<std::string> labels_;
};

// Writes a matrix file block by block, for computeSimilarityToFile: the caller passes a temporary
// path inside bp::writeAtomically and calls finish() last.
class SimilarityMatrixWriter {
 public:
  // Creates `file` with an n x n dataset of square chunks of `chunkSide` (clamped to n).
  SimilarityMatrixWriter(const std::filesystem::path& file, std::int64_t size,
                         std::int64_t chunkSide = kSimilarityChunkSide);
  // Writes rows [row0, row0 + rows) x columns [col0, col0 + cols); `values` row-major, contiguous.
  void writeBlock(std::int64_t row0, std::int64_t col0, std::int64_t rows, std::int64_t cols, const float* values);
  // Writes ids, labels (may be empty) and metadata, and closes the file.
  void finish(const std::vector<std::int64_t>& imageIds, const std::vector<std::string>& labels,
              const SimilarityConfig& config, const nlohmann::json& provenance);

 private:
  Hdf5File file_;
  std::int64_t size_;
};

// rsatoolbox's HDF5 layout (RDMs.save(file, file_type="hdf5"), read by rsatoolbox.rdm.load_rdm):
//   dissimilarities       n_rdm x n(n-1)/2 float64, each RDM's upper triangle row by row
//   root attributes       rsatoolbox_version, dissimilarity_measure (a name)
//   descriptors/          attributes: BrainPrior's metadata (JSON) where BrainPrior wrote the file
//   rdm_descriptors/      index (n_rdm)
//   pattern_descriptors/  index, image_id (n) and label (n strings) when there are labels
// rsatoolbox keeps dissimilarities: a similarity matrix is written as 1 - s under the measure's
// rsatoolbox name ("correlation" for Pearson), and read back as a dissimilarity whose measure says
// what it is (docs/formats.md lists the names both ways).
bool isRsatoolboxFile(const std::filesystem::path& file);
// Atomic like writeSimilarityMatrix.
void writeRsatoolboxFile(const SimilarityMatrix& matrix, const std::filesystem::path& file, const Job& job = {});
// The RDM at `rdmIndex` (a file may hold several), as a dissimilarity matrix; image ids from the
// pattern descriptor image_id (else the pattern index) and labels from label, when present.
// FileError for a file that is not rsatoolbox's, a vector that is no triangle, an index past the
// file's RDMs, or more than `maxImages` images.
SimilarityMatrix readRsatoolboxFile(const std::filesystem::path& file, std::int64_t rdmIndex = 0, const Job& job = {},
                                    std::int64_t maxImages = kInMemorySimilarityLimit);

// A CSV table: a header row "image_id,<id 1>,...,<id n>", then one row per image: its id and its
// n values (shortest decimal form that reads back to the same float). Atomic.
void exportSimilarityCsv(const SimilarityMatrix& matrix, const std::filesystem::path& file);

}  // namespace bp
