#include <zip.h>

#include <fstream>
#include <memory>
#include <optional>
#include <random>

#include "data/file_tree.h"
#include "runtime/error.h"

namespace bp {
namespace {

namespace fs = std::filesystem;

constexpr const char* kTiersEntry = "meta/trials/tiers.npy";

struct ZipCloser {
  void operator()(zip_t* archive) const { zip_discard(archive); }
};
using ZipArchive = std::unique_ptr<zip_t, ZipCloser>;

struct ZipFileCloser {
  void operator()(zip_file_t* file) const { zip_fclose(file); }
};

ZipArchive openArchive(const fs::path& file) {
  int error = 0;
  ZipArchive archive(zip_open(file.c_str(), ZIP_RDONLY, &error));
  if (!archive) {
    zip_error_t reason;
    zip_error_init_with_code(&reason, error);
    const std::string text = zip_error_strerror(&reason);
    zip_error_fini(&reason);
    throw FileError(file.string(), "cannot open as a zip archive (" + text + ")");
  }
  return archive;
}

// The folder inside the archive that holds the tree ("" at its top), or nothing.
std::optional<std::string> treePrefix(zip_t* archive) {
  const zip_int64_t entries = zip_get_num_entries(archive, 0);
  const std::string tiers = kTiersEntry;
  for (zip_int64_t i = 0; i < entries; ++i) {
    const char* name = zip_get_name(archive, static_cast<zip_uint64_t>(i), 0);
    if (name == nullptr) continue;
    const std::string entry = name;
    if (entry.size() < tiers.size() || entry.compare(entry.size() - tiers.size(), tiers.size(), tiers) != 0) continue;
    const std::string prefix = entry.substr(0, entry.size() - tiers.size());
    if (prefix.empty() || (prefix.back() == '/' && prefix.find('/') == prefix.size() - 1)) return prefix;
  }
  return std::nullopt;
}

// An entry name that stays inside the folder it is unpacked into.
bool isSafeEntryName(const std::string& name) {
  if (name.empty() || name.front() == '/' || name.find('\\') != std::string::npos) return false;
  for (const auto& part : fs::path(name)) if (part == "..") return false;
  return true;
}

// A fresh folder under the system's temporary folder, removed with its contents when this dies.
class TemporaryFolder {
 public:
  TemporaryFolder() {
    std::random_device random;
    path_ = fs::temp_directory_path() / ("brainprior-zip-" + std::to_string(random()) + std::to_string(random()));
    fs::create_directories(path_);
  }
  ~TemporaryFolder() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TemporaryFolder(const TemporaryFolder&) = delete;
  TemporaryFolder& operator=(const TemporaryFolder&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void unpack(zip_t* archive, const fs::path& file, const fs::path& into, const Job& job) {
  const zip_int64_t entries = zip_get_num_entries(archive, 0);
  std::vector<char> buffer(1 << 20);
  for (zip_int64_t i = 0; i < entries; ++i) {
    job.throwIfCancelled();
    const auto index = static_cast<zip_uint64_t>(i);
    const char* name = zip_get_name(archive, index, 0);
    if (name == nullptr) throw FileError(file.string(), "entry " + std::to_string(i) + " has no readable name");
    const std::string entry = name;
    if (!isSafeEntryName(entry))
      throw FileError(file.string(), "entry '" + entry + "' would land outside the folder it is unpacked into");
    const fs::path target = into / entry;
    if (entry.back() == '/') {
      fs::create_directories(target);
      continue;
    }
    fs::create_directories(target.parent_path());
    std::unique_ptr<zip_file_t, ZipFileCloser> source(zip_fopen_index(archive, index, 0));
    if (!source) throw FileError(file.string(), "cannot read entry '" + entry + "' (" + zip_strerror(archive) + ")");
    std::ofstream out(target, std::ios::binary);
    zip_int64_t read = 0;
    while ((read = zip_fread(source.get(), buffer.data(), buffer.size())) > 0)
      if (!out.write(buffer.data(), read))
        throw FileError(file.string(), "cannot unpack entry '" + entry + "' into " + into.string() +
                                           " (is the disk full?)");
    if (read < 0)
      throw FileError(file.string(), "entry '" + entry + "' is damaged (" + zip_file_strerror(source.get()) + ")");
    out.close();
    if (!out) throw FileError(file.string(), "cannot unpack entry '" + entry + "' (is the disk full?)");
    job.progress(static_cast<double>(i + 1) / static_cast<double>(entries), "Unpacking " + file.filename().string());
  }
}

}  // namespace

bool looksLikeZippedFileTree(const fs::path& file) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec) || file.extension() != ".zip") return false;
  int error = 0;
  ZipArchive archive(zip_open(file.c_str(), ZIP_RDONLY, &error));
  return archive && treePrefix(archive.get()).has_value();
}

NeuralDataset readZippedFileTree(const fs::path& file, const Job& job) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) throw FileError(file.string(), "not a file");
  const ZipArchive archive = openArchive(file);
  const auto prefix = treePrefix(archive.get());
  if (!prefix)
    throw FileError(file.string(), std::string("holds no neuralpredictors file tree (no ") + kTiersEntry +
                                       ", at its top or in one folder)");
  const TemporaryFolder folder;
  try {
    unpack(archive.get(), file, folder.path(), job.subJob(0.0, 0.5));
  } catch (const fs::filesystem_error& error) {
    throw FileError(file.string(), std::string("cannot unpack: ") + error.what());
  }
  NeuralDataset dataset = readFileTree(folder.path() / *prefix, job.subJob(0.5, 1.0));
  if (prefix->empty()) dataset.name = file.stem().string();
  dataset.sourcePath = file.string();
  return dataset;
}

}  // namespace bp
