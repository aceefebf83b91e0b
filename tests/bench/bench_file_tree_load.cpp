// Times readFileTree on a neuralpredictors file tree: prints one JSON line
// {"seconds_median": ..., "trials": ..., "files": ...}. file_tree_load_numpy.py does the same work
// with numpy and prints the same keys; file_tree_load.sh runs both and prints the ratio.
// Usage: bench_file_tree_load <file-tree folder> [runs, default 3]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "data/file_tree.h"
#include "runtime/error.h"

namespace fs = std::filesystem;

namespace {

// The metadata .npy files readFileTree reads, counted the way the numpy script counts them.
int metadataFileCount(const fs::path& root) {
  int count = 0;
  for (const char* name : {"tiers", "frame_image_id", "trial_idx", "frame_image_class"})
    count += fs::is_regular_file(root / "meta" / "trials" / (std::string(name) + ".npy"));
  for (const char* name : {"unit_ids", "animal_ids", "sessions", "scan_idx", "area", "layer", "cell_motor_coordinates"})
    count += fs::is_regular_file(root / "meta" / "neurons" / (std::string(name) + ".npy"));
  const fs::path statistics = root / "meta" / "statistics";
  if (!fs::is_directory(statistics)) return count;
  for (const auto& key : fs::directory_iterator(statistics))
    for (const char* group : {"all", "stimulus_frame"}) {
      if (!fs::is_directory(key.path() / group)) continue;
      for (const auto& file : fs::directory_iterator(key.path() / group)) count += file.path().extension() == ".npy";
    }
  return count;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <file-tree folder> [runs]\n", argv[0]);
    return 2;
  }
  const fs::path root = argv[1];
  const int runs = argc > 2 ? std::max(1, std::stoi(argv[2])) : 3;
  try {
    std::vector<double> seconds;
    bp::NeuralDataset dataset;
    for (int run = 0; run < runs; ++run) {
      const auto start = std::chrono::steady_clock::now();
      dataset = bp::readFileTree(root);
      seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    std::sort(seconds.begin(), seconds.end());
    const double median = seconds.size() % 2 ? seconds[seconds.size() / 2]
                                             : 0.5 * (seconds[seconds.size() / 2 - 1] + seconds[seconds.size() / 2]);
    const std::int64_t keys = 2 + (dataset.hasBehavior() ? 1 : 0) + (dataset.hasPupilCenter() ? 1 : 0);
    const std::int64_t files = dataset.trialCount() * keys + metadataFileCount(root);
    std::printf("{\"seconds_median\": %.6f, \"trials\": %lld, \"files\": %lld}\n", median,
                static_cast<long long>(dataset.trialCount()), static_cast<long long>(files));
  } catch (const bp::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
