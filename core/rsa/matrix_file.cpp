#include "rsa/matrix_file.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <fstream>

#include "data/static_hdf5.h"
#include "runtime/atomic_file.h"
#include "runtime/error.h"
#include "runtime/job.h"
#include "runtime/log.h"

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
  if (isRsatoolboxFile(file)) return readRsatoolboxFile(file, 0, job, maxImages);
  return SimilarityMatrixFile::open(file).readAll(job, maxImages);
}

// ---- rsatoolbox ----

namespace {

constexpr const char* kRsatoolboxVersionAttribute = "rsatoolbox_version";
// What rsatoolbox's own writer puts there (its HDF5 layout has had no other version).
constexpr const char* kRsatoolboxLayoutVersion = "0.0.1";
constexpr const char* kDissimilarities = "dissimilarities";
constexpr const char* kMeasureAttribute = "dissimilarity_measure";
constexpr const char* kMetadataAttribute = "brainprior_metadata";
// Triangle values move in blocks of about this many, between which jobs report and poll cancel.
constexpr std::int64_t kTriangleBlock = 1 << 20;

// BrainPrior's measures under the names written to rsatoolbox files: rsatoolbox's own "correlation"
// is 1 - Pearson r between two patterns, as BrainPrior's Pearson dissimilarity; the others have no
// rsatoolbox counterpart (its "euclidean" is the squared distance per channel) and say what they are.
struct RsatoolboxMeasure {
  SimilarityMeasure measure;
  const char* name;
};
constexpr RsatoolboxMeasure kRsatoolboxMeasures[] = {
    {SimilarityMeasure::Pearson, "correlation"},
    {SimilarityMeasure::CentredCosine, "centred cosine distance (1 - centred cosine)"},
    {SimilarityMeasure::Euclidean, "euclidean distance (not squared)"},
};

std::int64_t triangleSize(std::int64_t n) { return n * (n - 1) / 2; }

}  // namespace

bool isRsatoolboxFile(const std::filesystem::path& file) {
  if (!looksLikeHdf5(file)) return false;
  try {
    return readRehearsed(file, "rsatoolbox check", Job{}, [&file](const Job&) {
      const Hdf5File hdf5 = Hdf5File::openForReading(file);
      return hdf5.hasAttribute("/", kRsatoolboxVersionAttribute) && hdf5.isDataset(kDissimilarities);
    });
  } catch (const FileError&) {
    return false;  // not readable as HDF5: the readers say why
  }
}

void writeRsatoolboxFile(const SimilarityMatrix& matrix, const std::filesystem::path& file, const Job& job) {
  checkMatrix(matrix);
  const std::int64_t n = matrix.size;
  if (n < 2) throw FileError(file.string(), "an rsatoolbox file needs at least two images");
  const bool flip = !isDissimilarity(matrix.config);  // similarities go out as 1 - s
  std::string measure;
  for (const auto& known : kRsatoolboxMeasures)
    if (known.measure == matrix.config.measure) measure = known.name;
  if (!matrix.config.unitWeights.empty()) measure += " over weighted units";
  writeMatrixFileAtomically(file, [&](const std::filesystem::path& temporary) {
    auto h5 = Hdf5File::create(temporary);
    h5.writeStringAttribute("/", kRsatoolboxVersionAttribute, kRsatoolboxLayoutVersion);
    h5.writeStringAttribute("/", kMeasureAttribute, measure);
    h5.createDataset<double>(kDissimilarities, {1, triangleSize(n)});
    std::vector<double> block;
    std::int64_t written = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      for (std::int64_t j = i + 1; j < n; ++j) block.push_back(flip ? 1.0 - matrix.at(i, j) : matrix.at(i, j));
      if (static_cast<std::int64_t>(block.size()) >= kTriangleBlock || i == n - 1) {
        job.throwIfCancelled();
        const auto count = static_cast<std::int64_t>(block.size());
        if (count > 0) h5.writeBlock<double>(kDissimilarities, {0, written}, {1, count}, block.data());
        written += count;
        block.clear();
        job.progress(static_cast<double>(i + 1) / static_cast<double>(n), "writing the rsatoolbox file");
      }
    }
    h5.createGroup("descriptors");
    h5.writeStringAttribute("descriptors", kMetadataAttribute,
                            nlohmann::json({{"format", kFormatName},
                                            {"config", toJson(matrix.config)},
                                            {"provenance", matrix.provenance}})
                                .dump());
    h5.writeDataset<std::int64_t>("rdm_descriptors/index", {0}, {1});
    std::vector<std::int64_t> index(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) index[static_cast<std::size_t>(i)] = i;
    h5.writeDataset<std::int64_t>("pattern_descriptors/index", index, {n});
    h5.writeDataset<std::int64_t>("pattern_descriptors/image_id", matrix.imageIds, {n});
    if (!matrix.labels.empty()) h5.writeStrings("pattern_descriptors/label", matrix.labels);
    h5.close();
  });
}

