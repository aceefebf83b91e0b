#pragma once
// Engine start-up: thread count, allocator tuning, BLAS check and compute-device choice.
// Call initializeRuntime() once, before any tensor work, from the GUI's or the CLI's main().
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace bp {

struct RuntimeConfig {
  int threads = 0;               // 0 = one per hardware thread (LibTorch 1.13 would otherwise pick 1)
  std::string device = "auto";   // "auto" (CUDA when available), "cpu" or "cuda"
  bool tuneAllocator = true;     // raise glibc's mmap/trim thresholds (see docs/benchmarks.md)
};

struct BlasInfo {
  std::string name;      // "OpenBLAS", "reference BLAS (netlib)", "BLIS", ...
  std::string library;   // resolved path of the loaded libblas.so.3
  std::string details;   // e.g. OpenBLAS's build configuration
  bool isReference = false;
  double measuredGflops = 0.0;  // one 512x512 float matmul, timed at start-up
};

struct RuntimeInfo {
  int threads = 1;
  std::string device = "cpu";   // the chosen device: "cpu" or "cuda"
  bool cudaAvailable = false;
  int cudaDeviceCount = 0;
  BlasInfo blas;
  std::string brainpriorVersion;
  std::string libtorchVersion;
  std::string opencvVersion;
  std::string hdf5Version;
  std::string compiler;
  std::vector<std::string> warnings;  // problems the user should see (reference BLAS, CUDA requested but absent)
};

// Applies the configuration, logs what it found, and returns it. Safe to call again (e.g. when the
// user changes the device override in the GUI): the allocator is tuned once, the rest is re-applied.
RuntimeInfo initializeRuntime(const RuntimeConfig& config = {});
// The information from the last initializeRuntime() call (defaults before the first one).
const RuntimeInfo& runtimeInfo();
// Every thread that runs tensor work besides the main thread must call this first.
void initializeWorkerThread();

nlohmann::json toJson(const RuntimeInfo& info);

}  // namespace bp
