#include "rsa/similarity.h"

#include <sys/mman.h>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <limits>
#include <memory>
#include <new>

#include "rsa/matrix_file.h"
#include "runtime/atomic_file.h"
#include "runtime/config_reader.h"
#include "runtime/error.h"
#include "runtime/runtime.h"
#include "runtime/clock.h"

namespace bp {

const char* similarityMeasureName(SimilarityMeasure measure) {
  switch (measure) {
    case SimilarityMeasure::CentredCosine:
      return "centred-cosine";
    case SimilarityMeasure::Pearson:
      return "pearson";
    case SimilarityMeasure::Euclidean:
      return "euclidean";
  }
  return "unknown";
}

std::optional<SimilarityMeasure> parseSimilarityMeasure(const std::string& name) {
  for (const auto measure :
       {SimilarityMeasure::CentredCosine, SimilarityMeasure::Pearson, SimilarityMeasure::Euclidean})
    if (name == similarityMeasureName(measure)) return measure;
  return std::nullopt;
}

bool isDissimilarity(const SimilarityConfig& config) {
  return config.dissimilarity || config.measure == SimilarityMeasure::Euclidean;
}

nlohmann::json toJson(const SimilarityConfig& config) {
  return {{"measure", similarityMeasureName(config.measure)},
          {"dissimilarity", config.dissimilarity},
          {"unit_weights", config.unitWeights},
          {"block_size", config.blockSize}};
}

SimilarityConfig similarityConfigFromJson(const nlohmann::json& json) {
  SimilarityConfig config;
  ConfigReader reader(json, "similarity config");
  std::string measureName = similarityMeasureName(config.measure);
  reader.read("measure", measureName);
  const auto measure = parseSimilarityMeasure(measureName);
  if (!measure) reader.fail("measure", "is '" + measureName + "'; expected centred-cosine, pearson or euclidean");
  config.measure = *measure;
  reader.read("dissimilarity", config.dissimilarity);
  reader.read("unit_weights", config.unitWeights);
  reader.read("block_size", config.blockSize);
  reader.finish();
  if (config.blockSize < 1) reader.fail("block_size", "must be positive, got " + std::to_string(config.blockSize));
  return config;
}

namespace {

// Fresh memory for the big arrays arrives as 4 KiB pages, one fault each on first touch; in a VM a
// fault costs microseconds: zero-filling the prepared rows and the matrix was ~25% of perf's
// samples at 5,000 x 5,335. Transparent huge pages cut the faults 512-fold (numpy asks for them for
// its arrays too). Advises the 2 MiB-aligned part of [data, data + bytes).
constexpr std::size_t kHugePageBytes = 2 * 1024 * 1024;

void adviseHugePages(void* data, std::size_t bytes) {
  const auto begin = reinterpret_cast<std::uintptr_t>(data);
  const std::uintptr_t first = (begin + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
  const std::uintptr_t last = (begin + bytes) / kHugePageBytes * kHugePageBytes;
  if (last > first)
    madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);  // only advice: failure is harmless
}

// Floats left uninitialised (every element is written before it is read), on huge pages.
class LargeFloatBuffer {
 public:
  explicit LargeFloatBuffer(std::size_t count) {
    const std::size_t bytes =
        std::max<std::size_t>(1, (count * sizeof(float) + kHugePageBytes - 1) / kHugePageBytes) * kHugePageBytes;
    values_.reset(static_cast<float*>(std::aligned_alloc(kHugePageBytes, bytes)));
    if (!values_) throw std::bad_alloc();
    adviseHugePages(values_.get(), bytes);
  }
  float* data() { return values_.get(); }
  const float* data() const { return values_.get(); }