SimilarityMatrix readRsatoolboxFile(const std::filesystem::path& file, std::int64_t rdmIndex, const Job& job,
                                    std::int64_t maxImages) {
  return readRehearsed(file, "rsatoolbox file", job, [&](const Job& read) {
    const auto fail = [&](const std::string& problem) -> void { throw FileError(file.string(), problem); };
    const Hdf5File h5 = Hdf5File::openForReading(file);
    if (!h5.hasAttribute("/", kRsatoolboxVersionAttribute) || !h5.isDataset(kDissimilarities))
      fail("not an rsatoolbox file (no rsatoolbox_version attribute and dissimilarities dataset)");
    auto shape = h5.shape(kDissimilarities);
    if (shape.size() == 1) shape.insert(shape.begin(), 1);
    if (shape.size() != 2)
      fail("'dissimilarities' has shape " + describeShape(shape) + ", expected (RDMs, pairs): rsatoolbox's vector form");
    if (rdmIndex < 0 || rdmIndex >= shape[0])
      fail("has " + std::to_string(shape[0]) + " RDMs; there is no RDM " + std::to_string(rdmIndex));
    const std::int64_t pairs = shape[1];
    std::int64_t n = 1;
    while (triangleSize(n) < pairs) ++n;
    if (triangleSize(n) != pairs || n < 2)
      fail("'dissimilarities' holds " + std::to_string(pairs) +
           " values per RDM, which is no upper triangle (n(n-1)/2 for n images)");
    if (n > maxImages)
      fail("holds " + describeSize(n) + ": more than the " + std::to_string(maxImages) + " images read into memory");

    SimilarityMatrix matrix;
    matrix.size = n;
    matrix.values.assign(static_cast<std::size_t>(n * n), 0.0f);
    const bool oneDimensional = h5.shape(kDissimilarities).size() == 1;
    std::vector<double> block;
    std::int64_t i = 0;
    std::int64_t j = 1;
    for (std::int64_t first = 0; first < pairs; first += kTriangleBlock) {
      read.throwIfCancelled();
      const auto count = std::min(kTriangleBlock, pairs - first);
      block.resize(static_cast<std::size_t>(count));
      if (oneDimensional) h5.readBlock<double>(kDissimilarities, {first}, {count}, block.data());
      else h5.readBlock<double>(kDissimilarities, {rdmIndex, first}, {1, count}, block.data());
      for (const double value : block) {
        matrix.values[static_cast<std::size_t>(i * n + j)] = static_cast<float>(value);
        matrix.values[static_cast<std::size_t>(j * n + i)] = static_cast<float>(value);
        if (++j == n) j = ++i + 1;
      }
      read.progress(static_cast<double>(first + count) / static_cast<double>(pairs), "reading the rsatoolbox file");
    }

    // rsatoolbox writes the measure as an attribute; a measure of None becomes an empty dataset.
    const std::string measure =
        h5.hasAttribute("/", kMeasureAttribute) ? h5.readStringAttribute("/", kMeasureAttribute) : std::string();
    matrix.config.measure = SimilarityMeasure::Euclidean;  // an unbounded dissimilarity unless named
    for (const auto& known : kRsatoolboxMeasures)
      if (measure.rfind(known.name, 0) == 0) matrix.config.measure = known.measure;
    if (h5.hasAttribute("descriptors", kMetadataAttribute)) {
      const auto metadata = nlohmann::json::parse(h5.readStringAttribute("descriptors", kMetadataAttribute), nullptr, false);
      if (metadata.is_object() && metadata.value("format", std::string()) == kFormatName) {
        try {
          matrix.config = similarityConfigFromJson(metadata.at("config"));
          matrix.provenance = metadata.value("provenance", nlohmann::json::object());
        } catch (const std::exception& error) {
          fail(std::string("BrainPrior's metadata in 'descriptors' is unusable: ") + error.what());
        }
      }
    }
    // The values are dissimilarities (Euclidean distances are by nature).
    matrix.config.dissimilarity = matrix.config.measure != SimilarityMeasure::Euclidean;
    if (measure.empty() || (matrix.config.measure == SimilarityMeasure::Euclidean &&
                            measure.rfind(kRsatoolboxMeasures[2].name, 0) != 0))
      logWarning(file.string() + ": rsatoolbox measure '" + (measure.empty() ? std::string("none") : measure) +
                 "' has no BrainPrior counterpart; opened as an unbounded dissimilarity, its name kept in the provenance");
    matrix.provenance["rsatoolbox"] = {{"file", file.string()}, {"rdm", rdmIndex}, {"dissimilarity_measure", measure}};

    const auto patternColumn = [&](const char* name) { return std::string("pattern_descriptors/") + name; };
    if (h5.isDataset(patternColumn("image_id"))) {
      matrix.imageIds = h5.readDataset<std::int64_t>(patternColumn("image_id"));
    } else {
      matrix.imageIds.resize(static_cast<std::size_t>(n));
      for (std::int64_t k = 0; k < n; ++k) matrix.imageIds[static_cast<std::size_t>(k)] = k;
    }
    if (static_cast<std::int64_t>(matrix.imageIds.size()) != n)
      fail("pattern_descriptors/image_id holds " + std::to_string(matrix.imageIds.size()) + " ids for " +
           std::to_string(n) + " images");
    if (h5.isDataset(patternColumn("label"))) {
      matrix.labels = h5.readStrings(patternColumn("label"));
      if (static_cast<std::int64_t>(matrix.labels.size()) != n)
        fail("pattern_descriptors/label holds " + std::to_string(matrix.labels.size()) + " labels for " +
             std::to_string(n) + " images");
    }
    return matrix;
  });
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
