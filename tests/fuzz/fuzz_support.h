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

}  // namespace bp::fuzz
