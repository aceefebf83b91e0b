#pragma once
// The one way the engine saves anything: write to a temporary file beside the target, flush it
// to disk, then rename over the target. A failed or cancelled write leaves the old file intact.
#include <filesystem>
#include <functional>
#include <string>

namespace bp {

// Calls `write` with a temporary path in the target's folder, then atomically renames it onto
// `target`. Any exception from `write` (or a failed rename) removes the temporary file and
// propagates; failures are reported as FileError naming `target`.
void writeAtomically(const std::filesystem::path& target,
                     const std::function<void(const std::filesystem::path& temporary)>& write);

// Convenience for text and small binary files.
void writeFileAtomically(const std::filesystem::path& target, const std::string& contents);

// The whole of a (small) file, as written by writeFileAtomically; FileError when it cannot be read.
std::string readTextFile(const std::filesystem::path& path);

}  // namespace bp
