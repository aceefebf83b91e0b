#pragma once
// A thin RAII layer over the HDF5 C API (HighFive is not packaged in Debian). Objects are named by
// slash-separated paths from the file's root ("neurons/unit_ids"); every failure becomes a
// bp::FileError naming the file, the object and, when HDF5 gives one, its own reason.
// The header does not include <hdf5.h>, so users of the wrapper need no HDF5 include paths.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

namespace bp {

// Debian's HDF5 is the serial build and not thread-safe: every call into the library, from any
// thread, must hold this mutex. Every Hdf5File and Hdf5Handle member takes it itself, so callers
// only need it for raw H5* calls of their own. Recursive because wrappers call wrappers.
std::recursive_mutex& hdf5Mutex();

class Job;

// libhdf5 trusts what it parses: a corrupt global heap or object header can make it read out of
// bounds and crash (reported against 1.10 and 1.14 alike; docs/hardening.md has a one-byte example).
// So the readers of files BrainPrior did not write rehearse: the first time this process reads a file
// (by path, size and modification time) with a given `reader` (a name: each reader touches different
// parts of a file), `read` runs once in a forked helper process, with a Job
// that reports nothing. A crash there refuses the file by name (FileError, "the file is corrupt") and
// this process lives on; otherwise the caller reads it for real. Forking copies this process's
// state, so the helper runs the same code on the same heap as the real read would: a crash that
// depends on the heap's layout happens in both. A helper that hangs is stopped after five minutes
// and proves nothing. The HDF5 mutex is held across fork(), so no thread is inside the library when
// the helper starts; the helper logs nothing, only reads, and calls _exit.
// Cancelling `job` stops the helper and throws CancelledError.
void rehearseReadInHelper(const std::filesystem::path& file, const std::string& reader, const Job& job,
                          const std::function<void(const Job&)>& read);

// The usual reader: `read` rehearsed, then its result here.
template <class Read>
auto readRehearsed(const std::filesystem::path& file, const std::string& reader, const Job& job, Read&& read) {
  rehearseReadInHelper(file, reader, job, [&read](const Job& quiet) { static_cast<void>(read(quiet)); });
  return read(job);
}

// Owns one HDF5 identifier and closes it with the H5*close function matching its kind.
class Hdf5Handle {
 public:
  using Id = std::int64_t;            // hid_t (checked against <hdf5.h> in hdf5_file.cpp)
  using CloseFunction = int (*)(Id);  // H5Fclose, H5Gclose, H5Dclose, H5Sclose, H5Tclose, ...

  Hdf5Handle() = default;
  Hdf5Handle(Id id, CloseFunction close) : id_(id), close_(close) {}
  ~Hdf5Handle();
  Hdf5Handle(Hdf5Handle&& other) noexcept;
  Hdf5Handle& operator=(Hdf5Handle&& other) noexcept;
  Hdf5Handle(const Hdf5Handle&) = delete;
  Hdf5Handle& operator=(const Hdf5Handle&) = delete;

  Id id() const { return id_; }
  bool valid() const { return id_ >= 0; }
  // Closes now; false when HDF5 reported a failure (the destructor cannot report one).
  bool close();

 private:
  Id id_ = -1;
  CloseFunction close_ = nullptr;
};

// The numeric element types the wrapper reads and writes. Reads convert from whatever numeric
// type the file stores (HDF5 converts, e.g. uint8 images into float).
template <class T>
inline constexpr bool isHdf5Number =
    std::is_same_v<T, float> || std::is_same_v<T, double> || std::is_same_v<T, std::int64_t> ||
    std::is_same_v<T, std::int32_t> || std::is_same_v<T, std::uint8_t>;

// Dataset dimensions, slowest first (numpy order). Empty means a scalar.
using Hdf5Shape = std::vector<std::int64_t>;

std::string describeShape(const Hdf5Shape& shape);  // "(3, 36, 64)"
std::int64_t elementCount(const Hdf5Shape& shape);  // the product of the dimensions

struct Hdf5DatasetOptions {
  // 0: uncompressed (contiguous unless chunkShape is set). 1..9: chunked, byte-shuffled and
  // gzip-compressed at this level.
  int gzipLevel = 0;
  // Rows (first dimension) per chunk when compressed; 0 picks about 256 KiB per chunk. Writers that
  // fill a dataset block by block should use whole multiples of it so no chunk is rewritten.
  std::int64_t chunkRows = 0;
  // Chunk dimensions, one per dataset dimension (clamped to the dataset's), for datasets that are
  // written and read in tiles (a similarity matrix): chunked even when not compressed. When set,
  // chunkRows is ignored. Tile writers should align tiles to chunks so no chunk is written twice.
  Hdf5Shape chunkShape;
};

class Hdf5File {
 public:
  static Hdf5File openForReading(const std::filesystem::path& file);
  static Hdf5File openForWriting(const std::filesystem::path& file);  // existing file, read-write
  static Hdf5File create(const std::filesystem::path& file);          // truncates an existing file

  Hdf5File(Hdf5File&&) noexcept = default;
  Hdf5File& operator=(Hdf5File&&) noexcept = default;
  ~Hdf5File() = default;

  const std::filesystem::path& path() const { return path_; }
  // Flushes and closes the file, throwing when HDF5 cannot finish writing it. The destructor also
  // closes, but cannot report a failure, so writers call this before publishing the file.
  void close();

