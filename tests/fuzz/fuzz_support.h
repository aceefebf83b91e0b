#pragma once
// What the fuzz harnesses share: the input written to a file of the process's own scratch folder
// (the readers take paths), and the rule that a parser may refuse an input only with bp::Error.
// Any other exception, a crash, a leak or undefined behaviour is a finding.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace bp::fuzz {

inline std::filesystem::path scratchFile(const std::string& name) {
  static const std::filesystem::path folder = [] {
    auto path = std::filesystem::temp_directory_path() / ("brainprior-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(path);
    return path;
  }();
  return folder / name;
}

inline std::filesystem::path writeInput(const std::string& name, const std::uint8_t* data, std::size_t size) {
  const auto path = scratchFile(name);
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data),
                                                                 static_cast<std::streamsize>(size));
  return path;
}

// For LLVMFuzzerInitialize of a harness whose seeds need BrainPrior's own writers: run.sh starts it
// once with BRAINPRIOR_FUZZ_WRITE_SEEDS=<folder>, and it writes them there and exits.
template <class WriteSeeds>
int writeSeedsWhenAsked(WriteSeeds&& writeSeeds) {
  if (const char* folder = std::getenv("BRAINPRIOR_FUZZ_WRITE_SEEDS")) {
    std::filesystem::create_directories(folder);
    writeSeeds(std::filesystem::path(folder));
    std::exit(0);
  }
  return 0;
}

}  // namespace bp::fuzz
