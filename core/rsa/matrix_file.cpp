#include "rsa/matrix_file.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <fstream>

#include "runtime/atomic_file.h"
#include "runtime/error.h"
#include "runtime/job.h"

namespace bp {
namespace {

constexpr const char* kFormatName = "brainprior-similarity-matrix";
constexpr const char* kValues = "similarity";
constexpr const char* kImageIds = "image_ids";
constexpr const char* kLabels = "labels";
constexpr const char* kMetadata = "metadata";

std::string describeSize(std::int64_t size) {
  const double gib = static_cast<double>(size) * static_cast<double>(size) * sizeof(float) / (1024.0 * 1024.0 * 1024.0);
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", gib);
  return std::to_string(size) + " x " + std::to_string(size) + " (" + text + " GiB as float32)";
}

void checkMatrix(const SimilarityMatrix& matrix) {
  const std::string n = std::to_string(matrix.size);
  if (matrix.size < 1) throw Error("similarity matrix: no images");
  if (static_cast<std::int64_t>(matrix.values.size()) != matrix.size * matrix.size)
    throw Error("similarity matrix: " + std::to_string(matrix.values.size()) + " values do not fill " + n + " x " + n);
  if (static_cast<std::int64_t>(matrix.imageIds.size()) != matrix.size)
    throw Error("similarity matrix: " + std::to_string(matrix.imageIds.size()) + " image ids for " + n + " images");
  if (!matrix.labels.empty() && static_cast<std::int64_t>(matrix.labels.size()) != matrix.size)
    throw Error("similarity matrix: " + std::to_string(matrix.labels.size()) + " labels for " + n + " images");
}

// Runs `write` on the temporary file of an atomic write; its errors name the user's file.
void writeMatrixFileAtomically(const std::filesystem::path& file,
                               const std::function<void(const std::filesystem::path&)>& write) {
  writeAtomically(file, [&](const std::filesystem::path& temporary) {
    try {
      write(temporary);
    } catch (const FileError& e) {
      throw FileError(file.string(), e.problem());
    }
  });
}

}  // namespace

// ---- writing ----

namespace {

Hdf5File createMatrixFile(const std::filesystem::path& file, std::int64_t size, std::int64_t chunkSide) {
  if (size < 1) throw FileError(file.string(), "a similarity matrix needs at least one image");
  if (chunkSide < 1) throw FileError(file.string(), "chunk side must be positive, got " + std::to_string(chunkSide));
  auto h5 = Hdf5File::create(file);
  Hdf5DatasetOptions options;
  options.chunkShape = {chunkSide, chunkSide};
  h5.createDataset<float>(kValues, {size, size}, options);
  return h5;
}

}  // namespace

SimilarityMatrixWriter::SimilarityMatrixWriter(const std::filesystem::path& file, std::int64_t size,
                                               std::int64_t chunkSide)
    : file_(createMatrixFile(file, size, chunkSide)), size_(size) {}

void SimilarityMatrixWriter::writeBlock(std::int64_t row0, std::int64_t col0, std::int64_t rows, std::int64_t cols,
                                        const float* values) {
  file_.writeBlock<float>(kValues, {row0, col0}, {rows, cols}, values);
}

void SimilarityMatrixWriter::finish(const std::vector<std::int64_t>& imageIds, const std::vector<std::string>& labels,
                                    const SimilarityConfig& config, const nlohmann::json& provenance) {
  const auto fail = [&](const std::string& problem) { throw FileError(file_.path().string(), problem); };
  if (static_cast<std::int64_t>(imageIds.size()) != size_)
    fail(std::to_string(imageIds.size()) + " image ids for " + std::to_string(size_) + " images");
  if (!labels.empty() && static_cast<std::int64_t>(labels.size()) != size_)
    fail(std::to_string(labels.size()) + " labels for " + std::to_string(size_) + " images");
  file_.writeDataset<std::int64_t>(kImageIds, imageIds, {size_});
  if (!labels.empty()) file_.writeStrings(kLabels, labels);
  const nlohmann::json metadata = {{"format", kFormatName},
                                   {"format_version", kSimilarityMatrixFormatVersion},
                                   {"measure", similarityMeasureName(config.measure)},
                                   {"dissimilarity", isDissimilarity(config)},
                                   {"config", toJson(config)},
                                   {"provenance", provenance}};
  file_.writeStrings(kMetadata, {metadata.dump()});
  file_.close();
}

void writeSimilarityMatrix(const SimilarityMatrix& matrix, const std::filesystem::path& file, const Job& job) {
  checkMatrix(matrix);
  writeMatrixFileAtomically(file, [&](const std::filesystem::path& temporary) {
    SimilarityMatrixWriter writer(temporary, matrix.size);
    // Bands of whole chunk rows: every chunk is written once.
    for (std::int64_t row0 = 0; row0 < matrix.size; row0 += kSimilarityChunkSide) {
      job.throwIfCancelled();
      const std::int64_t rows = std::min(kSimilarityChunkSide, matrix.size - row0);
      writer.writeBlock(row0, 0, rows, matrix.size, matrix.values.data() + row0 * matrix.size);
      job.progress(static_cast<double>(row0 + rows) / static_cast<double>(matrix.size), "writing similarity matrix");
    }
    writer.finish(matrix.imageIds, matrix.labels, matrix.config, matrix.provenance);
  });
}

// ---- reading ----

bool isSimilarityMatrixFile(const std::filesystem::path& file) {
  return readRehearsed(file, "matrix file check", Job{}, [&file](const Job&) {
    const Hdf5File hdf5 = Hdf5File::openForReading(file);
    return hdf5.isDataset(kValues) && hdf5.isDataset(kMetadata);
  });
}

SimilarityMatrixFile SimilarityMatrixFile::open(const std::filesystem::path& file) {
  // The metadata, ids and labels (variable-length strings) are read here; the values later, in blocks.
  return readRehearsed(file, "similarity matrix", Job{}, [&file](const Job&) { return openUnrehearsed(file); });
}

SimilarityMatrixFile SimilarityMatrixFile::openUnrehearsed(const std::filesystem::path& file) {
  SimilarityMatrixFile matrix(Hdf5File::openForReading(file));
  const auto fail = [&](const std::string& problem) { throw FileError(file.string(), problem); };
  const Hdf5File& h5 = matrix.file_;
  if (!h5.isDataset(kValues)) fail("no 'similarity' dataset: not a BrainPrior similarity matrix file");
  const auto shape = h5.shape(kValues);
  if (shape.size() != 2 || shape[0] != shape[1] || shape[0] < 1)
    fail("'similarity' must be a non-empty square matrix, found shape " + describeShape(shape));
  matrix.size_ = shape[0];

  if (!h5.isDataset(kMetadata)) fail("no 'metadata' dataset: not a BrainPrior similarity matrix file");
  const auto metadataText = h5.readStrings(kMetadata);
  if (metadataText.size() != 1)
    fail("'metadata' must hold one JSON string, found " + std::to_string(metadataText.size()));
  const auto metadata = nlohmann::json::parse(metadataText.front(), nullptr, false);
  if (metadata.is_discarded() || !metadata.is_object()) fail("'metadata' is not a JSON object");
  try {
    if (metadata.value("format", std::string()) != kFormatName)
      fail("'metadata' does not name the format '" + std::string(kFormatName) + "'");
    const auto version = metadata.value("format_version", 0);
    if (version < 1 || version > kSimilarityMatrixFormatVersion)
      fail("format version " + std::to_string(version) + " is not one this BrainPrior reads (1 to " +
           std::to_string(kSimilarityMatrixFormatVersion) + ")");
    matrix.config_ = similarityConfigFromJson(metadata.value("config", nlohmann::json::object()));
    matrix.provenance_ = metadata.value("provenance", nlohmann::json::object());
  } catch (const nlohmann::json::exception& e) {
    fail(std::string("'metadata' has a field of the wrong type (") + e.what() + ")");
  } catch (const FileError&) {
    throw;
  } catch (const Error& e) {
    fail(std::string("'metadata': ") + e.what());
  }

  if (!h5.isDataset(kImageIds)) fail("no 'image_ids' dataset");
  matrix.imageIds_ = h5.readDataset<std::int64_t>(kImageIds);
  if (static_cast<std::int64_t>(matrix.imageIds_.size()) != matrix.size_)
    fail("'image_ids' holds " + std::to_string(matrix.imageIds_.size()) + " ids for " + std::to_string(matrix.size_) +
         " images");
  if (h5.exists(kLabels)) {
    matrix.labels_ = h5.readStrings(kLabels);
    if (static_cast<std::int64_t>(matrix.labels_.size()) != matrix.size_)
      fail("'labels' holds " + std::to_string(matrix.labels_.size()) + " labels for " + std::to_string(matrix.size_) +
           " images");
  }
  return matrix;
}

std::vector<float> SimilarityMatrixFile::readBlock(std::int64_t row0, std::int64_t col0, std::int64_t rows,
                                                   std::int64_t cols) const {
  if (row0 < 0 || col0 < 0 || rows < 0 || cols < 0 || row0 + rows > size_ || col0 + cols > size_)
    throw FileError(path().string(), "block of " + std::to_string(rows) + " x " + std::to_string(cols) + " at (" +
                                         std::to_string(row0) + ", " + std::to_string(col0) + ") is outside the " +
                                         std::to_string(size_) + " x " + std::to_string(size_) + " matrix");
  std::vector<float> values(static_cast<std::size_t>(rows * cols));
  file_.readBlock<float>(kValues, {row0, col0}, {rows, cols}, values.data());
  return values;
}

std::vector<float> SimilarityMatrixFile::readDownsampled(std::int64_t maxSide, std::int64_t* side,
                                                         const Job& job) const {
  if (maxSide < 1) throw Error("downsampled side must be positive, got " + std::to_string(maxSide));
  const std::int64_t factor = (size_ + maxSide - 1) / maxSide;
  const std::int64_t outSide = (size_ + factor - 1) / factor;
  std::vector<double> sums(static_cast<std::size_t>(outSide * outSide), 0.0);
  std::vector<std::int64_t> binOfColumn(static_cast<std::size_t>(size_));
  for (std::int64_t c = 0; c < size_; ++c) binOfColumn[static_cast<std::size_t>(c)] = c / factor;

  // Tiles of whole chunks: every chunk is read once, whatever the factor.
  const std::int64_t tileSide = kDownsampleTileSide;
  std::vector<float> tile(static_cast<std::size_t>(tileSide * tileSide));
  for (std::int64_t row0 = 0; row0 < size_; row0 += tileSide) {
    job.throwIfCancelled();
    const std::int64_t rows = std::min(tileSide, size_ - row0);
    for (std::int64_t col0 = 0; col0 < size_; col0 += tileSide) {
      const std::int64_t cols = std::min(tileSide, size_ - col0);
      file_.readBlock<float>(kValues, {row0, col0}, {rows, cols}, tile.data());
      for (std::int64_t i = 0; i < rows; ++i) {
        double* out = sums.data() + ((row0 + i) / factor) * outSide;
        const float* in = tile.data() + i * cols;
        const std::int64_t* bins = binOfColumn.data() + col0;
        for (std::int64_t j = 0; j < cols; ++j) out[bins[j]] += in[j];
      }
    }
    job.progress(static_cast<double>(row0 + rows) / static_cast<double>(size_), "reading a downsampled matrix");
  }

  std::vector<float> means(sums.size());
  const auto span = [&](std::int64_t bin) { return std::min(factor, size_ - bin * factor); };
  for (std::int64_t a = 0; a < outSide; ++a)
    for (std::int64_t b = 0; b < outSide; ++b) {
      const auto index = static_cast<std::size_t>(a * outSide + b);
      means[index] = static_cast<float>(sums[index] / static_cast<double>(span(a) * span(b)));
    }
  if (side) *side = outSide;
  return means;
}

SimilarityMatrix SimilarityMatrixFile::readAll(const Job& job, std::int64_t maxImages) const {
  if (size_ > maxImages)
    throw FileError(path().string(), "holds a " + describeSize(size_) + " matrix, more than the " +
                                         std::to_string(maxImages) +
                                         " images read whole into memory; read it by blocks (SimilarityMatrixFile)");
  SimilarityMatrix matrix;
  matrix.size = size_;
  matrix.values.resize(static_cast<std::size_t>(size_ * size_));
  for (std::int64_t row0 = 0; row0 < size_; row0 += kSimilarityChunkSide) {
    job.throwIfCancelled();
    const std::int64_t rows = std::min(kSimilarityChunkSide, size_ - row0);
    file_.readRows<float>(kValues, row0, rows, matrix.values.data() + row0 * size_);
    job.progress(static_cast<double>(row0 + rows) / static_cast<double>(size_), "reading similarity matrix");
  }
  matrix.imageIds = imageIds_;
  matrix.labels = labels_;
  matrix.config = config_;
  matrix.provenance = provenance_;
  return matrix;
}

SimilarityMatrix readSimilarityMatrix(const std::filesystem::path& file, const Job& job, std::int64_t maxImages) {
  return SimilarityMatrixFile::open(file).readAll(job, maxImages);
}

// ---- CSV ----

void exportSimilarityCsv(const SimilarityMatrix& matrix, const std::filesystem::path& file) {
  checkMatrix(matrix);
  writeAtomically(file, [&](const std::filesystem::path& temporary) {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) throw FileError(file.string(), "cannot open for writing");
    std::string line = "image_id";
    for (const auto id : matrix.imageIds) line += "," + std::to_string(id);
    line += '\n';
    out << line;
    char number[32];
    for (std::int64_t i = 0; i < matrix.size; ++i) {
      line = std::to_string(matrix.imageIds[static_cast<std::size_t>(i)]);
      const float* row = matrix.values.data() + i * matrix.size;
      for (std::int64_t j = 0; j < matrix.size; ++j) {
        const auto written = std::to_chars(number, number + sizeof number, row[j]);
        line += ',';
        line.append(number, written.ptr);
      }
      line += '\n';
      out << line;
    }
    out.flush();
    if (!out) throw FileError(file.string(), "write failed (disk full?)");
  });
}

}  // namespace bp
