#include "runtime/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include "runtime/error.h"

namespace bp {
namespace {

std::filesystem::path temporaryPathFor(const std::filesystem::path& target) {
  std::random_device device;
  const auto suffix = std::to_string(device()) + std::to_string(::getpid());
  return target.parent_path() / ("." + target.filename().string() + ".tmp-" + suffix);
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
  const auto absolute = std::filesystem::absolute(target);
  std::error_code ec;
  if (!absolute.parent_path().empty()) std::filesystem::create_directories(absolute.parent_path(), ec);
  if (ec) throw FileError(target.string(), "cannot create folder: " + ec.message());
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
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FileError(path.string(), std::string("cannot open for reading: ") + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw FileError(path.string(), "read failed");
  return text.str();
}

}  // namespace bp
