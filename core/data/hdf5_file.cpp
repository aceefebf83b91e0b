#include "data/hdf5_file.h"

#include <hdf5.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <limits>
#include <new>
#include <set>
#include <thread>
#include <tuple>

#include "runtime/atomic_file.h"
#include "runtime/error.h"
#include "runtime/job.h"
#include "runtime/log.h"

namespace bp {

static_assert(std::is_same_v<hid_t, Hdf5Handle::Id>, "Hdf5Handle::Id must be hid_t");
static_assert(std::is_same_v<herr_t, int>, "Hdf5Handle::CloseFunction must match H5*close");

std::recursive_mutex& hdf5Mutex() {
  static std::recursive_mutex mutex;
  return mutex;
}

namespace {

// Holds the library mutex. The first one also stops HDF5 printing its error stack to stderr on
// every failed call (expected failures are normal here, and real ones become FileErrors), and,
// before HDF5 initialises, its clean-up at exit: after a write that failed on a full disk, HDF5
// keeps the file it could not close and its exit handler crashes closing it again (HDF5 1.10).
// Every file is closed by its handle anyway; the one HDF5 could not close is the abandoned
// temporary file, which the failed write already removed.
class Hdf5Lock {
 public:
  Hdf5Lock() : guard_(hdf5Mutex()) {
    static const bool configured = (H5dont_atexit() >= 0) & (H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr) >= 0);
    static_cast<void>(configured);
  }

 private:
  std::lock_guard<std::recursive_mutex> guard_;
};

herr_t keepInnermostError(unsigned depth, const H5E_error2_t* error, void* innermost) {
  if (depth == 0 && error->desc) *static_cast<std::string*>(innermost) = error->desc;
  return 0;
}

// HDF5's own reason for the last failure (the innermost entry of its error stack, e.g.
// "truncated file: eof = ..."), clearing the stack.
std::string takeHdf5Reason() {
  std::string reason;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, keepInnermostError, &reason);
  H5Eclear2(H5E_DEFAULT);
  return reason;
}

// Beyond this, a dataset must be backed by stored data before it is read whole: a tiny file can
// declare a dataset of 10^9 elements and never write it.
constexpr std::uint64_t kUnbackedReadLimitBytes = std::uint64_t{64} << 20;
// Gzip at its best keeps about 1 byte of 1000 of a constant array: a dataset that stores less than
// that of what it declares was never written (or was damaged).
constexpr std::uint64_t kLargestCompressionRatio = 1000;

std::string megabytes(std::uint64_t bytes) { return std::to_string(bytes >> 20) + " MB"; }

template <class T>
hid_t memoryTypeOf() {
  if constexpr (std::is_same_v<T, float>)
    return H5T_NATIVE_FLOAT;
  else if constexpr (std::is_same_v<T, double>)
    return H5T_NATIVE_DOUBLE;
  else if constexpr (std::is_same_v<T, std::int64_t>)
    return H5T_NATIVE_INT64;
  else if constexpr (std::is_same_v<T, std::int32_t>)
    return H5T_NATIVE_INT32;
  else
    return H5T_NATIVE_UINT8;
}

// Explicit little-endian storage types, so a file is the same whichever machine wrote it.
template <class T>
hid_t fileTypeOf() {
  if constexpr (std::is_same_v<T, float>)
    return H5T_IEEE_F32LE;
  else if constexpr (std::is_same_v<T, double>)
    return H5T_IEEE_F64LE;
  else if constexpr (std::is_same_v<T, std::int64_t>)
    return H5T_STD_I64LE;
  else if constexpr (std::is_same_v<T, std::int32_t>)
    return H5T_STD_I32LE;
  else
    return H5T_STD_U8LE;
}

std::string normalizedObjectPath(const std::string& objectPath) {
  return objectPath.empty() ? "/" : objectPath;
}

bool isAscii(const std::string& text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

std::string typeClassName(H5T_class_t typeClass) {
  switch (typeClass) {
    case H5T_INTEGER:
      return "integer";
    case H5T_FLOAT:
      return "floating-point";
    case H5T_STRING:
      return "string";
    case H5T_COMPOUND:
      return "compound";
    case H5T_ENUM:
      return "enum";
    case H5T_ARRAY:
      return "array";
    case H5T_VLEN:
      return "variable-length";
    case H5T_REFERENCE:
      return "reference";
    case H5T_OPAQUE:
      return "opaque";
    case H5T_BITFIELD:
      return "bitfield";
    case H5T_TIME:
      return "time";
    default:
      return "unknown";
  }
}

herr_t appendLinkName(hid_t /*group*/, const char* name, const H5L_info_t* /*info*/, void* names) {
  try {
    static_cast<std::vector<std::string>*>(names)->emplace_back(name);
    return 0;
  } catch (const std::bad_alloc&) {
    return -1;  // stops the iteration; reported as a failed H5Literate
  }
}

}  // namespace

std::string describeShape(const Hdf5Shape& shape) {
  std::string text = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + (shape.size() == 1 ? ",)" : ")");
}

std::int64_t elementCount(const Hdf5Shape& shape) {
  std::int64_t count = 1;
  for (const auto dimension : shape) count *= dimension;
  return count;
}

// ---- Hdf5Handle ----

Hdf5Handle::~Hdf5Handle() {
  close();
}

Hdf5Handle::Hdf5Handle(Hdf5Handle&& other) noexcept : id_(other.id_), close_(other.close_) {
  other.id_ = -1;
}

Hdf5Handle& Hdf5Handle::operator=(Hdf5Handle&& other) noexcept {
  if (this != &other) {
    close();
    id_ = other.id_;
    close_ = other.close_;
    other.id_ = -1;
  }
  return *this;
}

