#include "data/image_readers.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "runtime/atomic_file.h"
#include "runtime/error.h"

namespace bp {
namespace {

// ---- the conversion every reader shares ----

struct ImageGeometry {
  int channels = 0;
  int height = 0;
  int width = 0;
  std::int64_t size() const { return static_cast<std::int64_t>(channels) * height * width; }
};

void requireValidOptions(const ImageLoadOptions& options) {
  if (options.resizeHeight < 0 || options.resizeWidth < 0)
    throw Error("image resize " + std::to_string(options.resizeHeight) + "x" + std::to_string(options.resizeWidth) +
                " must not be negative");
  if (!std::isfinite(options.rangeMin) || !std::isfinite(options.rangeMax))
    throw Error("image value range must be finite");
  if (options.maxImages < 0) throw Error("maximum image count must not be negative");
}

// What one source image of the given geometry becomes; a resize of 0 keeps that dimension.
ImageGeometry outputGeometry(int sourceChannels, int sourceHeight, int sourceWidth, const ImageLoadOptions& options) {
  return {options.grayscale ? 1 : sourceChannels, options.resizeHeight > 0 ? options.resizeHeight : sourceHeight,
          options.resizeWidth > 0 ? options.resizeWidth : sourceWidth};
}

std::int64_t imagesToRead(std::int64_t available, const ImageLoadOptions& options) {
  return options.maxImages > 0 ? std::min(available, options.maxImages) : available;
}

// Converts one 8-bit image (one channel, or interleaved BGR as OpenCV decodes it) into `output`'s
// geometry as planar float (R, G, B planes, or one luminance plane) at `destination`. The range
// map comes first and in float, so the BT.601 luminance and the interpolation are never rounded
// to 8 bits; both are affine with weights summing to one, so the order does not change the result.
void convertImage(const cv::Mat& source, const ImageLoadOptions& options, const ImageGeometry& output,
                  float* destination) {
  cv::Mat image;
  const double scale = (static_cast<double>(options.rangeMax) - options.rangeMin) / 255.0;
  source.convertTo(image, CV_32F, scale, options.rangeMin);
  if (output.channels == 1 && image.channels() == 3) cv::cvtColor(image, image, cv::COLOR_BGR2GRAY);
  if (output.channels == 3 && image.channels() == 1) cv::cvtColor(image, image, cv::COLOR_GRAY2BGR);
  if (image.rows != output.height || image.cols != output.width) {
    const bool shrinking = output.height <= image.rows && output.width <= image.cols;
    cv::resize(image, image, cv::Size(output.width, output.height), 0, 0,
               shrinking ? cv::INTER_AREA : cv::INTER_LINEAR);
  }
  // Headers over the destination planes: OpenCV writes straight into the dataset's buffer.
  const auto plane = static_cast<std::ptrdiff_t>(output.height) * output.width;
  if (output.channels == 1) {
    cv::Mat luminance(output.height, output.width, CV_32F, destination);
    image.copyTo(luminance);
    return;
  }
  cv::Mat bgrPlanes[3] = {cv::Mat(output.height, output.width, CV_32F, destination + 2 * plane),
                          cv::Mat(output.height, output.width, CV_32F, destination + plane),
                          cv::Mat(output.height, output.width, CV_32F, destination)};
  cv::split(image, bgrPlanes);
}

void startDataset(ImageDataset& dataset, const ImageGeometry& geometry, std::int64_t imageCount) {
  dataset.channels = geometry.channels;
  dataset.height = geometry.height;
  dataset.width = geometry.width;
  dataset.pixels.resize(static_cast<std::size_t>(imageCount * geometry.size()));
  dataset.labels.reserve(static_cast<std::size_t>(imageCount));
}

void finishDataset(const ImageDataset& dataset, const std::filesystem::path& source, const Job& job) {
  try {
    dataset.validate();
  } catch (const Error& e) {
    throw FileError(source.string(), e.what());
  }
  job.progress(1.0, "Read " + std::to_string(dataset.imageCount()) + " images");
}

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::vector<std::string> numberedClassNames(int count) {
  std::vector<std::string> names;
  for (int i = 0; i < count; ++i) names.push_back(std::to_string(i));
  return names;
}

// The folder's own name, also for "." or a path ending in a slash.
std::string folderName(const std::filesystem::path& folder) {
  auto normal = std::filesystem::absolute(folder).lexically_normal();
  if (!normal.has_filename()) normal = normal.parent_path();
  return normal.filename().string();
}

void requireExists(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw FileError(path.string(), "does not exist");
}

// ---- IDX (MNIST, Fashion-MNIST) ----

constexpr std::uint32_t idxImagesMagic = 0x00000803;  // unsigned byte, 3 dimensions
constexpr std::uint32_t idxLabelsMagic = 0x00000801;  // unsigned byte, 1 dimension
constexpr std::uint32_t largestIdxSide = 1 << 15;

const std::vector<std::string>& fashionMnistClassNames() {
  static const std::vector<std::string> names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                 "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  return names;
}

// Reads a raw or gzip-compressed file: zlib's gz* functions pass uncompressed files through.
class GzipFileReader {
 public:
  explicit GzipFileReader(const std::filesystem::path& file) : file_(file) {
    requireRegularFile(file);
    handle_ = gzopen(file.c_str(), "rb");
    if (!handle_) throw FileError(file.string(), std::string("cannot open: ") + std::strerror(errno));
    gzbuffer(handle_, 1 << 17);
  }
  ~GzipFileReader() { gzclose(handle_); }
  GzipFileReader(const GzipFileReader&) = delete;
  GzipFileReader& operator=(const GzipFileReader&) = delete;

