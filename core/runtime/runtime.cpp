#include "runtime/runtime.h"

#include <H5public.h>
#include <dlfcn.h>
#include <link.h>
#include <malloc.h>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <opencv2/core/version.hpp>
#include <thread>
#include <torch/cuda.h>
#include <torch/version.h>

#include "runtime/build_info.h"
#include "runtime/error.h"
#include "runtime/log.h"

namespace bp {
namespace {

std::mutex& runtimeMutex() {
  static std::mutex mutex;
  return mutex;
}

RuntimeInfo& storedInfo() {
  static RuntimeInfo info;
  return info;
}

// glibc returns big buffers to the kernel after every step and faults them in again; measured
// 2.5x slower, unstable training without this (engineering notes, trap 3).
void tuneAllocatorOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
    mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024);
  });
}

std::string loadedLibraryPath(const char* soname) {
  struct Search {
    const char* soname;
    std::string path;
  } search{soname, {}};
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) {
        auto* s = static_cast<Search*>(data);
        if (info->dlpi_name && std::strstr(info->dlpi_name, s->soname)) {
          s->path = info->dlpi_name;
          return 1;
        }
        return 0;
      },
      &search);
  return search.path;
}

double timeMatmulGflops() {
  constexpr int64_t n = 512;
  const auto a = at::rand({n, n});
  const auto b = at::rand({n, n});
  at::mm(a, b);  // warm-up: thread pool and BLAS initialisation
  const auto start = std::chrono::steady_clock::now();
  constexpr int repeats = 3;
  for (int i = 0; i < repeats; ++i) at::mm(a, b);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return 2.0 * n * n * n * repeats / seconds / 1e9;
}

// Debian's LibTorch calls whichever libblas.so.3 the alternatives system points at; the reference
// (netlib) one made a similarity matrix 50x slower (engineering notes, trap 1).
BlasInfo inspectBlas() {
  BlasInfo blas;
  const auto loaded = loadedLibraryPath("libblas.so");
  std::error_code ec;
  blas.library = loaded.empty() ? std::string() : std::filesystem::canonical(loaded, ec).string();
  if (ec) blas.library = loaded;
  using ConfigFunction = char* (*)();
  const auto openblasConfig = reinterpret_cast<ConfigFunction>(dlsym(RTLD_DEFAULT, "openblas_get_config"));
  if (blas.library.find("openblas") != std::string::npos || (blas.library.empty() && openblasConfig)) {
    blas.name = "OpenBLAS";
    if (openblasConfig) blas.details = openblasConfig();
  } else if (blas.library.find("blis") != std::string::npos) {
    blas.name = "BLIS";
  } else if (blas.library.find("atlas") != std::string::npos) {
    blas.name = "ATLAS";
  } else if (blas.library.find("mkl") != std::string::npos) {
    blas.name = "Intel MKL";
  } else if (blas.library.find("/blas/") != std::string::npos) {
    blas.name = "reference BLAS (netlib)";
    blas.isReference = true;
  } else {
    blas.name = blas.library.empty() ? "built into LibTorch" : "unknown";
  }
  blas.measuredGflops = timeMatmulGflops();
  return blas;
}

std::string compilerVersion() {
#if defined(__clang__)
  return "clang " __clang_version__;
#elif defined(__GNUC__)
  return "gcc " __VERSION__;
#else
  return "unknown";
#endif
}

}  // namespace

RuntimeInfo initializeRuntime(const RuntimeConfig& config) {
  std::lock_guard<std::mutex> lock(runtimeMutex());
  if (config.tuneAllocator) tuneAllocatorOnce();

  RuntimeInfo info;
  const int hardware = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (config.threads < 0) throw Error("thread count must be 0 (automatic) or positive, got " + std::to_string(config.threads));
  info.threads = config.threads > 0 ? config.threads : hardware;
  at::set_num_threads(info.threads);
  at::init_num_threads();

  info.cudaAvailable = torch::cuda::is_available();
  info.cudaDeviceCount = info.cudaAvailable ? static_cast<int>(torch::cuda::device_count()) : 0;
  if (config.device == "auto") {
    info.device = info.cudaAvailable ? "cuda" : "cpu";
  } else if (config.device == "cpu") {
    info.device = "cpu";
  } else if (config.device == "cuda") {
    if (info.cudaAvailable) {
      info.device = "cuda";
    } else {
      info.device = "cpu";
      info.warnings.push_back("CUDA was requested but this LibTorch build sees no CUDA device; using the CPU.");
    }
  } else {
    throw Error("unknown device '" + config.device + "' (expected auto, cpu or cuda)");
  }

  info.blas = inspectBlas();
  if (info.blas.isReference)
    info.warnings.push_back("The reference (netlib) BLAS is active: matrix work will be ~50x slower. Install "
                            "libopenblas0-pthread (packaging/install-deps.sh does) or select OpenBLAS with "
                            "update-alternatives --config libblas.so.3-x86_64-linux-gnu.");

  info.brainpriorVersion = kBrainPriorVersion;
  info.libtorchVersion = TORCH_VERSION;
  info.opencvVersion = CV_VERSION;
  info.hdf5Version = H5_VERS_INFO;
  info.compiler = compilerVersion();

  logInfo("BrainPrior " + info.brainpriorVersion + ": " + std::to_string(info.threads) + " threads, device " +
          info.device + (info.cudaAvailable ? " (" + std::to_string(info.cudaDeviceCount) + " CUDA devices)" : "") +
          ", BLAS " + info.blas.name + " (" + std::to_string(static_cast<int>(info.blas.measuredGflops)) +
          " GFLOP/s on a 512x512 matmul)");
  for (const auto& warning : info.warnings) logWarning(warning);
  storedInfo() = info;
  return info;
}

const RuntimeInfo& runtimeInfo() {
  std::lock_guard<std::mutex> lock(runtimeMutex());
  return storedInfo();
}

void initializeWorkerThread() { at::init_num_threads(); }

nlohmann::json toJson(const RuntimeInfo& info) {
  return {
      {"threads", info.threads},
      {"device", info.device},
      {"cuda_available", info.cudaAvailable},
      {"cuda_device_count", info.cudaDeviceCount},
      {"blas",
       {{"name", info.blas.name},
        {"library", info.blas.library},
        {"details", info.blas.details},
        {"is_reference", info.blas.isReference},
        {"measured_gflops", info.blas.measuredGflops}}},
      {"versions",
       {{"brainprior", info.brainpriorVersion},
        {"libtorch", info.libtorchVersion},
        {"opencv", info.opencvVersion},
        {"hdf5", info.hdf5Version},
        {"compiler", info.compiler}}},
      {"warnings", info.warnings},
  };
}

}  // namespace bp