 private:
  struct Free {
    void operator()(float* values) const { std::free(values); }
  };
  std::unique_ptr<float[], Free> values_;
};

// Rows ready for plain inner products: S = P P^T (cosine, Pearson) or
// d^2 = |p_i|^2 + |p_j|^2 - 2 p_i . p_j (Euclidean).
struct PreparedRows {
  PreparedRows(std::int64_t rowCount, std::int64_t colCount)
      : rows(rowCount), cols(colCount), values(static_cast<std::size_t>(rowCount * colCount)) {}
  std::int64_t rows;
  std::int64_t cols;
  LargeFloatBuffer values;          // rows x cols, row-major
  std::vector<float> squaredNorms;  // per row, Euclidean only
  const float* row(std::int64_t r) const { return values.data() + r * cols; }
};

void checkInputs(const FeatureMatrix& features, const SimilarityConfig& config) {
  features.validate();
  const std::string what = "features (" + features.source + ")";
  if (features.rows < 1) throw Error(what + ": no images");
  if (features.cols < 1) throw Error(what + ": no units");
  if (config.blockSize < 1)
    throw Error("similarity block size must be positive, got " + std::to_string(config.blockSize));
  if (!config.unitWeights.empty()) {
    if (static_cast<std::int64_t>(config.unitWeights.size()) != features.cols)
      throw Error(std::to_string(config.unitWeights.size()) + " unit weights for " + std::to_string(features.cols) +
                  " units of " + what);
    const auto bad =
        std::find_if(config.unitWeights.begin(), config.unitWeights.end(), [](float w) { return !std::isfinite(w); });
    if (bad != config.unitWeights.end())
      throw Error("unit weight " + std::to_string(bad - config.unitWeights.begin()) + " is not a finite number");
  }
}

// Column means in double (sums of 50,000 floats lose digits in float). A NaN or infinity anywhere
// makes its column's sum non-finite: then the first such value is reported, since a single one
// would silently poison every similarity of its image.
std::vector<double> unitMeans(const FeatureMatrix& features) {
  std::vector<double> sums(static_cast<std::size_t>(features.cols), 0.0);
  // Threads take column ranges, each reading its contiguous slice of every row.
  at::parallel_for(0, features.cols, 256, [&](std::int64_t begin, std::int64_t end) {
    double* sum = sums.data();
    for (std::int64_t r = 0; r < features.rows; ++r) {
      const float* row = features.row(r);
      for (std::int64_t u = begin; u < end; ++u) sum[u] += row[u];
    }
  });
  if (!std::all_of(sums.begin(), sums.end(), [](double s) { return std::isfinite(s); })) {
    for (std::int64_t r = 0; r < features.rows; ++r)
      for (std::int64_t u = 0; u < features.cols; ++u)
        if (!std::isfinite(features.row(r)[u]))
          throw Error("features (" + features.source + "): image " +
                      std::to_string(features.imageIds[static_cast<std::size_t>(r)]) + " (row " + std::to_string(r) +
                      "), unit " + std::to_string(u) + " is not a finite number");
  }
  for (auto& s : sums) s /= static_cast<double>(features.rows);
  return sums;
}

// Scales `row` to unit L2 norm; an all-zero row (a constant image pattern) stays zero, so its
// similarity to every other image is 0.
void normalise(float* row, std::int64_t cols) {
  double squares = 0.0;
  for (std::int64_t u = 0; u < cols; ++u) squares += static_cast<double>(row[u]) * row[u];
  if (squares == 0.0) return;
  const double scale = 1.0 / std::sqrt(squares);
  for (std::int64_t u = 0; u < cols; ++u) row[u] = static_cast<float>(row[u] * scale);
}

// Unit weights multiply the columns first in every measure, so weighting a unit by w is the
// same as scaling its responses by w.
PreparedRows prepareRows(const FeatureMatrix& features, const SimilarityConfig& config) {
  PreparedRows prepared(features.rows, features.cols);
  const auto cols = features.cols;
  const std::vector<double> means = unitMeans(features);
  const std::vector<float> ones(static_cast<std::size_t>(cols), 1.0f);
  const std::vector<float>& weights = config.unitWeights.empty() ? ones : config.unitWeights;
  const bool euclidean = config.measure == SimilarityMeasure::Euclidean;
  if (euclidean) prepared.squaredNorms.resize(static_cast<std::size_t>(features.rows));

  at::parallel_for(0, features.rows, 64, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t r = begin; r < end; ++r) {
      const float* in = features.row(r);
      float* out = prepared.values.data() + r * cols;
      if (config.measure == SimilarityMeasure::Pearson) {
        // Correlation over units: centre the image's weighted pattern on its own mean.
        double sum = 0.0;
        for (std::int64_t u = 0; u < cols; ++u)
          sum += static_cast<double>(in[u]) * weights[static_cast<std::size_t>(u)];
        const double mean = sum / static_cast<double>(cols);
        for (std::int64_t u = 0; u < cols; ++u)
          out[u] = static_cast<float>(static_cast<double>(in[u]) * weights[static_cast<std::size_t>(u)] - mean);
        normalise(out, cols);
      } else {
        // Centred cosine centres each unit across images (the paper's definition). Distances do not
        // change under a shift of a unit, and centring first keeps |x|^2 + |y|^2 - 2 x.y from
        // cancelling catastrophically when responses sit far from zero.
        for (std::int64_t u = 0; u < cols; ++u) {
          const auto w = static_cast<std::size_t>(u);
          out[u] = static_cast<float>((in[u] - means[w]) * weights[w]);
        }
        if (euclidean) {
          double squares = 0.0;
          for (std::int64_t u = 0; u < cols; ++u) squares += static_cast<double>(out[u]) * out[u];
          prepared.squaredNorms[static_cast<std::size_t>(r)] = static_cast<float>(squares);
        } else {
          normalise(out, cols);
        }
      }
    }
  });
  return prepared;
}

