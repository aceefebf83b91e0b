#pragma once
// Helpers shared by the test executables: scratch folders and the location of ../shared/data.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

namespace bp::test {

// A fresh empty folder under the system temp dir, removed when the object dies.
class ScratchDir {
public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

private:
  std::filesystem::path path_;
};

// ../shared/data (or $BRAINPRIOR_SHARED_DATA) when it exists; nullopt means "skip the test".
std::optional<std::filesystem::path> sharedDataDir();

// Writes raw bytes to a file (for corrupt-input fixtures).
void writeBytes(const std::filesystem::path& path, const std::string& bytes);
std::string readBytes(const std::filesystem::path& path);

// Runs `call` with every file write limited to `bytes` (RLIMIT_FSIZE, SIGXFSZ ignored, so a write
// past it fails with EFBIG): a full disk that needs no root. Limit and signal are restored after.
void withFileSizeLimit(std::uint64_t bytes, const std::function<void()>& call);
// True when `folder` holds a temporary file of an atomic write (".<name>.tmp-...").
bool hasTemporaryFiles(const std::filesystem::path& folder);

}  // namespace bp::test