  // Reads exactly `size` bytes of `what`; a short read means the file is truncated.
  void read(void* buffer, std::size_t size, const std::string& what) {
    auto* bytes = static_cast<char*>(buffer);
    std::size_t done = 0;
    while (done < size) {
      const auto request = static_cast<unsigned>(std::min<std::size_t>(size - done, INT_MAX));
      const int got = gzread(handle_, bytes + done, request);
      if (got < 0) {
        int code = Z_OK;
        throw FileError(file_.string(), std::string("corrupt compressed data: ") + gzerror(handle_, &code));
      }
      if (got == 0) throw FileError(file_.string(), "truncated: the file ends inside the " + what);
      done += static_cast<std::size_t>(got);
    }
  }

  std::uint32_t readBigEndian32(const std::string& what) {
    unsigned char bytes[4];
    read(bytes, sizeof(bytes), what);
    return (std::uint32_t{bytes[0]} << 24) | (std::uint32_t{bytes[1]} << 16) | (std::uint32_t{bytes[2]} << 8) |
           std::uint32_t{bytes[3]};
  }

 private:
  std::filesystem::path file_;
  gzFile handle_ = nullptr;
};

std::string hex32(std::uint32_t value) {
  char text[16];
  std::snprintf(text, sizeof(text), "0x%08x", value);
  return text;
}

// ---- CIFAR ----

constexpr std::int64_t cifarSide = 32;
constexpr std::int64_t cifarPixelBytes = 3 * cifarSide * cifarSide;

struct CifarFormat {
  const char* name;
  std::int64_t labelBytes;   // label bytes before the pixels of each record
  std::int64_t labelOffset;  // the label used: CIFAR-100's fine label is the second byte
  std::int64_t recordBytes() const { return labelBytes + cifarPixelBytes; }
};

constexpr CifarFormat cifar10Format{"CIFAR-10", 1, 0};
constexpr CifarFormat cifar100Format{"CIFAR-100", 2, 1};

const std::vector<std::string>& cifar10ClassNames() {
  static const std::vector<std::string> names = {"airplane", "automobile", "bird",  "cat",  "deer",
                                                 "dog",      "frog",       "horse", "ship", "truck"};
  return names;
}

std::uintmax_t fileSize(const std::filesystem::path& file) {
  requireRegularFile(file);
  std::error_code ec;
  const auto size = std::filesystem::file_size(file, ec);
  if (ec) throw FileError(file.string(), "cannot read: " + ec.message());
  return size;
}

// The record format, from the size (a whole number of records) and, when both fit, the name the
// CIFAR archives give CIFAR-10 batches.
const CifarFormat& detectCifarFormat(const std::filesystem::path& file) {
  const auto size = static_cast<std::int64_t>(fileSize(file));
  const bool fits10 = size > 0 && size % cifar10Format.recordBytes() == 0;
  const bool fits100 = size > 0 && size % cifar100Format.recordBytes() == 0;
  if (fits10 && fits100) {
    const auto name = file.filename().string();
    return name.rfind("data_batch", 0) == 0 || name.rfind("test_batch", 0) == 0 ? cifar10Format : cifar100Format;
  }
  if (fits10) return cifar10Format;
  if (fits100) return cifar100Format;
  throw FileError(file.string(),
                  "size " + std::to_string(size) +
                      " bytes is not a whole number of CIFAR-10 (3073-byte) or CIFAR-100 (3074-byte) records");
}

// Non-empty trimmed lines of a class-name file.
std::vector<std::string> readNameLines(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw FileError(file.string(), std::string("cannot open: ") + std::strerror(errno));
  std::vector<std::string> names;
  for (std::string line; std::getline(in, line);) {
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos) continue;
    names.push_back(line.substr(first, line.find_last_not_of(" \t\r") - first + 1));
  }
  if (in.bad()) throw FileError(file.string(), "cannot read");
  return names;
}

// ---- image folders ----

bool isHidden(const std::filesystem::path& path) {
  return path.filename().string().rfind('.', 0) == 0;
}

// A folder's visible entries, sorted by name, that pass `keep`; listing failures name the folder.
template <class Keep>
std::vector<std::filesystem::path> sortedEntries(const std::filesystem::path& folder, Keep keep) {
  std::vector<std::filesystem::path> entries;
  try {
    for (const auto& entry : std::filesystem::directory_iterator(folder))
      if (!isHidden(entry.path()) && keep(entry)) entries.push_back(entry.path());
  } catch (const std::filesystem::filesystem_error& e) {
    throw FileError(folder.string(), "cannot list: " + e.code().message());
  }
  std::sort(entries.begin(), entries.end());
  return entries;
}

bool isDirectory(const std::filesystem::directory_entry& entry) {
  std::error_code ec;
  return entry.is_directory(ec);
}

// Decodes an image as 8-bit gray or BGR (alpha dropped).
cv::Mat decodeImage(const std::filesystem::path& file) {
  cv::Mat image;
  try {
    image = cv::imread(file.string(), cv::IMREAD_ANYCOLOR);
  } catch (const cv::Exception& e) {
    throw FileError(file.string(), "cannot decode image: " + e.msg);
  }
  if (image.empty()) throw FileError(file.string(), "cannot read or decode image");
  if (image.depth() != CV_8U) throw FileError(file.string(), "is not an 8-bit image");
  if (image.channels() == 4) cv::cvtColor(image, image, cv::COLOR_BGRA2BGR);
  if (image.channels() != 1 && image.channels() != 3)
    throw FileError(file.string(), "has " + std::to_string(image.channels()) + " channels, expected 1, 3 or 4");
  return image;
}

std::string describeSize(const cv::Mat& image) {
  return std::to_string(image.cols) + "x" + std::to_string(image.rows);
}

}  // namespace