// Rows [row0, row0 + rows) x columns [col0, col0 + cols) of the matrix.
struct BlockRange {
  std::int64_t row0;
  std::int64_t rows;
  std::int64_t col0;
  std::int64_t cols;
  bool diagonal() const { return row0 == col0; }
};

// Where the kernel writes a block: row-major with `stride` floats between rows.
struct BlockTarget {
  float* values;
  std::int64_t stride;
};

// Receives the blocks of the upper block triangle. The kernel writes each block into target(),
// finishes its values, then calls finished(): the sink mirrors it onto the lower triangle.
class BlockSink {
 public:
  virtual ~BlockSink() = default;
  virtual BlockTarget target(const BlockRange& block) = 0;
  virtual void finished(const BlockRange& block, const BlockTarget& target) = 0;
};

// out = a b^T through one SGEMM: at::mm on CPU tensors that view the callers' buffers (no copies)
// goes to the BLAS LibTorch was linked with. `out` may be a strided view: ATen passes its stride as
// the BLAS leading dimension.
void gemmInto(const float* a, std::int64_t aRows, const float* b, std::int64_t bRows, std::int64_t cols, float* out,
              std::int64_t stride) {
  // from_blob wants mutable pointers; mm only reads its inputs.
  const auto left = at::from_blob(const_cast<float*>(a), {aRows, cols}, at::kFloat);
  const auto right = at::from_blob(const_cast<float*>(b), {bRows, cols}, at::kFloat);
  auto result = at::from_blob(out, {aRows, bRows}, {stride, 1}, at::kFloat);
  at::mm_out(result, left, right.t());
}

// Below this side a diagonal block is computed whole: smaller GEMMs run far below peak.
constexpr std::int64_t kTriangleLeafSide = 256;

// The upper triangle (with the diagonal) of rows rows^T, for a diagonal block: recursing on the
// two diagonal halves and one GEMM for the off-diagonal quarter costs about half the flops of the
// full square (a BLAS SYRK, which LibTorch does not expose). The strict lower triangle is left
// partly unwritten.
void gemmUpperTriangle(const float* rows, std::int64_t count, std::int64_t cols, float* out, std::int64_t stride) {
  if (count <= kTriangleLeafSide) {
    gemmInto(rows, count, rows, count, cols, out, stride);
    return;
  }
  const std::int64_t half = count / 2;
  gemmUpperTriangle(rows, half, cols, out, stride);
  gemmInto(rows, half, rows + half * cols, count - half, cols, out + half, stride);
  gemmUpperTriangle(rows + half * cols, count - half, cols, out + half * stride + half, stride);
}

