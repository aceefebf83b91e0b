#pragma once
// NumPy's .npy format (versions 1.0, 2.0 and 3.0), read and written by hand: one file holds one
// array of plain numbers or fixed-length strings. The neuralpredictors file tree stores every
// trial as a few small .npy files, so reading must be cheap (one open and one read per file).
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace bp {

enum class NpyKind { Bool, SignedInt, UnsignedInt, Float, UnicodeString, ByteString };

struct NpyArray {
  NpyKind kind = NpyKind::Float;
  // Bytes per element: 1 for Bool; 1, 2, 4 or 8 for integers; 2, 4 or 8 for Float;
  // 4 * characters for UnicodeString (UTF-32); characters for ByteString.
  int itemSize = 4;
  std::vector<std::int64_t> shape;  // empty for a 0-d array (one element)
  std::vector<char> bytes;          // C order, little-endian (converted when read)

  std::int64_t elementCount() const;

  // Numeric conversions; half floats (itemSize 2) are widened. They throw bp::Error for string
  // arrays. toInt64 also throws for Float arrays and for uint64 values above INT64_MAX.
  std::vector<float> toFloat() const;
  // The same as toFloat, written to `destination` (elementCount() values): readers fill their
  // own big buffers without a temporary per file.
  void copyAsFloat(float* destination) const;
  std::vector<double> toDouble() const;
  std::vector<std::int64_t> toInt64() const;
  // UnicodeString: UTF-32 decoded to UTF-8; both kinds lose trailing NULs (NumPy's padding).
  // Throws bp::Error for numeric arrays and for invalid code points.
  std::vector<std::string> toStrings() const;
};

// Reads a whole .npy file. Every problem (missing file, bad magic, truncated header or data,
// unsupported dtype such as object arrays, malformed header) throws FileError naming the file.
// A shape as NumPy prints it: "(5335,)", "(1, 36, 64)", "()". Used in error messages.
std::string shapeText(const std::vector<std::int64_t>& shape);

NpyArray readNpy(const std::filesystem::path& path);
// The same for bytes already in memory; `nameForErrors` is the file name the errors quote.
NpyArray parseNpy(const char* data, std::size_t size, const std::string& nameForErrors);

// Writes `array` as C-order little-endian, format 1.0 (2.0 when the header needs more than
// 65535 bytes), atomically. Throws FileError naming `path` when the array is inconsistent
// (bytes vs. shape, unknown item size) or the write fails.
void writeNpy(const std::filesystem::path& path, const NpyArray& array);

// Arrays for fixtures and exports: float32, float64, int64 and Unicode strings (given as UTF-8;
// the U width is the longest string's length). Throw bp::Error when `shape` does not hold
// exactly values.size() elements.
NpyArray makeNpy(const std::vector<float>& values, std::vector<std::int64_t> shape);
NpyArray makeNpy(const std::vector<double>& values, std::vector<std::int64_t> shape);
NpyArray makeNpy(const std::vector<std::int64_t>& values, std::vector<std::int64_t> shape);
NpyArray makeNpy(const std::vector<std::string>& values, std::vector<std::int64_t> shape);

}  // namespace bp