bool isImageFile(const std::filesystem::path& file) {
  const auto extension = lowercase(file.extension().string());
  return extension == ".png" || extension == ".jpg" || extension == ".jpeg" || extension == ".bmp";
}

ImageDataset readIdx(const std::filesystem::path& imagesFile, const std::filesystem::path& labelsFile,
                     const ImageLoadOptions& options, const Job& job) {
  requireValidOptions(options);
  GzipFileReader images(imagesFile);
  GzipFileReader labels(labelsFile);
  const auto imagesMagic = images.readBigEndian32("header");
  if (imagesMagic != idxImagesMagic)
    throw FileError(imagesFile.string(), "not an IDX image file: magic number " + hex32(imagesMagic) + ", expected " +
                                             hex32(idxImagesMagic));
  const auto imageCount = images.readBigEndian32("header");
  const auto rows = images.readBigEndian32("header");
  const auto columns = images.readBigEndian32("header");
  const auto labelsMagic = labels.readBigEndian32("header");
  if (labelsMagic != idxLabelsMagic)
    throw FileError(labelsFile.string(), "not an IDX label file: magic number " + hex32(labelsMagic) + ", expected " +
                                             hex32(idxLabelsMagic));
  const auto labelCount = labels.readBigEndian32("header");
  if (labelCount != imageCount)
    throw FileError(labelsFile.string(), "holds " + std::to_string(labelCount) + " labels but " + imagesFile.string() +
                                             " holds " + std::to_string(imageCount) + " images");
  if (rows == 0 || columns == 0 || rows > largestIdxSide || columns > largestIdxSide)
    throw FileError(imagesFile.string(),
                    "implausible image size " + std::to_string(columns) + "x" + std::to_string(rows));

  const bool fashion = lowercase(imagesFile.string()).find("fashion") != std::string::npos;
  const auto count = imagesToRead(imageCount, options);
  const auto geometry = outputGeometry(1, static_cast<int>(rows), static_cast<int>(columns), options);
  ImageDataset dataset;
  dataset.name = imagesFile.extension() == ".gz" ? imagesFile.stem().string() : imagesFile.filename().string();
  dataset.sourcePath = imagesFile.string();
  // The header's count is not trusted for allocation: storage grows only as data actually arrives.
  startDataset(dataset, geometry, 0);

  const std::int64_t sourceBytes = std::int64_t{rows} * columns;
  const std::int64_t blockImages = std::max<std::int64_t>(1, (1 << 20) / sourceBytes);
  std::vector<unsigned char> pixelBlock;
  std::vector<unsigned char> labelBlock;
  int largestLabel = 0;
  for (std::int64_t first = 0; first < count; first += blockImages) {
    job.throwIfCancelled();
    const auto block = std::min(blockImages, count - first);
    pixelBlock.resize(static_cast<std::size_t>(block * sourceBytes));
    labelBlock.resize(static_cast<std::size_t>(block));
    images.read(pixelBlock.data(), pixelBlock.size(), "pixel data of image " + std::to_string(first) + " or after");
    labels.read(labelBlock.data(), labelBlock.size(), "labels");
    dataset.pixels.resize(static_cast<std::size_t>((first + block) * geometry.size()));
    for (std::int64_t i = 0; i < block; ++i) {
      const cv::Mat source(static_cast<int>(rows), static_cast<int>(columns), CV_8UC1,
                           pixelBlock.data() + i * sourceBytes);
      convertImage(source, options, geometry, dataset.pixels.data() + (first + i) * geometry.size());
      const int label = labelBlock[static_cast<std::size_t>(i)];
      if (fashion && label >= static_cast<int>(fashionMnistClassNames().size()))
        throw FileError(labelsFile.string(), "label " + std::to_string(label) + " of image " +
                                                 std::to_string(first + i) +
                                                 " is outside the 10 Fashion-MNIST classes");
      largestLabel = std::max(largestLabel, label);
      dataset.labels.push_back(label);
    }
    job.progress(static_cast<double>(first + block) / static_cast<double>(count), "Reading " + dataset.name);
  }
  dataset.classNames = fashion ? fashionMnistClassNames() : numberedClassNames(std::max(10, largestLabel + 1));
  finishDataset(dataset, imagesFile, job);
  return dataset;
}