// Turns inner products into the reported values, in place: clamped similarities (rounding can
// leave |s| a few ulps above 1), 1 - s, or distances. A diagonal block gets its exact diagonal and
// its lower triangle mirrored from the upper one, so the matrix is exactly symmetric.
void finishBlock(const BlockRange& block, const BlockTarget& target, const PreparedRows& prepared,
                 const SimilarityConfig& config) {
  const bool dissimilarity = isDissimilarity(config);
  for (std::int64_t i = 0; i < block.rows; ++i) {
    float* row = target.values + i * target.stride;
    const std::int64_t first = block.diagonal() ? i : 0;
    if (config.measure == SimilarityMeasure::Euclidean) {
      const float normI = prepared.squaredNorms[static_cast<std::size_t>(block.row0 + i)];
      const float* normsJ = prepared.squaredNorms.data() + block.col0;
      for (std::int64_t j = first; j < block.cols; ++j)
        row[j] = std::sqrt(std::max(0.0f, normI + normsJ[j] - 2.0f * row[j]));
    } else if (dissimilarity) {
      for (std::int64_t j = first; j < block.cols; ++j) row[j] = 1.0f - std::clamp(row[j], -1.0f, 1.0f);
    } else {
      for (std::int64_t j = first; j < block.cols; ++j) row[j] = std::clamp(row[j], -1.0f, 1.0f);
    }
  }
  if (!block.diagonal()) return;
  // The diagonal is defined, not computed: 1 (0 as a dissimilarity) even for an all-zero row.
  const float diagonal = dissimilarity ? 0.0f : 1.0f;
  for (std::int64_t i = 0; i < block.rows; ++i) {
    float* row = target.values + i * target.stride;
    row[i] = diagonal;
    for (std::int64_t j = 0; j < i; ++j) row[j] = target.values[j * target.stride + i];
  }
}

// The one kernel: every block pair (I <= J) once, progress per pair, cancel between pairs.
void computeBlocks(const PreparedRows& prepared, const SimilarityConfig& config, const Job& job, BlockSink& sink) {
  const std::int64_t n = prepared.rows;
  const std::int64_t blockSize = std::min(config.blockSize, n);
  const std::int64_t blocks = (n + blockSize - 1) / blockSize;
  const std::int64_t pairs = blocks * (blocks + 1) / 2;
  std::int64_t done = 0;
  for (std::int64_t bi = 0; bi < blocks; ++bi) {
    for (std::int64_t bj = bi; bj < blocks; ++bj) {
      job.throwIfCancelled();
      const BlockRange block{bi * blockSize, std::min(blockSize, n - bi * blockSize), bj * blockSize,
                             std::min(blockSize, n - bj * blockSize)};
      const auto target = sink.target(block);
      if (block.diagonal())
        gemmUpperTriangle(prepared.row(block.row0), block.rows, prepared.cols, target.values, target.stride);
      else
        gemmInto(prepared.row(block.row0), block.rows, prepared.row(block.col0), block.cols, prepared.cols,
                 target.values, target.stride);
      finishBlock(block, target, prepared, config);
      sink.finished(block, target);
      ++done;
      job.progress(static_cast<double>(done) / static_cast<double>(pairs),
                   "similarity: block pair " + std::to_string(done) + " of " + std::to_string(pairs));
    }
  }
}

// dest (cols x rows, `destStride`) = source^T (rows x cols, `sourceStride`), in cache-sized tiles.
void transposeInto(const float* source, std::int64_t rows, std::int64_t cols, std::int64_t sourceStride, float* dest,
                   std::int64_t destStride) {
  constexpr std::int64_t tile = 32;
  for (std::int64_t i0 = 0; i0 < rows; i0 += tile)
    for (std::int64_t j0 = 0; j0 < cols; j0 += tile)
      for (std::int64_t j = j0; j < std::min(cols, j0 + tile); ++j)
        for (std::int64_t i = i0; i < std::min(rows, i0 + tile); ++i)
          dest[j * destStride + i] = source[i * sourceStride + j];
}

// The kernel writes straight into the matrix (GEMM output with leading dimension n).
class InMemorySink : public BlockSink {
 public:
  InMemorySink(float* values, std::int64_t size) : values_(values), size_(size) {}
  BlockTarget target(const BlockRange& block) override { return {values_ + block.row0 * size_ + block.col0, size_}; }
  void finished(const BlockRange& block, const BlockTarget& target) override {
    if (!block.diagonal())
      transposeInto(target.values, block.rows, block.cols, size_, values_ + block.col0 * size_ + block.row0, size_);
  }

 private:
  float* values_;
  std::int64_t size_;
};

