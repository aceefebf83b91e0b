#pragma once
// The one way the engine saves anything: write to a temporary file beside the target, flush it
// to disk, then rename over the target. A failed or cancelled write leaves the old file intact.
// Temporary files are named ".<target>.tmp-<pid>-<random>": the next write to the same target
// removes those a killed process left behind.
#include <filesystem>
#include <functional>
#include <string>

namespace bp {

// Calls `write` with a temporary path in the target's folder, then atomically renames it onto
// `target`. Any exception from `write` (or a failed rename) removes the temporary file and
// propagates; failures are reported as FileError naming `target`. A target that exists and is not
// a regular file (a device, a FIFO, a folder) is refused: it would be replaced by a file.
void writeAtomically(const std::filesystem::path& target,
                     const std::function<void(const std::filesystem::path& temporary)>& write);

// Convenience for text and small binary files.
void writeFileAtomically(const std::filesystem::path& target, const std::string& contents);

// The whole of a (small) file, as written by writeFileAtomically; FileError when it cannot be read.
std::string readTextFile(const std::filesystem::path& path);

// A FileError unless `path` is a regular file (or a link to one): where BrainPrior expects a file
// it never reads a FIFO (which would block it), a device or a folder.
void requireRegularFile(const std::filesystem::path& path);

}  // namespace bp