ImageDataset readIdxFolder(const std::filesystem::path& folder, const std::string& split,
                           const ImageLoadOptions& options, const Job& job) {
  requireExists(folder);
  const auto find = [&](const std::string& stem) {
    for (const auto& name : {stem, stem + ".gz"}) {
      std::error_code ec;
      if (std::filesystem::is_regular_file(folder / name, ec)) return folder / name;
    }
    throw FileError(folder.string(), "has no " + stem + " or " + stem + ".gz");
  };
  const auto imagesFile = find(split + "-images-idx3-ubyte");
  const auto labelsFile = find(split + "-labels-idx1-ubyte");
  auto dataset = readIdx(imagesFile, labelsFile, options, job);
  dataset.name = folderName(folder) + " " + split;
  dataset.sourcePath = folder.string();
  return dataset;
}

ImageDataset readCifarBinary(const std::vector<std::filesystem::path>& batchFiles, const ImageLoadOptions& options,
                             const Job& job) {
  requireValidOptions(options);
  if (batchFiles.empty()) throw Error("no CIFAR batch files given");
  const CifarFormat& format = detectCifarFormat(batchFiles.front());
  std::int64_t available = 0;
  for (const auto& file : batchFiles) {
    const CifarFormat& fileFormat = detectCifarFormat(file);
    if (&fileFormat != &format)
      throw FileError(file.string(), std::string("is a ") + fileFormat.name + " batch but " +
                                         batchFiles.front().string() + " is " + format.name);
    available += static_cast<std::int64_t>(fileSize(file)) / format.recordBytes();
  }

  const auto folder = batchFiles.front().parent_path();
  const auto namesFile = folder / (&format == &cifar10Format ? "batches.meta.txt" : "fine_label_names.txt");
  std::error_code ec;
  const bool namesBeside = std::filesystem::is_regular_file(namesFile, ec);
  ImageDataset dataset;
  dataset.classNames = namesBeside                 ? readNameLines(namesFile)
                       : &format == &cifar10Format ? cifar10ClassNames()
                                                   : numberedClassNames(100);
  const std::string namesSource =
      namesBeside ? namesFile.string() : std::string("the standard ") + format.name + " classes";
  dataset.name = folderName(folder);
  dataset.sourcePath = batchFiles.size() == 1 ? batchFiles.front().string() : folder.string();

  const auto count = imagesToRead(available, options);
  const auto geometry = outputGeometry(3, cifarSide, cifarSide, options);
  startDataset(dataset, geometry, count);
  constexpr std::int64_t blockRecords = 1024;
  std::vector<unsigned char> block;
  std::int64_t done = 0;
  for (const auto& file : batchFiles) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw FileError(file.string(), std::string("cannot open: ") + std::strerror(errno));
    const auto fileRecords = static_cast<std::int64_t>(fileSize(file)) / format.recordBytes();
    for (std::int64_t first = 0; first < fileRecords && done < count; first += blockRecords) {
      job.throwIfCancelled();
      const auto records = std::min({blockRecords, fileRecords - first, count - done});
      block.resize(static_cast<std::size_t>(records * format.recordBytes()));
      if (!in.read(reinterpret_cast<char*>(block.data()), static_cast<std::streamsize>(block.size())))
        throw FileError(file.string(), "truncated: the file ends inside record " + std::to_string(first));
      for (std::int64_t r = 0; r < records; ++r) {
        unsigned char* record = block.data() + r * format.recordBytes();
        const int label = record[format.labelOffset];
        if (label >= static_cast<int>(dataset.classNames.size()))
          throw FileError(file.string(), "record " + std::to_string(first + r) + " has label " + std::to_string(label) +
                                             " but there are only " + std::to_string(dataset.classNames.size()) +
                                             " classes (" + namesSource + ")");
        // Records hold R, G and B planes; OpenCV's conversions expect interleaved BGR.
        unsigned char* pixels = record + format.labelBytes;
        const auto side = static_cast<int>(cifarSide);
        const cv::Mat planes[3] = {cv::Mat(side, side, CV_8UC1, pixels + 2 * side * side),
                                   cv::Mat(side, side, CV_8UC1, pixels + side * side),
                                   cv::Mat(side, side, CV_8UC1, pixels)};
        cv::Mat bgr;
        cv::merge(planes, 3, bgr);
        convertImage(bgr, options, geometry, dataset.pixels.data() + done * geometry.size());
        dataset.labels.push_back(label);
        ++done;
      }
      job.progress(static_cast<double>(done) / static_cast<double>(count), "Reading " + file.filename().string());
    }
  }
  finishDataset(dataset, batchFiles.front(), job);
  return dataset;
}