// Each block, and its transpose, goes to the file as soon as it is finished.
class FileSink : public BlockSink {
 public:
  FileSink(SimilarityMatrixWriter& writer, std::int64_t blockSize)
      : writer_(writer),
        block_(static_cast<std::size_t>(blockSize * blockSize)),
        transposed_(static_cast<std::size_t>(blockSize * blockSize)) {}
  BlockTarget target(const BlockRange& block) override { return {block_.data(), block.cols}; }
  void finished(const BlockRange& block, const BlockTarget& target) override {
    writer_.writeBlock(block.row0, block.col0, block.rows, block.cols, target.values);
    if (block.diagonal()) return;
    transposeInto(target.values, block.rows, block.cols, block.cols, transposed_.data(), block.rows);
    writer_.writeBlock(block.col0, block.row0, block.cols, block.rows, transposed_.data());
  }

 private:
  SimilarityMatrixWriter& writer_;
  std::vector<float> block_;
  std::vector<float> transposed_;
};


nlohmann::json provenanceOf(const FeatureMatrix& features, const SimilarityConfig& config, const std::string& started,
                            double seconds) {
  return {{"measure", similarityMeasureName(config.measure)},
          {"dissimilarity", isDissimilarity(config)},
          {"config", toJson(config)},
          {"features", {{"source", features.source}, {"images", features.rows}, {"units", features.cols}}},
          {"runtime", toJson(runtimeInfo())},
          {"created_utc", started},
          {"seconds", seconds}};
}

// Square chunks that tile every block exactly, so each chunk is written once and whole: the
// largest divisor of the block size up to kSimilarityChunkSide (2048 -> 256, 37 -> 37). A block
// size with no divisor of at least 32 gets the standard chunks, some written in two parts.
std::int64_t chunkSideForBlocks(std::int64_t blockSize) {
  for (std::int64_t side = std::min(blockSize, kSimilarityChunkSide); side >= 32; --side)
    if (blockSize % side == 0) return side;
  return std::min(blockSize, kSimilarityChunkSide);
}

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

SimilarityMatrix computeSimilarity(const FeatureMatrix& features, const SimilarityConfig& config, const Job& job) {
  const auto start = std::chrono::steady_clock::now();
  const auto started = utcTimestamp();
  checkInputs(features, config);
  job.throwIfCancelled();
  const auto prepared = prepareRows(features, config);

  SimilarityMatrix matrix;
  matrix.size = features.rows;
  // Reserve (untouched memory), advise huge pages, then let resize zero-fill it.
  matrix.values.reserve(static_cast<std::size_t>(matrix.size * matrix.size));
  adviseHugePages(matrix.values.data(), matrix.values.capacity() * sizeof(float));
  matrix.values.resize(static_cast<std::size_t>(matrix.size * matrix.size));
  matrix.imageIds = features.imageIds;
  matrix.labels = features.labels;
  matrix.config = config;
  InMemorySink sink(matrix.values.data(), matrix.size);
  computeBlocks(prepared, config, job, sink);
  matrix.provenance = provenanceOf(features, config, started, secondsSince(start));
  return matrix;
}

// Memory: the prepared rows (n x d floats, 1.07 GB for 50,000 x 5,335) plus two blocks of
// blockSize^2 floats (16 MiB each at 2048) and HDF5's 1 MiB chunk cache, whatever n; the n x n
// matrix (10 GB at 50,000) only ever exists in the file. (The caller's FeatureMatrix is another n x d.)
void computeSimilarityToFile(const FeatureMatrix& features, const SimilarityConfig& config,
                             const std::filesystem::path& file, const Job& job) {
  const auto start = std::chrono::steady_clock::now();
  const auto started = utcTimestamp();
  checkInputs(features, config);
  job.throwIfCancelled();
  const auto prepared = prepareRows(features, config);
  const std::int64_t blockSize = std::min(config.blockSize, features.rows);
  writeAtomically(file, [&](const std::filesystem::path& temporary) {
    try {
      SimilarityMatrixWriter writer(temporary, features.rows, chunkSideForBlocks(blockSize));
      FileSink sink(writer, blockSize);
      computeBlocks(prepared, config, job, sink);
      writer.finish(features.imageIds, features.labels, config,
                    provenanceOf(features, config, started, secondsSince(start)));
    } catch (const FileError& e) {
      throw FileError(file.string(), e.problem());  // name the file the user asked for, not the temporary
    }
  });
}

}  // namespace bp
