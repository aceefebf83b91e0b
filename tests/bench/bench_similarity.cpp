// Times the similarity kernel (centred cosine, the paper's measure) on random features and prints
// one JSON line. similarity_numpy.py does the same work in numpy; similarity.sh runs both.
//
// In memory (default 5,000 images x 5,335 units, the Lurz scan's size): median (and best) of `runs`
// calls of computeSimilarity, and of `runs` single SGEMMs (at::mm of images x units by its
// transpose, materialised so BLAS cannot take a symmetric shortcut) for the machine's GEMM speed.
// Flop counts, both reported:
//   useful = N (N + 1) D: the N(N+1)/2 distinct pairs (diagonal included) times 2D flops each,
//            what a symmetric kernel must do; gflops_effective = useful / seconds.
//   gemm   = 2 N^2 D: a full N x N GEMM; sgemm_gflops = gemm / sgemm seconds.
//   ratio_to_sgemm = gflops_effective / sgemm_gflops: the fraction of GEMM speed at which the
//   kernel does useful work (1.0 = as fast as a perfect symmetric kernel running at SGEMM speed).
//
// Streamed (--stream N): computeSimilarityToFile of N images to an HDF5 file (deleted afterwards
// unless --keep); prints seconds, the pure-GEMM time estimate (useful flops at the speed of one
// block-sized SGEMM, best of 3), and the peak resident memory.
//
// Usage: bench_similarity [--images N] [--units D] [--runs R] [--block B]
//        bench_similarity --stream N [--units D] [--block B] [--out FILE] [--keep]
#include <sys/resource.h>

#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "rsa/similarity.h"
#include "runtime/error.h"
#include "runtime/runtime.h"