ImageDataset readCifarFolder(const std::filesystem::path& folder, const std::string& split,
                             const ImageLoadOptions& options, const Job& job) {
  if (split != "train" && split != "test") throw Error("CIFAR split must be 'train' or 'test', not '" + split + "'");
  requireExists(folder);
  std::vector<std::filesystem::path> batches;
  std::error_code ec;
  if (split == "train") {
    // data_batch_1.bin .. data_batch_5.bin, in numeric order.
    const std::string prefix = "data_batch_";
    std::vector<std::pair<long, std::filesystem::path>> numbered;
    for (const auto& batch : sortedEntries(folder, [&](const std::filesystem::directory_entry& entry) {
           return entry.path().filename().string().rfind(prefix, 0) == 0 && entry.path().extension() == ".bin";
         }))
      numbered.emplace_back(std::strtol(batch.filename().string().c_str() + prefix.size(), nullptr, 10), batch);
    std::sort(numbered.begin(), numbered.end());
    for (const auto& batch : numbered) batches.push_back(batch.second);
  } else if (std::filesystem::is_regular_file(folder / "test_batch.bin", ec)) {
    batches.push_back(folder / "test_batch.bin");
  }
  if (batches.empty() && std::filesystem::is_regular_file(folder / (split + ".bin"), ec))
    batches.push_back(folder / (split + ".bin"));
  if (batches.empty())
    throw FileError(folder.string(), split == "train" ? "has no CIFAR training batches (data_batch_*.bin or train.bin)"
                                                      : "has no CIFAR test batch (test_batch.bin or test.bin)");
  auto dataset = readCifarBinary(batches, options, job);
  dataset.name = folderName(folder) + " " + split;
  dataset.sourcePath = folder.string();
  return dataset;
}