bool Hdf5Handle::close() {
  if (id_ < 0 || !close_) return true;
  const Hdf5Lock lock;
  const bool closed = close_(id_) >= 0;
  id_ = -1;
  return closed;
}

// ---- Hdf5File: files ----

namespace {

Hdf5Handle fileAccessProperties() {
  Hdf5Handle properties(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  // Closing the file closes every object still open in it, so a closed file is really closed
  // (and can be renamed or removed) even if a handle leaked.
  if (properties.valid()) H5Pset_fclose_degree(properties.id(), H5F_CLOSE_STRONG);
  return properties;
}

Hdf5Handle openExisting(const std::filesystem::path& file, unsigned flags) {
  requireRegularFile(file);
  const auto properties = fileAccessProperties();
  Hdf5Handle handle(H5Fopen(file.c_str(), flags, properties.id()), H5Fclose);
  if (!handle.valid()) {
    const auto reason = takeHdf5Reason();
    throw FileError(file.string(), "cannot open as an HDF5 file" + (reason.empty() ? "" : " (" + reason + ")"));
  }
  return handle;
}

}  // namespace

Hdf5File Hdf5File::openForReading(const std::filesystem::path& file) {
  const Hdf5Lock lock;
  return Hdf5File(file, openExisting(file, H5F_ACC_RDONLY));
}

Hdf5File Hdf5File::openForWriting(const std::filesystem::path& file) {
  const Hdf5Lock lock;
  return Hdf5File(file, openExisting(file, H5F_ACC_RDWR));
}

Hdf5File Hdf5File::create(const std::filesystem::path& file) {
  const Hdf5Lock lock;
  const auto properties = fileAccessProperties();
  Hdf5Handle handle(H5Fcreate(file.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, properties.id()), H5Fclose);
  if (!handle.valid()) {
    const auto reason = takeHdf5Reason();
    throw FileError(file.string(), "cannot create HDF5 file" + (reason.empty() ? "" : " (" + reason + ")"));
  }
  return Hdf5File(file, std::move(handle));
}

void Hdf5File::close() {
  const Hdf5Lock lock;
  if (!file_.close()) fail("cannot finish writing the file");
}

void Hdf5File::fail(const std::string& problem) const {
  const auto reason = takeHdf5Reason();
  throw FileError(path_.string(), problem + (reason.empty() ? "" : " (" + reason + ")"));
}

// ---- Hdf5File: groups and objects ----

bool Hdf5File::exists(const std::string& objectPath) const {
  const Hdf5Lock lock;
  const auto path = normalizedObjectPath(objectPath);
  if (path == "/") return true;
  // H5Lexists fails (rather than answering false) when a parent is missing: test each prefix.
  for (auto slash = path.find('/', 1); slash != std::string::npos; slash = path.find('/', slash + 1)) {
    if (H5Lexists(file_.id(), path.substr(0, slash).c_str(), H5P_DEFAULT) <= 0) {
      H5Eclear2(H5E_DEFAULT);
      return false;
    }
  }
  const bool linked = H5Lexists(file_.id(), path.c_str(), H5P_DEFAULT) > 0;
  const bool resolves = linked && H5Oexists_by_name(file_.id(), path.c_str(), H5P_DEFAULT) > 0;
  H5Eclear2(H5E_DEFAULT);
  return resolves;
}

Hdf5Handle Hdf5File::openObject(const std::string& objectPath) const {
  const auto path = normalizedObjectPath(objectPath);
  Hdf5Handle object(H5Oopen(file_.id(), path.c_str(), H5P_DEFAULT), H5Oclose);
  if (!object.valid()) fail("cannot open '" + path + "'");
  return object;
}

bool Hdf5File::isGroup(const std::string& objectPath) const {
  const Hdf5Lock lock;
  return exists(objectPath) && H5Iget_type(openObject(objectPath).id()) == H5I_GROUP;
}

bool Hdf5File::isDataset(const std::string& objectPath) const {
  const Hdf5Lock lock;
  return exists(objectPath) && H5Iget_type(openObject(objectPath).id()) == H5I_DATASET;
}

void Hdf5File::createGroup(const std::string& groupPath) {
  const Hdf5Lock lock;
  if (exists(groupPath)) {
    if (!isGroup(groupPath)) fail("'" + groupPath + "' exists and is not a group");
    return;
  }
  Hdf5Handle linkProperties(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
  if (!linkProperties.valid() || H5Pset_create_intermediate_group(linkProperties.id(), 1) < 0)
    fail("cannot prepare group creation");
  Hdf5Handle group(H5Gcreate2(file_.id(), groupPath.c_str(), linkProperties.id(), H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
  if (!group.valid()) fail("cannot create group '" + groupPath + "'");
}

std::vector<std::string> Hdf5File::members(const std::string& groupPath) const {
  const Hdf5Lock lock;
  const auto path = normalizedObjectPath(groupPath);
  Hdf5Handle group(H5Gopen2(file_.id(), path.c_str(), H5P_DEFAULT), H5Gclose);
  if (!group.valid()) fail("cannot open group '" + path + "'");
  std::vector<std::string> names;
  hsize_t position = 0;
  if (H5Literate(group.id(), H5_INDEX_NAME, H5_ITER_INC, &position, appendLinkName, &names) < 0)
    fail("cannot list group '" + path + "'");
  return names;
}

bool Hdf5File::isLink(const std::string& objectPath) const {
  const Hdf5Lock lock;
  const auto path = normalizedObjectPath(objectPath);
  if (path == "/") return false;
  H5L_info_t info;
  if (H5Lget_info(file_.id(), path.c_str(), &info, H5P_DEFAULT) < 0) fail("cannot look up link '" + path + "'");
  return info.type != H5L_TYPE_HARD;
}

void Hdf5File::createSoftLink(const std::string& linkPath, const std::string& targetPath) {
  const Hdf5Lock lock;
  Hdf5Handle linkProperties(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
  if (!linkProperties.valid() || H5Pset_create_intermediate_group(linkProperties.id(), 1) < 0)
    fail("cannot prepare link creation");
  const auto target = normalizedObjectPath(targetPath);
  const auto path = normalizedObjectPath(linkPath);
  if (H5Lcreate_soft(target.c_str(), file_.id(), path.c_str(), linkProperties.id(), H5P_DEFAULT) < 0)
    fail("cannot link '" + path + "' to '" + target + "'");
}

// ---- Hdf5File: object references ----

namespace {

// Attributes are written by replacing: HDF5 cannot create one that exists.
void removeAttributeIfPresent(hid_t file, const std::string& path, const std::string& name) {
  if (H5Aexists_by_name(file, path.c_str(), name.c_str(), H5P_DEFAULT) > 0)
    H5Adelete_by_name(file, path.c_str(), name.c_str(), H5P_DEFAULT);
}

}  // namespace


std::string Hdf5File::referencedPath(const void* reference, const std::string& what) const {
  const auto length = H5Rget_name(file_.id(), H5R_OBJECT, reference, nullptr, 0);
  if (length <= 0) fail(what + " points to no object");
  std::string name(static_cast<std::size_t>(length) + 1, '\0');
  if (H5Rget_name(file_.id(), H5R_OBJECT, reference, name.data(), name.size()) < 0)
    fail("cannot resolve " + what);
  name.resize(static_cast<std::size_t>(length));
  return name;
}

void Hdf5File::writeObjectReferences(const std::string& datasetPath, const std::vector<std::string>& targets) {
  const Hdf5Lock lock;
  std::vector<hobj_ref_t> references(targets.size());
  for (std::size_t i = 0; i < targets.size(); ++i)
    if (H5Rcreate(&references[i], file_.id(), normalizedObjectPath(targets[i]).c_str(), H5R_OBJECT, -1) < 0)
      fail("cannot make a reference to '" + targets[i] + "'");
  const hsize_t length = targets.size();
  const Hdf5Handle space(H5Screate_simple(1, &length, nullptr), H5Sclose);
  Hdf5Handle linkProperties(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
  if (!space.valid() || !linkProperties.valid() || H5Pset_create_intermediate_group(linkProperties.id(), 1) < 0)
    fail("cannot prepare dataset '" + datasetPath + "'");
  const Hdf5Handle dataset(H5Dcreate2(file_.id(), datasetPath.c_str(), H5T_STD_REF_OBJ, space.id(),
                                     linkProperties.id(), H5P_DEFAULT, H5P_DEFAULT),
                           H5Dclose);
  if (!dataset.valid()) fail("cannot create dataset '" + datasetPath + "'");
  if (!references.empty() &&
      H5Dwrite(dataset.id(), H5T_STD_REF_OBJ, H5S_ALL, H5S_ALL, H5P_DEFAULT, references.data()) < 0)
    fail("cannot write dataset '" + datasetPath + "'");
}

std::vector<std::string> Hdf5File::readObjectReferences(const std::string& datasetPath) const {
  const Hdf5Lock lock;
  const std::string what = "dataset '" + datasetPath + "'";
  const auto dataset = openDataset(datasetPath);
  const Hdf5Handle storedType(H5Dget_type(dataset.id()), H5Tclose);
  if (!storedType.valid() || H5Tequal(storedType.id(), H5T_STD_REF_OBJ) <= 0)
    fail(what + " does not hold object references");
  const auto count = elementCount(shape(datasetPath));
  requirePlausibleSize(dataset.id(), what, count, sizeof(hobj_ref_t));
  std::vector<hobj_ref_t> references(static_cast<std::size_t>(count));
  if (count > 0 && H5Dread(dataset.id(), H5T_STD_REF_OBJ, H5S_ALL, H5S_ALL, H5P_DEFAULT, references.data()) < 0)
    fail("cannot read " + what);
  std::vector<std::string> paths;
  paths.reserve(references.size());
  for (std::size_t i = 0; i < references.size(); ++i)
    paths.push_back(referencedPath(&references[i], "reference " + std::to_string(i) + " of " + what));
  return paths;
}

void Hdf5File::writeObjectReferenceAttribute(const std::string& objectPath, const std::string& name,
                                             const std::string& target) {
  const Hdf5Lock lock;
  const auto path = normalizedObjectPath(objectPath);
  const std::string what = "attribute '" + name + "' of '" + path + "'";
  removeAttributeIfPresent(file_.id(), path, name);
  hobj_ref_t reference;
  if (H5Rcreate(&reference, file_.id(), normalizedObjectPath(target).c_str(), H5R_OBJECT, -1) < 0)
    fail("cannot make a reference to '" + target + "'");
  const Hdf5Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  if (!space.valid()) fail(what + ": cannot prepare its creation");
  const Hdf5Handle attribute(H5Acreate_by_name(file_.id(), path.c_str(), name.c_str(), H5T_STD_REF_OBJ, space.id(),
                                               H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                             H5Aclose);
  if (!attribute.valid()) fail("cannot create " + what);
  if (H5Awrite(attribute.id(), H5T_STD_REF_OBJ, &reference) < 0) fail("cannot write " + what);
}

std::string Hdf5File::readObjectReferenceAttribute(const std::string& objectPath, const std::string& name) const {
  const Hdf5Lock lock;
  const auto path = normalizedObjectPath(objectPath);
  const std::string what = "attribute '" + name + "' of '" + path + "'";
  const auto attribute = openAttribute(path, name);
  const Hdf5Handle storedType(H5Aget_type(attribute.id()), H5Tclose);
  const Hdf5Handle space(H5Aget_space(attribute.id()), H5Sclose);
  if (!storedType.valid() || !space.valid() || H5Tequal(storedType.id(), H5T_STD_REF_OBJ) <= 0 ||
      H5Sget_simple_extent_npoints(space.id()) != 1)
    fail(what + " is not one object reference");
  hobj_ref_t reference;
  if (H5Aread(attribute.id(), H5T_STD_REF_OBJ, &reference) < 0) fail("cannot read " + what);
  return referencedPath(&reference, what);
}

// ---- Hdf5File: numeric datasets ----

Hdf5Handle Hdf5File::openDataset(const std::string& datasetPath) const {
  Hdf5Handle dataset(H5Dopen2(file_.id(), datasetPath.c_str(), H5P_DEFAULT), H5Dclose);
  if (!dataset.valid()) fail("cannot open dataset '" + datasetPath + "'");
  return dataset;
}

Hdf5Shape Hdf5File::shape(const std::string& datasetPath) const {
  const Hdf5Lock lock;
  const auto dataset = openDataset(datasetPath);
  const Hdf5Handle space(H5Dget_space(dataset.id()), H5Sclose);
  const int rank = space.valid() ? H5Sget_simple_extent_ndims(space.id()) : -1;
  if (rank < 0) fail("cannot read the shape of '" + datasetPath + "'");
  std::vector<hsize_t> dimensions(static_cast<std::size_t>(rank));
  if (H5Sget_simple_extent_dims(space.id(), dimensions.data(), nullptr) < 0)
    fail("cannot read the shape of '" + datasetPath + "'");
  return Hdf5Shape(dimensions.begin(), dimensions.end());
}

template <class T>
void Hdf5File::createDataset(const std::string& datasetPath, const Hdf5Shape& shape,
                             const Hdf5DatasetOptions& options) {
  static_assert(isHdf5Number<T>, "unsupported HDF5 element type");
  const Hdf5Lock lock;
  if (options.gzipLevel < 0 || options.gzipLevel > 9)
    fail("dataset '" + datasetPath + "': gzip level " + std::to_string(options.gzipLevel) + " is not in 0..9");
  if (std::any_of(shape.begin(), shape.end(), [](std::int64_t d) { return d < 0; }))
    fail("dataset '" + datasetPath + "': negative dimension in shape " + describeShape(shape));
  const std::vector<hsize_t> dimensions(shape.begin(), shape.end());
  const int rank = static_cast<int>(dimensions.size());
  const Hdf5Handle space(rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(rank, dimensions.data(), nullptr),
                         H5Sclose);
  const Hdf5Handle creation(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  const Hdf5Handle linkProperties(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
  if (!space.valid() || !creation.valid() || !linkProperties.valid() ||
      H5Pset_create_intermediate_group(linkProperties.id(), 1) < 0)
    fail("dataset '" + datasetPath + "': cannot prepare its creation");

  if (!options.chunkShape.empty() && options.chunkShape.size() != shape.size())
    fail("dataset '" + datasetPath + "': chunk shape " + describeShape(options.chunkShape) + " does not match shape " +
         describeShape(shape));
  // Chunks need non-zero dimensions; an empty dataset stays contiguous (there is nothing to compress).
  const bool compress = options.gzipLevel > 0 && rank > 0 && elementCount(shape) > 0;
  const bool chunked = (compress || !options.chunkShape.empty()) && rank > 0 && elementCount(shape) > 0;
  if (chunked) {
    std::vector<hsize_t> chunk = dimensions;
    if (!options.chunkShape.empty()) {
      for (std::size_t d = 0; d < chunk.size(); ++d)
        chunk[d] = static_cast<hsize_t>(std::clamp<std::int64_t>(options.chunkShape[d], 1, shape[d]));
    } else {
      const std::int64_t rowBytes =
          static_cast<std::int64_t>(sizeof(T)) * elementCount(Hdf5Shape(shape.begin() + 1, shape.end()));
      constexpr std::int64_t targetChunkBytes = 256 * 1024;  // fits HDF5's default 1 MiB chunk cache
      const std::int64_t chunkRows =
          options.chunkRows > 0 ? options.chunkRows : std::max<std::int64_t>(1, targetChunkBytes / rowBytes);
      chunk[0] = static_cast<hsize_t>(std::min(chunkRows, shape[0]));
    }
    if (H5Pset_chunk(creation.id(), rank, chunk.data()) < 0)
      fail("dataset '" + datasetPath + "': cannot set up chunks");
  }
  if (compress && (H5Pset_shuffle(creation.id()) < 0 ||
                   H5Pset_deflate(creation.id(), static_cast<unsigned>(options.gzipLevel)) < 0))
    fail("dataset '" + datasetPath + "': cannot set up compression");
  const Hdf5Handle dataset(H5Dcreate2(file_.id(), datasetPath.c_str(), fileTypeOf<T>(), space.id(), linkProperties.id(),
                                      creation.id(), H5P_DEFAULT),
                           H5Dclose);
  if (!dataset.valid()) fail("cannot create dataset '" + datasetPath + "'");
}

namespace {

// Selects `box` of `fileSpace` (dimensions beyond those given taken whole) and returns the
// matching memory space. Returns an invalid handle when the box is outside the dataset.
Hdf5Handle selectBox(hid_t fileSpace, const Hdf5Shape& offset, const Hdf5Shape& extent) {
  const int rank = H5Sget_simple_extent_ndims(fileSpace);
  if (rank < 1 || offset.size() != extent.size() || offset.size() > static_cast<std::size_t>(rank)) return {};
  std::vector<hsize_t> dimensions(static_cast<std::size_t>(rank));
  H5Sget_simple_extent_dims(fileSpace, dimensions.data(), nullptr);
  std::vector<hsize_t> start(dimensions.size(), 0);
  std::vector<hsize_t> count = dimensions;
  for (std::size_t d = 0; d < offset.size(); ++d) {
    if (offset[d] < 0 || extent[d] < 0 || static_cast<hsize_t>(offset[d] + extent[d]) > dimensions[d]) return {};
    start[d] = static_cast<hsize_t>(offset[d]);
    count[d] = static_cast<hsize_t>(extent[d]);
  }
  if (H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr) < 0) return {};
  return Hdf5Handle(H5Screate_simple(rank, count.data(), nullptr), H5Sclose);
}

// "rows 5+3" for a range of rows, "block at (0, 256) of size (256, 256)" for a box.
std::string describeBox(const Hdf5Shape& offset, const Hdf5Shape& extent) {
  if (offset.size() == 1 && extent.size() == 1)
    return "rows " + std::to_string(offset[0]) + "+" + std::to_string(extent[0]);
  return "block at " + describeShape(offset) + " of size " + describeShape(extent);
}

}  // namespace

void Hdf5File::writeNumbers(const std::string& datasetPath, hid_t memoryType, const std::optional<Box>& box,
                            const void* values) {
  const Hdf5Lock lock;
  const auto dataset = openDataset(datasetPath);
  const Hdf5Handle fileSpace(H5Dget_space(dataset.id()), H5Sclose);
  if (!fileSpace.valid()) fail("dataset '" + datasetPath + "': cannot read its shape");
  if (!box) {
    if (H5Sget_simple_extent_npoints(fileSpace.id()) > 0 &&
        H5Dwrite(dataset.id(), memoryType, H5S_ALL, H5S_ALL, H5P_DEFAULT, values) < 0)
      fail("cannot write dataset '" + datasetPath + "'");
    return;
  }
  if (elementCount(box->extent) == 0) return;
  const auto memorySpace = selectBox(fileSpace.id(), box->offset, box->extent);
  if (!memorySpace.valid())
    fail("dataset '" + datasetPath + "': " + describeBox(box->offset, box->extent) + " " +
         (box->offset.size() == 1 ? "are" : "is") + " outside its shape");
  if (H5Dwrite(dataset.id(), memoryType, memorySpace.id(), fileSpace.id(), H5P_DEFAULT, values) < 0)
    fail("cannot write dataset '" + datasetPath + "'");
}

void Hdf5File::readNumbers(const std::string& datasetPath, hid_t memoryType, const std::optional<Box>& box,
                           void* values) const {
  const Hdf5Lock lock;
  const auto dataset = openDataset(datasetPath);
  const Hdf5Handle storedType(H5Dget_type(dataset.id()), H5Tclose);
  const Hdf5Handle fileSpace(H5Dget_space(dataset.id()), H5Sclose);
  if (!storedType.valid() || !fileSpace.valid()) fail("dataset '" + datasetPath + "': cannot read its type and shape");
  const auto typeClass = H5Tget_class(storedType.id());
  if (typeClass != H5T_INTEGER && typeClass != H5T_FLOAT)
    fail("dataset '" + datasetPath + "' holds " + typeClassName(typeClass) + " values, expected numbers");
  if (!box) {
    if (H5Sget_simple_extent_npoints(fileSpace.id()) > 0 &&
        H5Dread(dataset.id(), memoryType, H5S_ALL, H5S_ALL, H5P_DEFAULT, values) < 0)
      fail("cannot read dataset '" + datasetPath + "'");
    return;
  }
  if (elementCount(box->extent) == 0) return;
  const auto memorySpace = selectBox(fileSpace.id(), box->offset, box->extent);
  if (!memorySpace.valid())
    fail("dataset '" + datasetPath + "': " + describeBox(box->offset, box->extent) + " " +
         (box->offset.size() == 1 ? "are" : "is") + " outside its shape");
  if (H5Dread(dataset.id(), memoryType, memorySpace.id(), fileSpace.id(), H5P_DEFAULT, values) < 0)
    fail("cannot read dataset '" + datasetPath + "'");
}

template <class T>
void Hdf5File::writeRows(const std::string& datasetPath, std::int64_t firstRow, std::int64_t rowCount,
                         const T* values) {
  static_assert(isHdf5Number<T>, "unsupported HDF5 element type");
  writeNumbers(datasetPath, memoryTypeOf<T>(), Box{{firstRow}, {rowCount}}, values);
}

template <class T>
void Hdf5File::writeDataset(const std::string& datasetPath, const std::vector<T>& values, const Hdf5Shape& shape,
                            const Hdf5DatasetOptions& options) {
  static_assert(isHdf5Number<T>, "unsupported HDF5 element type");
  const Hdf5Lock lock;
  if (static_cast<std::int64_t>(values.size()) != elementCount(shape))
    fail("dataset '" + datasetPath + "': " + std::to_string(values.size()) + " values do not fill shape " +
         describeShape(shape));
  createDataset<T>(datasetPath, shape, options);
  writeNumbers(datasetPath, memoryTypeOf<T>(), std::nullopt, values.data());
}

template <class T>
void Hdf5File::readRows(const std::string& datasetPath, std::int64_t firstRow, std::int64_t rowCount, T* values) const {
  static_assert(isHdf5Number<T>, "unsupported HDF5 element type");
  readNumbers(datasetPath, memoryTypeOf<T>(), Box{{firstRow}, {rowCount}}, values);
}

void Hdf5File::requirePlausibleSize(Hdf5Handle::Id dataset, const std::string& what, std::int64_t elements,
                                    std::size_t elementBytes) const {
  const auto declared = static_cast<std::uint64_t>(elements) * elementBytes;
  const auto memory = static_cast<std::uint64_t>(::sysconf(_SC_PHYS_PAGES)) * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  if (memory > 0 && declared > memory)
    fail(what + " declares " + std::to_string(elements) + " elements (" + megabytes(declared) +
         "), more than this machine's memory (" + megabytes(memory) + ")");
  if (declared <= kUnbackedReadLimitBytes) return;
  const std::uint64_t stored = H5Dget_storage_size(dataset);
  if (stored * kLargestCompressionRatio < declared)
    fail(what + " declares " + std::to_string(elements) + " elements (" + megabytes(declared) + ") but the file stores " +
         std::to_string(stored) + " bytes of it (never written, or damaged)");
}

template <class T>
std::vector<T> Hdf5File::readDataset(const std::string& datasetPath) const {
  static_assert(isHdf5Number<T>, "unsupported HDF5 element type");
  const Hdf5Lock lock;
  const std::int64_t count = elementCount(shape(datasetPath));
  requirePlausibleSize(openDataset(datasetPath).id(), "dataset '" + datasetPath + "'", count, sizeof(T));
  std::vector<T> values(static_cast<std::size_t>(count));
  readNumbers(datasetPath, memoryTypeOf<T>(), std::nullopt, values.data());
  return values;
}

template <class T>
void Hdf5File::writeBlock(const std::string& datasetPath, const Hdf5Shape& offset, const Hdf5Shape& extent,
                          const T* values) {
  static_assert(isHdf5Number<T>, "unsupported HDF5 element type");
  writeNumbers(datasetPath, memoryTypeOf<T>(), Box{offset, extent}, values);
}

template <class T>
void Hdf5File::readBlock(const std::string& datasetPath, const Hdf5Shape& offset, const Hdf5Shape& extent,
                         T* values) const {
  static_assert(isHdf5Number<T>, "unsupported HDF5 element type");
  readNumbers(datasetPath, memoryTypeOf<T>(), Box{offset, extent}, values);
}

// ---- Hdf5File: strings ----

namespace {

// A fixed-length string type of `size` bytes (at least one: HDF5 rejects zero-length strings).
Hdf5Handle fixedStringType(std::size_t size, bool utf8) {
  Hdf5Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  if (!type.valid() || H5Tset_size(type.id(), std::max<std::size_t>(1, size)) < 0 ||
      H5Tset_strpad(type.id(), H5T_STR_NULLPAD) < 0 ||
      H5Tset_cset(type.id(), utf8 ? H5T_CSET_UTF8 : H5T_CSET_ASCII) < 0)
    return {};
  return type;
}

std::string unpaddedString(const char* bytes, std::size_t size, H5T_str_t padding) {
  std::string value(bytes, size);
  switch (padding) {
    case H5T_STR_NULLTERM:
      value.resize(std::min(value.size(), value.find('\0')));
      break;
    case H5T_STR_SPACEPAD:
      value.erase(value.find_last_not_of(' ') + 1);
      break;
    default:
      value.erase(value.find_last_not_of('\0') + 1);
      break;  // H5T_STR_NULLPAD (numpy's `S`)
  }
  return value;
}

}  // namespace

void Hdf5File::writeStrings(const std::string& datasetPath, const std::vector<std::string>& values) {
  const Hdf5Lock lock;
  std::size_t width = 1;
  bool ascii = true;
  for (const auto& value : values) {
    width = std::max(width, value.size());
    ascii = ascii && isAscii(value);
  }
  const auto type = fixedStringType(width, !ascii);
  const hsize_t count = values.size();
  const Hdf5Handle space(H5Screate_simple(1, &count, nullptr), H5Sclose);
  const Hdf5Handle linkProperties(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
  if (!type.valid() || !space.valid() || !linkProperties.valid() ||
      H5Pset_create_intermediate_group(linkProperties.id(), 1) < 0)
    fail("dataset '" + datasetPath + "': cannot prepare its creation");
  const Hdf5Handle dataset(
      H5Dcreate2(file_.id(), datasetPath.c_str(), type.id(), space.id(), linkProperties.id(), H5P_DEFAULT, H5P_DEFAULT),
      H5Dclose);
  if (!dataset.valid()) fail("cannot create dataset '" + datasetPath + "'");
  if (values.empty()) return;
  std::vector<char> buffer(values.size() * width, '\0');
  for (std::size_t i = 0; i < values.size(); ++i)
    std::memcpy(buffer.data() + i * width, values[i].data(), values[i].size());
  if (H5Dwrite(dataset.id(), type.id(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.data()) < 0)
    fail("cannot write dataset '" + datasetPath + "'");
}

std::vector<std::string> Hdf5File::readStringElements(hid_t object, bool isAttribute, const std::string& what) const {
  const Hdf5Handle storedType(isAttribute ? H5Aget_type(object) : H5Dget_type(object), H5Tclose);
  const Hdf5Handle space(isAttribute ? H5Aget_space(object) : H5Dget_space(object), H5Sclose);
  if (!storedType.valid() || !space.valid()) fail(what + ": cannot read its type and shape");
  const auto typeClass = H5Tget_class(storedType.id());
  if (typeClass != H5T_STRING) fail(what + " holds " + typeClassName(typeClass) + " values, expected strings");
  const auto storedCount = H5Sget_simple_extent_npoints(space.id());
  if (storedCount < 0) fail(what + ": cannot read its shape");
  const auto count = static_cast<std::size_t>(storedCount);
  std::vector<std::string> values;
  if (count == 0) return values;
  if (!isAttribute) requirePlausibleSize(object, what, storedCount, std::max<std::size_t>(H5Tget_size(storedType.id()), 8));
  const auto read = [&](hid_t memoryType, void* buffer) {
    return isAttribute ? H5Aread(object, memoryType, buffer)
                       : H5Dread(object, memoryType, H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer);
  };
  values.reserve(count);

  if (H5Tis_variable_str(storedType.id()) > 0) {
    // HDF5 does not convert between character sets: read with the stored one.
    const Hdf5Handle memoryType(H5Tcopy(H5T_C_S1), H5Tclose);
    if (!memoryType.valid() || H5Tset_size(memoryType.id(), H5T_VARIABLE) < 0 ||
        H5Tset_cset(memoryType.id(), H5Tget_cset(storedType.id())) < 0)
      fail(what + ": cannot prepare a string type");
    std::vector<char*> pointers(count, nullptr);
    if (read(memoryType.id(), pointers.data()) < 0) fail("cannot read " + what);
    for (const char* pointer : pointers) values.emplace_back(pointer ? pointer : "");
    H5Dvlen_reclaim(memoryType.id(), space.id(), H5P_DEFAULT, pointers.data());
    return values;
  }

  const std::size_t width = H5Tget_size(storedType.id());
  if (width == 0) fail(what + ": cannot read its string length");
  std::vector<char> buffer(count * width);
  if (read(storedType.id(), buffer.data()) < 0) fail("cannot read " + what);
  const auto padding = H5Tget_strpad(storedType.id());
  for (std::size_t i = 0; i < count; ++i) values.push_back(unpaddedString(buffer.data() + i * width, width, padding));
  return values;
}

std::vector<std::string> Hdf5File::readStrings(const std::string& datasetPath) const {
  const Hdf5Lock lock;
  const auto dataset = openDataset(datasetPath);
  return readStringElements(dataset.id(), false, "dataset '" + datasetPath + "'");
}

// ---- Hdf5File: attributes ----

Hdf5Handle Hdf5File::openAttribute(const std::string& objectPath, const std::string& name) const {
  const auto path = normalizedObjectPath(objectPath);
  Hdf5Handle attribute(H5Aopen_by_name(file_.id(), path.c_str(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  if (!attribute.valid()) fail("cannot open attribute '" + name + "' of '" + path + "'");
  return attribute;
}

bool Hdf5File::hasAttribute(const std::string& objectPath, const std::string& name) const {
  const Hdf5Lock lock;
  const auto path = normalizedObjectPath(objectPath);
  if (!exists(path)) return false;
  const auto found = H5Aexists_by_name(file_.id(), path.c_str(), name.c_str(), H5P_DEFAULT);
  if (found < 0) fail("cannot look for attribute '" + name + "' of '" + path + "'");
  return found > 0;
}

void Hdf5File::writeStringAttribute(const std::string& objectPath, const std::string& name, const std::string& value) {
  const Hdf5Lock lock;
  const auto path = normalizedObjectPath(objectPath);
  const std::string what = "attribute '" + name + "' of '" + path + "'";
  removeAttributeIfPresent(file_.id(), path, name);
  // A variable-length UTF-8 string, as h5py stores a Python str attribute (and gives one back).
  const Hdf5Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  const Hdf5Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  if (!type.valid() || !space.valid() || H5Tset_size(type.id(), H5T_VARIABLE) < 0 ||
      H5Tset_cset(type.id(), H5T_CSET_UTF8) < 0)
    fail(what + ": cannot prepare its creation");
  const Hdf5Handle attribute(H5Acreate_by_name(file_.id(), path.c_str(), name.c_str(), type.id(), space.id(),
                                               H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                             H5Aclose);
  if (!attribute.valid()) fail("cannot create " + what);
  const char* text = value.c_str();
  if (H5Awrite(attribute.id(), type.id(), &text) < 0) fail("cannot write " + what);
}

std::string Hdf5File::readStringAttribute(const std::string& objectPath, const std::string& name) const {
  const Hdf5Lock lock;
  const auto path = normalizedObjectPath(objectPath);
  const std::string what = "attribute '" + name + "' of '" + path + "'";
  const auto attribute = openAttribute(path, name);
  const auto values = readStringElements(attribute.id(), true, what);
  if (values.size() != 1) fail(what + " holds " + std::to_string(values.size()) + " strings, expected one");
  return values.front();
}

template <class T>
void Hdf5File::writeScalarAttribute(const std::string& objectPath, const std::string& name, T value) {
  static_assert(isHdf5Number<T>, "unsupported HDF5 element type");
  const Hdf5Lock lock;
  const auto path = normalizedObjectPath(objectPath);
  const std::string what = "attribute '" + name + "' of '" + path + "'";
  removeAttributeIfPresent(file_.id(), path, name);
  const Hdf5Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  if (!space.valid()) fail(what + ": cannot prepare its creation");
  const Hdf5Handle attribute(H5Acreate_by_name(file_.id(), path.c_str(), name.c_str(), fileTypeOf<T>(), space.id(),
                                               H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                             H5Aclose);
  if (!attribute.valid()) fail("cannot create " + what);
  if (H5Awrite(attribute.id(), memoryTypeOf<T>(), &value) < 0) fail("cannot write " + what);
}

template <class T>
T Hdf5File::readScalarAttribute(const std::string& objectPath, const std::string& name) const {
  static_assert(isHdf5Number<T>, "unsupported HDF5 element type");
  const Hdf5Lock lock;
  const auto path = normalizedObjectPath(objectPath);
  const std::string what = "attribute '" + name + "' of '" + path + "'";
  const auto attribute = openAttribute(path, name);
  const Hdf5Handle storedType(H5Aget_type(attribute.id()), H5Tclose);
  const Hdf5Handle space(H5Aget_space(attribute.id()), H5Sclose);
  if (!storedType.valid() || !space.valid()) fail(what + ": cannot read its type and shape");
  const auto typeClass = H5Tget_class(storedType.id());
  if (typeClass != H5T_INTEGER && typeClass != H5T_FLOAT)
    fail(what + " holds " + typeClassName(typeClass) + " values, expected a number");
  const auto count = H5Sget_simple_extent_npoints(space.id());
  if (count != 1) fail(what + " holds " + std::to_string(count) + " values, expected one");
  T value{};
  if (H5Aread(attribute.id(), memoryTypeOf<T>(), &value) < 0) fail("cannot read " + what);
  return value;
}

// The element types of isHdf5Number, instantiated here so the header needs no <hdf5.h>.
#define BP_INSTANTIATE_HDF5_NUMBER(T)                                                                        \
  template void Hdf5File::createDataset<T>(const std::string&, const Hdf5Shape&, const Hdf5DatasetOptions&); \
  template void Hdf5File::writeRows<T>(const std::string&, std::int64_t, std::int64_t, const T*);            \
  template void Hdf5File::writeDataset<T>(const std::string&, const std::vector<T>&, const Hdf5Shape&,       \
                                          const Hdf5DatasetOptions&);                                        \
  template void Hdf5File::readRows<T>(const std::string&, std::int64_t, std::int64_t, T*) const;             \
  template void Hdf5File::writeBlock<T>(const std::string&, const Hdf5Shape&, const Hdf5Shape&, const T*);   \
  template void Hdf5File::readBlock<T>(const std::string&, const Hdf5Shape&, const Hdf5Shape&, T*) const;    \
  template std::vector<T> Hdf5File::readDataset<T>(const std::string&) const;                                \
  template void Hdf5File::writeScalarAttribute<T>(const std::string&, const std::string&, T);                \
  template T Hdf5File::readScalarAttribute<T>(const std::string&, const std::string&) const;

BP_INSTANTIATE_HDF5_NUMBER(float)
BP_INSTANTIATE_HDF5_NUMBER(double)
BP_INSTANTIATE_HDF5_NUMBER(std::int64_t)
BP_INSTANTIATE_HDF5_NUMBER(std::int32_t)
BP_INSTANTIATE_HDF5_NUMBER(std::uint8_t)
#undef BP_INSTANTIATE_HDF5_NUMBER

// ---- Reading a file first in a helper process ----

namespace {

constexpr unsigned kRehearsalSeconds = 300;

bool isCrashSignal(int signal) {
  return signal == SIGSEGV || signal == SIGBUS || signal == SIGABRT || signal == SIGFPE || signal == SIGILL;
}

}  // namespace

void rehearseReadInHelper(const std::filesystem::path& file, const std::string& reader, const Job& job,
                          const std::function<void(const Job&)>& read) {
  std::error_code error;
  const auto size = std::filesystem::file_size(file, error);
  const auto modified = std::filesystem::last_write_time(file, error);
  const auto key = std::make_tuple(std::filesystem::absolute(file, error).string(), size, modified, reader);
  static std::mutex readableMutex;
  static std::set<std::tuple<std::string, std::uintmax_t, std::filesystem::file_time_type, std::string>> readable;
  {
    const std::lock_guard<std::mutex> lock(readableMutex);
    if (error || readable.count(key) > 0) return;  // no identity to remember (the read reports why), or read before
  }
  pid_t helper = 0;
  {
    // No other thread is inside HDF5 while the child is made.
    const std::lock_guard<std::recursive_mutex> hdf5(hdf5Mutex());
    helper = fork();
  }
  if (helper < 0) return;  // no process to spare: read it here, as without the helper
  if (helper == 0) {
    // The mutex came locked, owned by a thread id that is not this one's (the child has its own):
    // the child's only thread starts it afresh.
    new (&hdf5Mutex()) std::recursive_mutex();
    discardLogMessages();
    // A crash must end the helper with its signal, whatever handlers the parent installed.
    for (const int signal : {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL, SIGALRM}) std::signal(signal, SIG_DFL);
    alarm(kRehearsalSeconds);
    try {
      read(Job{});  // no progress or cancel token: those talk to the parent's threads
    } catch (...) {
    }
    _exit(0);  // no exit handlers: they belong to the parent
  }
  // Waits, stopping the helper when the job is cancelled.
  int status = 0;
  for (;;) {
    const pid_t ended = waitpid(helper, &status, WNOHANG);
    if (ended == helper) break;
    if (ended < 0 && errno != EINTR) return;
    if (job.cancelled()) {
      kill(helper, SIGKILL);
      while (waitpid(helper, &status, 0) < 0 && errno == EINTR) {
      }
      job.throwIfCancelled();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (WIFSIGNALED(status) && isCrashSignal(WTERMSIG(status)))
    throw FileError(file.string(), "the HDF5 library crashed reading it (" + std::string(strsignal(WTERMSIG(status))) +
                                       "): the file is corrupt");
  // The helper ends with _exit(0), even when the read throws: another status means that the library
  // (or a sanitizer watching it) ended the process.
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
    throw FileError(file.string(), "the HDF5 library stopped the process reading it (exit status " +
                                       std::to_string(WEXITSTATUS(status)) + "): the file is corrupt");
  // A helper stopped by another signal (its time limit, or one from outside) proves nothing either
  // way: the file is read here.
  if (WIFEXITED(status)) {
    const std::lock_guard<std::mutex> lock(readableMutex);
    readable.insert(key);
  }
}

}  // namespace bp