namespace {

struct Options {
  std::int64_t images = 5000;
  std::int64_t units = 5335;
  int runs = 3;
  std::int64_t blockSize = bp::SimilarityConfig{}.blockSize;
  bool stream = false;
  std::filesystem::path out = "/tmp/bench_similarity_stream.h5";
  bool keep = false;
};

double secondsOf(const std::function<void()>& work) {
  const auto start = std::chrono::steady_clock::now();
  work();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

struct Timing {
  double median;
  double best;  // the least disturbed run, for machines shared with other work
};

Timing timeRuns(int runs, const std::function<void()>& work) {
  std::vector<double> seconds;
  for (int run = 0; run < runs; ++run) seconds.push_back(secondsOf(work));
  std::sort(seconds.begin(), seconds.end());
  const double median = seconds.size() % 2 ? seconds[seconds.size() / 2]
                                           : 0.5 * (seconds[seconds.size() / 2 - 1] + seconds[seconds.size() / 2]);
  return {median, seconds.front()};
}

// Standard-normal features with a fixed seed (LibTorch's generator: fast for a billion values).
bp::FeatureMatrix randomFeatures(std::int64_t images, std::int64_t units) {
  bp::FeatureMatrix features;
  features.rows = images;
  features.cols = units;
  features.values.resize(static_cast<std::size_t>(images * units));
  at::manual_seed(20190101);
  at::from_blob(features.values.data(), {images, units}, at::kFloat).normal_();
  features.imageIds.resize(static_cast<std::size_t>(images));
  for (std::int64_t i = 0; i < images; ++i) features.imageIds[static_cast<std::size_t>(i)] = i;
  features.source = "random normal features (bench_similarity)";
  return features;
}

// Seconds of one a b^T SGEMM with a: m x k and b: n x k (`runs` runs after one warm-up).
Timing sgemmSeconds(std::int64_t m, std::int64_t n, std::int64_t k, int runs) {
  const auto a = at::randn({m, k});
  const auto bTransposed = at::randn({n, k}).t().contiguous();  // k x n, a separate matrix
  auto result = at::empty({m, n});
  at::mm_out(result, a, bTransposed);
  return timeRuns(runs, [&] { at::mm_out(result, a, bTransposed); });
}

double peakResidentGiB() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / (1024.0 * 1024.0);  // ru_maxrss is in KiB on Linux
}

std::string threadsDescription() {
  const char* openblas = std::getenv("OPENBLAS_NUM_THREADS");
  return "\"threads\": " + std::to_string(bp::runtimeInfo().threads) + ", \"openblas_num_threads\": \"" +
         (openblas ? openblas : "unset") + "\", \"blas\": \"" + bp::runtimeInfo().blas.name + "\"";
}

int runInMemory(const Options& options) {
  const auto features = randomFeatures(options.images, options.units);
  bp::SimilarityConfig config;
  config.blockSize = options.blockSize;
  const auto kernel = timeRuns(options.runs, [&] { bp::computeSimilarity(features, config); });
  const auto sgemm = sgemmSeconds(options.images, options.images, options.units, options.runs);
  const double n = static_cast<double>(options.images);
  const double d = static_cast<double>(options.units);
  const double usefulGflop = n * (n + 1.0) * d / 1e9;
  const double gemmGflop = 2.0 * n * n * d / 1e9;
  std::printf(
      "{\"mode\": \"memory\", \"images\": %lld, \"units\": %lld, \"block\": %lld, \"runs\": %d, %s, "
      "\"seconds\": %.4f, \"seconds_best\": %.4f, \"useful_gflop\": %.2f, \"gflops_effective\": %.2f, "
      "\"gflops_gemm_count\": %.2f, \"sgemm_seconds\": %.4f, \"sgemm_seconds_best\": %.4f, \"sgemm_gflops\": %.2f, "
      "\"ratio_to_sgemm\": %.3f, \"ratio_to_sgemm_best\": %.3f, \"peak_rss_gib\": %.2f}\n",
      static_cast<long long>(options.images), static_cast<long long>(options.units),
      static_cast<long long>(options.blockSize), options.runs, threadsDescription().c_str(), kernel.median, kernel.best,
      usefulGflop, usefulGflop / kernel.median, gemmGflop / kernel.median, sgemm.median, sgemm.best,
      gemmGflop / sgemm.median, (usefulGflop / kernel.median) / (gemmGflop / sgemm.median),
      (usefulGflop / kernel.best) / (gemmGflop / sgemm.best), peakResidentGiB());
  return 0;
}

int runStreamed(const Options& options) {
  const auto features = randomFeatures(options.images, options.units);
  bp::SimilarityConfig config;
  config.blockSize = options.blockSize;
  const double seconds = secondsOf([&] { bp::computeSimilarityToFile(features, config, options.out); });
  const double fileGiB = static_cast<double>(std::filesystem::file_size(options.out)) / (1024.0 * 1024.0 * 1024.0);
  if (!options.keep) std::filesystem::remove(options.out);
  const std::int64_t block = std::min(options.blockSize, options.images);
  const double blockSgemm = sgemmSeconds(block, block, options.units, 3).best;
  const double blockGflops = 2.0 * static_cast<double>(block) * static_cast<double>(block) *
                             static_cast<double>(options.units) / 1e9 / blockSgemm;
  const double n = static_cast<double>(options.images);
  const double usefulGflop = n * (n + 1.0) * static_cast<double>(options.units) / 1e9;
  const double gemmEstimate = usefulGflop / blockGflops;
  std::printf(
      "{\"mode\": \"stream\", \"images\": %lld, \"units\": %lld, \"block\": %lld, %s, \"seconds\": %.2f, "
      "\"useful_gflop\": %.1f, \"gflops_effective\": %.2f, \"block_sgemm_gflops\": %.2f, \"gemm_seconds_estimate\": "
      "%.2f, "
      "\"ratio_to_gemm_estimate\": %.3f, \"file_gib\": %.2f, \"features_gib\": %.2f, \"peak_rss_gib\": %.2f}\n",
      static_cast<long long>(options.images), static_cast<long long>(options.units), static_cast<long long>(block),
      threadsDescription().c_str(), seconds, usefulGflop, usefulGflop / seconds, blockGflops, gemmEstimate,
      seconds / gemmEstimate, fileGiB,
      static_cast<double>(features.values.size()) * sizeof(float) / (1024.0 * 1024.0 * 1024.0), peakResidentGiB());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string argument = argv[i];
      const auto value = [&]() -> std::string {
        if (i + 1 >= argc) throw bp::Error(argument + " needs a value");
        return argv[++i];
      };
      if (argument == "--images")
        options.images = std::stoll(value());
      else if (argument == "--units")
        options.units = std::stoll(value());
      else if (argument == "--runs")
        options.runs = std::max(1, std::stoi(value()));
      else if (argument == "--block")
        options.blockSize = std::stoll(value());
      else if (argument == "--stream") {
        options.stream = true;
        options.images = std::stoll(value());
      } else if (argument == "--out")
        options.out = value();
      else if (argument == "--keep")
        options.keep = true;
      else
        throw bp::Error("unknown argument " + argument + " (see the comment at the top of bench_similarity.cpp)");
    }
    bp::initializeRuntime();  // threads, allocator tuning, BLAS check: as the app runs
    return options.stream ? runStreamed(options) : runInMemory(options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