ImageDataset readImageFolder(const std::filesystem::path& root, const ImageLoadOptions& options, const Job& job) {
  requireValidOptions(options);
  std::error_code ec;
  if (!std::filesystem::is_directory(root, ec)) throw FileError(root.string(), "is not a folder");
  ImageDataset dataset;
  const auto classFolders = sortedEntries(root, isDirectory);
  if (classFolders.empty()) throw FileError(root.string(), "has no class subfolders");

  std::vector<std::pair<std::filesystem::path, std::int32_t>> files;
  for (const auto& classFolder : classFolders) {
    auto classFiles = sortedEntries(classFolder, [](const std::filesystem::directory_entry& entry) {
      return !isDirectory(entry) && isImageFile(entry.path());
    });
    const auto label = static_cast<std::int32_t>(dataset.classNames.size());
    for (auto& file : classFiles) files.emplace_back(std::move(file), label);
    dataset.classNames.push_back(classFolder.filename().string());
  }
  if (files.empty()) throw FileError(root.string(), "has no PNG, JPEG or BMP images in its class subfolders");

  // Decode everything first: the channel count (colour unless every image is gray) is known only then.
  const auto count = imagesToRead(static_cast<std::int64_t>(files.size()), options);
  const auto decodeJob = job.subJob(0.0, 0.8);
  std::vector<cv::Mat> decoded;
  decoded.reserve(static_cast<std::size_t>(count));
  bool allGray = true;
  for (std::int64_t i = 0; i < count; ++i) {
    if (i % 256 == 0) {
      job.throwIfCancelled();
      decodeJob.progress(static_cast<double>(i) / static_cast<double>(count), "Decoding images");
    }
    const auto& file = files[static_cast<std::size_t>(i)].first;
    decoded.push_back(decodeImage(file));
    const auto& image = decoded.back();
    const auto& first = decoded.front();
    allGray = allGray && image.channels() == 1;
    const auto size = outputGeometry(1, image.rows, image.cols, options);
    const auto firstSize = outputGeometry(1, first.rows, first.cols, options);
    if (size.height != firstSize.height || size.width != firstSize.width)
      throw FileError(file.string(), "is " + describeSize(image) + " but " + files.front().first.string() + " is " +
                                         describeSize(first) + "; set a resize to load images of different sizes");
  }

  const auto geometry = outputGeometry(allGray ? 1 : 3, decoded.front().rows, decoded.front().cols, options);
  dataset.name = folderName(root);
  dataset.sourcePath = root.string();
  startDataset(dataset, geometry, count);
  const auto convertJob = job.subJob(0.8, 1.0);
  for (std::int64_t i = 0; i < count; ++i) {
    if (i % 256 == 0) {
      job.throwIfCancelled();
      convertJob.progress(static_cast<double>(i) / static_cast<double>(count), "Converting images");
    }
    auto& image = decoded[static_cast<std::size_t>(i)];
    convertImage(image, options, geometry, dataset.pixels.data() + i * geometry.size());
    image.release();
    dataset.labels.push_back(files[static_cast<std::size_t>(i)].second);
  }
  finishDataset(dataset, root, job);
  return dataset;
}

std::vector<float> readImageFile(const std::filesystem::path& file, int channels, int height, int width,
                                 const ImageLoadOptions& options) {
  if (channels != 1 && channels != 3) throw Error("an image has 1 or 3 channels, not " + std::to_string(channels));
  if (height <= 0 || width <= 0)
    throw Error("image size " + std::to_string(height) + "x" + std::to_string(width) + " must be positive");
  requireValidOptions(options);
  const ImageGeometry geometry{channels, height, width};
  std::vector<float> pixels(static_cast<std::size_t>(geometry.size()));
  convertImage(decodeImage(file), options, geometry, pixels.data());
  return pixels;
}

}  // namespace bp
