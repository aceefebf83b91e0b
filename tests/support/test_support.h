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

// The Lurz et al. 2021 recording (scan 20457-5-9, test tier) that the embedded default population is
// calibrated to: the median oracle correlation (computeReliability) and the mean agreement of one
// trial's population similarity with the other repeats' average (singleTrialAgreement with its
// defaults: unweighted centred cosine, Pearson). TestLurzRsa checks them against the recording.
inline constexpr double kLurzMedianOracleCorrelation = 0.377;
inline constexpr double kLurzSingleTrialAgreement = 0.266;

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
