#include "runtime/atomic_file.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include "runtime/error.h"

namespace bp {
namespace {

std::string temporaryPrefix(const std::filesystem::path& target) { return "." + target.filename().string() + ".tmp-"; }

std::filesystem::path temporaryPathFor(const std::filesystem::path& target) {
  std::random_device device;
  return target.parent_path() /
         (temporaryPrefix(target) + std::to_string(::getpid()) + "-" + std::to_string(device()));
}

// Temporary files of `target` whose writing process no longer exists (killed mid-write): removed,
// so that failed writes do not keep a disk full.
void removeAbandonedTemporaries(const std::filesystem::path& target) {
  const std::string prefix = temporaryPrefix(target);
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(target.parent_path(), ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    const std::string rest = name.substr(prefix.size());
    const auto dash = rest.find('-');
    if (dash == std::string::npos || dash == 0 || rest.find_first_not_of("0123456789") != dash) continue;
    const long pid = std::strtol(rest.substr(0, dash).c_str(), nullptr, 10);
    if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) std::filesystem::remove(entry.path(), ec);
  }
}

// Makes the written bytes durable before the rename publishes them.
void flushToDisk(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

void writeAtomically(const std::filesystem::path& target,
                     const std::function<void(const std::filesystem::path& temporary)>& write) {
  if (target.empty()) throw FileError("(empty path)", "no file name was given to write to");
  const auto absolute = std::filesystem::absolute(target);
  std::error_code ec;
  if (!absolute.parent_path().empty()) std::filesystem::create_directories(absolute.parent_path(), ec);
  if (ec) throw FileError(target.string(), "cannot create folder: " + ec.message());
  const auto status = std::filesystem::status(absolute, ec);
  if (std::filesystem::exists(status) && !std::filesystem::is_regular_file(status))
    throw FileError(target.string(), "exists and is not a regular file (a folder, device or FIFO); BrainPrior "
                                     "writes only files and will not replace it");
  removeAbandonedTemporaries(absolute);
  const auto temporary = temporaryPathFor(absolute);
  try {
    write(temporary);
    flushToDisk(temporary);
    std::filesystem::rename(temporary, absolute);
  } catch (const std::filesystem::filesystem_error& e) {
    std::filesystem::remove(temporary, ec);
    throw FileError(target.string(), std::string("cannot write: ") + e.code().message());
  } catch (...) {
    std::filesystem::remove(temporary, ec);
    throw;
  }
}

void writeFileAtomically(const std::filesystem::path& target, const std::string& contents) {
  writeAtomically(target, [&](const std::filesystem::path& temporary) {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) throw FileError(target.string(), std::string("cannot open for writing: ") + std::strerror(errno));
    out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
    out.flush();
    if (!out) throw FileError(target.string(), "write failed (disk full?)");
  });
}

std::string readTextFile(const std::filesystem::path& path) {
  requireRegularFile(path);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FileError(path.string(), std::string("cannot open for reading: ") + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw FileError(path.string(), "read failed");
  return text.str();
}

void requireRegularFile(const std::filesystem::path& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(status)) throw FileError(path.string(), "file does not exist");
  if (!std::filesystem::is_regular_file(status))
    throw FileError(path.string(), std::filesystem::is_directory(status)
                                       ? "is a folder, not a file"
                                       : "is not a regular file (a FIFO, socket or device); BrainPrior reads only files");
}

}  // namespace bp