  // True when every link along `objectPath` exists and resolves to an object.
  bool exists(const std::string& objectPath) const;
  bool isGroup(const std::string& objectPath) const;
  bool isDataset(const std::string& objectPath) const;
  // Creates the group and any missing parent groups; an existing group is left as it is.
  void createGroup(const std::string& groupPath);
  // Names of the group's direct members, sorted by name.
  std::vector<std::string> members(const std::string& groupPath) const;
  // True when the last link of `objectPath` is a soft or external link (NWB links one object from
  // another this way); a walk over a file's tree follows hard links only, so it visits each object once.
  bool isLink(const std::string& objectPath) const;
  // Makes `linkPath` a soft link to `targetPath` (missing parent groups are created).
  void createSoftLink(const std::string& linkPath, const std::string& targetPath);
  Hdf5Shape shape(const std::string& datasetPath) const;

  // Numeric datasets. Missing parent groups are created. Values are row-major (C order).
  template <class T>
  void createDataset(const std::string& datasetPath, const Hdf5Shape& shape, const Hdf5DatasetOptions& options = {});
  // Writes rows [firstRow, firstRow + rowCount) of a dataset made by createDataset.
  template <class T>
  void writeRows(const std::string& datasetPath, std::int64_t firstRow, std::int64_t rowCount, const T* values);
  template <class T>
  void writeDataset(const std::string& datasetPath, const std::vector<T>& values, const Hdf5Shape& shape,
                    const Hdf5DatasetOptions& options = {});
  // Reads rows [firstRow, firstRow + rowCount) into `values` (rowCount x the other dimensions).
  template <class T>
  void readRows(const std::string& datasetPath, std::int64_t firstRow, std::int64_t rowCount, T* values) const;
  template <class T>
  std::vector<T> readDataset(const std::string& datasetPath) const;
  // Writes / reads the box [offset, offset + extent) of a dataset (one entry per dimension);
  // `values` holds the box row-major. A box outside the dataset throws FileError.
  template <class T>
  void writeBlock(const std::string& datasetPath, const Hdf5Shape& offset, const Hdf5Shape& extent, const T* values);
  template <class T>
  void readBlock(const std::string& datasetPath, const Hdf5Shape& offset, const Hdf5Shape& extent, T* values) const;

  // Writes a 1-D dataset of fixed-length, NUL-padded byte strings (numpy's `S` dtype, as h5py and
  // neuralpredictors write them). Trailing NUL bytes of a value do not survive the round trip.
  void writeStrings(const std::string& datasetPath, const std::vector<std::string>& values);
  // Reads every element of a string dataset of any shape: fixed-length (NUL-terminated, NUL- or
  // space-padded) or variable-length, ASCII or UTF-8.
  std::vector<std::string> readStrings(const std::string& datasetPath) const;

  // Object references (NWB's order_of_images, a DynamicTableRegion's `table`): the absolute paths of
  // the objects they point to. Writing takes those paths and creates a 1-D dataset or a scalar attribute.
  void writeObjectReferences(const std::string& datasetPath, const std::vector<std::string>& targets);
  std::vector<std::string> readObjectReferences(const std::string& datasetPath) const;
  void writeObjectReferenceAttribute(const std::string& objectPath, const std::string& name, const std::string& target);
  std::string readObjectReferenceAttribute(const std::string& objectPath, const std::string& name) const;

  // Attributes of a group or dataset ("/" is the root group). Writing replaces an existing one.
  // String attributes are written variable-length UTF-8 (as h5py writes str); both kinds are read.
  bool hasAttribute(const std::string& objectPath, const std::string& name) const;
  void writeStringAttribute(const std::string& objectPath, const std::string& name, const std::string& value);
  std::string readStringAttribute(const std::string& objectPath, const std::string& name) const;
  template <class T>
  void writeScalarAttribute(const std::string& objectPath, const std::string& name, T value);
  template <class T>
  T readScalarAttribute(const std::string& objectPath, const std::string& name) const;

 private:
  Hdf5File(std::filesystem::path path, Hdf5Handle file) : path_(std::move(path)), file_(std::move(file)) {}
  [[noreturn]] void fail(const std::string& problem) const;
  Hdf5Handle openObject(const std::string& objectPath) const;
  Hdf5Handle openDataset(const std::string& datasetPath) const;
  Hdf5Handle openAttribute(const std::string& objectPath, const std::string& name) const;
  // A box of a dataset; dimensions beyond those given are taken whole (a range of rows gives one).
  struct Box {
    Hdf5Shape offset;
    Hdf5Shape extent;
  };
  // Transfers the given box, or the whole dataset when `box` is empty.
  void writeNumbers(const std::string& datasetPath, Hdf5Handle::Id memoryType, const std::optional<Box>& box,
                    const void* values);
  void readNumbers(const std::string& datasetPath, Hdf5Handle::Id memoryType, const std::optional<Box>& box,
                   void* values) const;
  // The path an object reference points to; `what` names the reference in errors.
  std::string referencedPath(const void* reference, const std::string& what) const;
  // Every element of a string dataset or attribute; `what` names it in errors.
  std::vector<std::string> readStringElements(Hdf5Handle::Id object, bool isAttribute, const std::string& what) const;
  // Refuses (FileError) to read a dataset whose declared size exceeds this machine's memory, or
  // that declares far more than the file stores: a tiny file must not make the app allocate gigabytes.
  void requirePlausibleSize(Hdf5Handle::Id dataset, const std::string& what, std::int64_t elements,
                            std::size_t elementBytes) const;

  std::filesystem::path path_;
  Hdf5Handle file_;
};

}  // namespace bp
