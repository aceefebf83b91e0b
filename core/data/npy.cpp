#include "data/npy.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <string_view>

#include "runtime/atomic_file.h"
#include "runtime/error.h"

// The reader stores and converts little-endian bytes with memcpy; a big-endian host would need
// swaps in every conversion, which nobody runs this on.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "npy.cpp assumes a little-endian host");

namespace bp {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicSize = 6;
// NumPy pads the header so that the data starts on a multiple of this (good for memory mapping).
constexpr std::size_t kHeaderAlignment = 64;
// Version 1.0 stores the header length in 16 bits.
constexpr std::size_t kVersion1MaxHeader = 65535;
// Enough to hold the preamble and header NumPy writes for any realistic array, so one read()
// usually returns the header and the start of the data together.
constexpr std::size_t kPrefixReadSize = 4096;

struct NpyHeader {
  NpyKind kind = NpyKind::Float;
  int itemSize = 0;
  bool bigEndian = false;
  bool fortranOrder = false;
  std::vector<std::int64_t> shape;
  std::string descr;           // as written in the file, for error messages
  std::size_t dataOffset = 0;  // bytes from the start of the file to the data
  std::size_t dataBytes = 0;   // bytes the shape and dtype call for
};

}  // namespace

std::string shapeText(const std::vector<std::int64_t>& shape) {
  std::string text = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) text += ", ";
    text += std::to_string(shape[i]);
  }
  if (shape.size() == 1) text += ",";
  return text + ")";
}

namespace {

// Item sizes NumPy can store for each kind, and the one this reader can convert.
bool itemSizeIsValid(NpyKind kind, std::int64_t itemSize) {
  switch (kind) {
    case NpyKind::Bool:
      return itemSize == 1;
    case NpyKind::SignedInt:
    case NpyKind::UnsignedInt:
      return itemSize == 1 || itemSize == 2 || itemSize == 4 || itemSize == 8;
    case NpyKind::Float:
      return itemSize == 2 || itemSize == 4 || itemSize == 8;
    case NpyKind::UnicodeString:
      return itemSize >= 4 && itemSize % 4 == 0;
    case NpyKind::ByteString:
      return itemSize >= 1;
  }
  return false;
}

// Bytes swapped as one unit: the whole item for numbers, one UTF-32 code unit for U strings.
int swapUnitSize(NpyKind kind, int itemSize) {
  if (kind == NpyKind::UnicodeString) return 4;
  if (kind == NpyKind::ByteString) return 1;
  return itemSize;
}

// Multiplies the shape out, refusing negative dimensions and products that overflow.
bool countElements(const std::vector<std::int64_t>& shape, std::int64_t& count) {
  count = 1;
  for (const auto dimension : shape) {
    if (dimension < 0) return false;
    if (__builtin_mul_overflow(count, dimension, &count)) return false;
  }
  return true;
}

// ---- Header text: a Python dict literal such as
// {'descr': '<f4', 'fortran_order': False, 'shape': (1, 36, 64), }
class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& name) : text_(text), name_(name) {}

  void parseInto(NpyHeader& header) {
    bool sawDescr = false, sawFortran = false, sawShape = false;
    skipSpace();
    expect('{', "the header dict to start with '{'");
    skipSpace();
    while (!atEnd() && peek() != '}') {
      const std::string key = parseString("a quoted key");
      skipSpace();
      expect(':', "':' after key '" + key + "'");
      skipSpace();
      if (key == "descr") {
        markSeen(sawDescr, key);
        if (!atEnd() && peek() == '[')
          throw FileError(name_, "unsupported dtype: structured arrays (a list of fields) are not supported");
        header.descr = parseString("a quoted dtype after 'descr'");
      } else if (key == "fortran_order") {
        markSeen(sawFortran, key);
        header.fortranOrder = parseBool();
      } else if (key == "shape") {
        markSeen(sawShape, key);
        header.shape = parseShape();
      } else {
        malformed("unexpected key '" + key + "'");
      }
      skipSpace();
      if (!atEnd() && peek() == ',') {
        ++position_;
        skipSpace();
      } else if (atEnd() || peek() != '}') {
        malformed("expected ',' or '}' after the value of '" + key + "'");
      }
    }
    expect('}', "the header dict to end with '}'");
    skipSpace();
    if (!atEnd()) malformed("unexpected text after the header dict");
    if (!sawDescr) malformed("no 'descr' key");
    if (!sawFortran) malformed("no 'fortran_order' key");
    if (!sawShape) malformed("no 'shape' key");
  }

 private:
  [[noreturn]] void malformed(const std::string& problem) const {
    throw FileError(name_, "malformed header: " + problem + " (at character " + std::to_string(position_) + " of \"" +
                               std::string(text_) + "\")");
  }

  bool atEnd() const { return position_ >= text_.size(); }
  char peek() const { return text_[position_]; }

  void skipSpace() {
    while (!atEnd() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r')) ++position_;
  }

  void expect(char wanted, const std::string& what) {
    if (atEnd() || peek() != wanted) malformed("expected " + what);
    ++position_;
  }

  void markSeen(bool& seen, const std::string& key) {
    if (seen) malformed("key '" + key + "' appears twice");
    seen = true;
  }

  std::string parseString(const std::string& what) {
    if (atEnd() || (peek() != '\'' && peek() != '"')) malformed("expected " + what);
    const char quote = text_[position_++];
    std::string value;
    while (!atEnd() && peek() != quote) {
      if (peek() == '\\') {
        ++position_;
        if (atEnd()) break;
      }
      value += text_[position_++];
    }
    if (atEnd()) malformed("unterminated string");
    ++position_;
    return value;
  }

  bool parseBool() {
    if (text_.substr(position_, 4) == "True") {
      position_ += 4;
      return true;
    }
    if (text_.substr(position_, 5) == "False") {
      position_ += 5;
      return false;
    }
    malformed("'fortran_order' must be True or False");
  }

  std::int64_t parseDimension() {
    if (!atEnd() && peek() == '-') malformed("negative dimension in shape");
    if (atEnd() || !std::isdigit(static_cast<unsigned char>(peek()))) malformed("expected a dimension in shape");
    std::int64_t value = 0;
    while (!atEnd() && std::isdigit(static_cast<unsigned char>(peek()))) {
      const int digit = peek() - '0';
      if (__builtin_mul_overflow(value, 10, &value) || __builtin_add_overflow(value, digit, &value))
        malformed("shape dimension does not fit in 64 bits");
      ++position_;
    }
    // Python 2 wrote long integers as 5L.
    if (!atEnd() && peek() == 'L') ++position_;
    return value;
  }

  std::vector<std::int64_t> parseShape() {
    std::vector<std::int64_t> shape;
    expect('(', "'shape' to be a tuple");
    skipSpace();
    while (!atEnd() && peek() != ')') {
      shape.push_back(parseDimension());
      skipSpace();
      if (!atEnd() && peek() == ',') {
        ++position_;
        skipSpace();
      } else if (atEnd() || peek() != ')') {
        malformed("expected ',' or ')' in shape");
      }
    }
    expect(')', "')' to close the shape");
    return shape;
  }

  std::string_view text_;
  const std::string& name_;
  std::size_t position_ = 0;
};

[[noreturn]] void unsupportedDtype(const std::string& name, const std::string& descr, const std::string& why) {
  throw FileError(name, "unsupported dtype '" + descr + "'" + (why.empty() ? "" : ": " + why));
}

// Decodes a dtype string such as '<f4', '>i2', '|u1', '<U10', '|S5' into kind, size and order.
void parseDescr(NpyHeader& header, const std::string& name) {
  const std::string& descr = header.descr;
  std::size_t position = 0;
  char order = '=';
  if (!descr.empty() && (descr[0] == '<' || descr[0] == '>' || descr[0] == '|' || descr[0] == '=')) {
    order = descr[0];
    position = 1;
  }
  if (position >= descr.size()) unsupportedDtype(name, descr, "empty type");
  const char kindChar = descr[position++];
  NpyKind kind;
  switch (kindChar) {
    case 'b':
      kind = NpyKind::Bool;
      break;
    case 'i':
      kind = NpyKind::SignedInt;
      break;
    case 'u':
      kind = NpyKind::UnsignedInt;
      break;
    case 'f':
      kind = NpyKind::Float;
      break;
    case 'U':
      kind = NpyKind::UnicodeString;
      break;
    case 'S':
      kind = NpyKind::ByteString;
      break;
    case 'O':
      unsupportedDtype(name, descr, "object arrays (pickled Python objects) are not supported");
    default:
      unsupportedDtype(name, descr, "");
  }
  const std::string digits = descr.substr(position);
  if (digits.empty() || digits.size() > 9 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
    unsupportedDtype(name, descr, "");
  std::int64_t itemSize = std::stoll(digits);
  if (kind == NpyKind::UnicodeString) itemSize *= 4;
  if (!itemSizeIsValid(kind, itemSize)) unsupportedDtype(name, descr, "");
  header.kind = kind;
  header.itemSize = static_cast<int>(itemSize);
  header.bigEndian = order == '>' && swapUnitSize(kind, header.itemSize) > 1;
}

// Checks the magic, version and header length; returns where the data starts. Needs the first
// 12 bytes of the file (or all of it when shorter) in `data`.
std::size_t parsePreamble(const char* data, std::size_t fileSize, const std::string& name) {
  if (fileSize > 0 && std::memcmp(data, kMagic, std::min(fileSize, kMagicSize)) != 0)
    throw FileError(name, "not a NumPy .npy file (bad magic bytes)");
  if (fileSize < kMagicSize + 4)
    throw FileError(name, "truncated header: the file has only " + std::to_string(fileSize) + " bytes");
  const int major = static_cast<unsigned char>(data[6]);
  const int minor = static_cast<unsigned char>(data[7]);
  if (major < 1 || major > 3 || minor != 0)
    throw FileError(name, "unsupported .npy format version " + std::to_string(major) + "." + std::to_string(minor));
  // Version 1.0 stores the header length in 2 bytes, 2.0 and 3.0 (UTF-8 header) in 4.
  const std::size_t preamble = major == 1 ? 10 : 12;
  if (fileSize < preamble)
    throw FileError(name, "truncated header: the file has only " + std::to_string(fileSize) + " bytes");
  std::size_t headerLength = 0;
  for (std::size_t i = preamble - 1; i >= 8; --i)
    headerLength = (headerLength << 8) | static_cast<unsigned char>(data[i]);
  if (fileSize - preamble < headerLength)
    throw FileError(name, "truncated header: it declares " + std::to_string(headerLength) + " bytes but the file has " +
                              std::to_string(fileSize - preamble) + " after the preamble");
  return preamble + headerLength;
}

// Parses the header dict and checks the data size against the file size. `data` must hold the
// first `dataOffset` bytes of the file (as returned by parsePreamble).
NpyHeader parseHeader(const char* data, std::size_t dataOffset, std::size_t fileSize, const std::string& name) {
  const std::size_t preamble = static_cast<unsigned char>(data[6]) == 1 ? 10 : 12;
  const std::size_t headerLength = dataOffset - preamble;
  NpyHeader header;
  header.dataOffset = dataOffset;
  HeaderParser(std::string_view(data + preamble, headerLength), name).parseInto(header);
  parseDescr(header, name);

  std::int64_t count = 0;
  std::int64_t bytes = 0;
  if (!countElements(header.shape, count) || __builtin_mul_overflow(count, header.itemSize, &bytes) ||
      static_cast<std::uint64_t>(bytes) > static_cast<std::uint64_t>(std::numeric_limits<std::ptrdiff_t>::max()))
    throw FileError(name, "malformed header: shape " + shapeText(header.shape) + " is too large");
  header.dataBytes = static_cast<std::size_t>(bytes);

  const std::size_t found = fileSize - header.dataOffset;
  if (found < header.dataBytes)
    throw FileError(name, "truncated data: shape " + shapeText(header.shape) + " of '" + header.descr + "' needs " +
                              std::to_string(header.dataBytes) + " bytes but the file has " + std::to_string(found) +
                              " after the header");
  if (found > header.dataBytes)
    throw FileError(name, "unexpected bytes after the data: shape " + shapeText(header.shape) + " of '" + header.descr +
                              "' needs " + std::to_string(header.dataBytes) + " bytes but the file has " +
                              std::to_string(found) + " after the header");
  return header;
}

void swapBytes(std::vector<char>& bytes, int unitSize) {
  char* data = bytes.data();
  const std::size_t size = bytes.size();
  switch (unitSize) {
    case 2:
      for (std::size_t i = 0; i < size; i += 2) {
        std::uint16_t value;
        std::memcpy(&value, data + i, 2);
        value = __builtin_bswap16(value);
        std::memcpy(data + i, &value, 2);
      }
      break;
    case 4:
      for (std::size_t i = 0; i < size; i += 4) {
        std::uint32_t value;
        std::memcpy(&value, data + i, 4);
        value = __builtin_bswap32(value);
        std::memcpy(data + i, &value, 4);
      }
      break;
    case 8:
      for (std::size_t i = 0; i < size; i += 8) {
        std::uint64_t value;
        std::memcpy(&value, data + i, 8);
        value = __builtin_bswap64(value);
        std::memcpy(data + i, &value, 8);
      }
      break;
    default:
      break;
  }
}

// Fortran order stores the first index fastest; walk the C-order positions and gather from the
// matching Fortran-order offset.
std::vector<char> fortranToC(const std::vector<char>& bytes, const std::vector<std::int64_t>& shape, int itemSize) {
  const std::size_t rank = shape.size();
  std::vector<char> result(bytes.size());
  if (bytes.empty()) return result;
  std::vector<std::int64_t> fortranStride(rank);
  std::int64_t stride = 1;
  for (std::size_t d = 0; d < rank; ++d) {
    fortranStride[d] = stride;
    stride *= shape[d];
  }
  std::vector<std::int64_t> index(rank, 0);
  std::int64_t fortranOffset = 0;
  const std::int64_t count = stride;
  const auto item = static_cast<std::size_t>(itemSize);
  for (std::int64_t c = 0; c < count; ++c) {
    std::memcpy(result.data() + static_cast<std::size_t>(c) * item,
                bytes.data() + static_cast<std::size_t>(fortranOffset) * item, item);
    std::size_t d = rank - 1;
    ++index[d];
    fortranOffset += fortranStride[d];
    while (index[d] == shape[d] && d > 0) {
      fortranOffset -= shape[d] * fortranStride[d];
      index[d] = 0;
      --d;
      ++index[d];
      fortranOffset += fortranStride[d];
    }
  }
  return result;
}

// Turns the raw data bytes (already in `array.bytes`) into native C order.
NpyArray finishArray(NpyHeader&& header, std::vector<char>&& bytes) {
  NpyArray array;
  array.kind = header.kind;
  array.itemSize = header.itemSize;
  array.shape = std::move(header.shape);
  array.bytes = std::move(bytes);
  if (header.bigEndian) swapBytes(array.bytes, swapUnitSize(array.kind, array.itemSize));
  if (header.fortranOrder && array.shape.size() > 1) array.bytes = fortranToC(array.bytes, array.shape, array.itemSize);
  return array;
}

std::string errnoText() {
  return std::strerror(errno);
}

// Reads up to `size` bytes, retrying short reads; returns how many were read before end of file.
std::size_t readFully(int fd, char* destination, std::size_t size, const std::string& name) {
  std::size_t done = 0;
  while (done < size) {
    const ssize_t got = ::read(fd, destination + done, size - done);
    if (got < 0) {
      if (errno == EINTR) continue;
      throw FileError(name, "cannot read: " + errnoText());
    }
    if (got == 0) break;
    done += static_cast<std::size_t>(got);
  }
  return done;
}

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// ---- Conversions

float halfToFloat(std::uint16_t half) {
  const int sign = (half >> 15) & 1;
  const int exponent = (half >> 10) & 0x1f;
  const int mantissa = half & 0x3ff;
  float magnitude;
  if (exponent == 0) {
    magnitude = std::ldexp(static_cast<float>(mantissa), -24);  // zero or subnormal
  } else if (exponent == 31) {
    magnitude = mantissa == 0 ? std::numeric_limits<float>::infinity() : std::numeric_limits<float>::quiet_NaN();
  } else {
    magnitude = std::ldexp(static_cast<float>(mantissa | 0x400), exponent - 25);
  }
  return sign ? -magnitude : magnitude;
}

template <typename Stored>
Stored loadAt(const char* data, std::int64_t index) {
  Stored value;
  std::memcpy(&value, data + index * static_cast<std::int64_t>(sizeof(Stored)), sizeof(Stored));
  return value;
}

const char* kindName(NpyKind kind) {
  switch (kind) {
    case NpyKind::Bool:
      return "bool";
    case NpyKind::SignedInt:
      return "signed integer";
    case NpyKind::UnsignedInt:
      return "unsigned integer";
    case NpyKind::Float:
      return "float";
    case NpyKind::UnicodeString:
      return "unicode string";
    case NpyKind::ByteString:
      return "byte string";
  }
  return "unknown";
}

template <typename Target, typename Stored>
void convertAll(const NpyArray& array, Target* out, std::size_t count) {
  const char* data = array.bytes.data();
  for (std::size_t i = 0; i < count; ++i)
    out[i] = static_cast<Target>(loadAt<Stored>(data, static_cast<std::int64_t>(i)));
}

void requireConsistent(const NpyArray& array) {
  std::int64_t count = 0;
  std::int64_t bytes = 0;
  if (!itemSizeIsValid(array.kind, array.itemSize) || !countElements(array.shape, count) ||
      __builtin_mul_overflow(count, array.itemSize, &bytes) || static_cast<std::int64_t>(array.bytes.size()) != bytes)
    throw Error("inconsistent .npy array: " + std::string(kindName(array.kind)) + " of item size " +
                std::to_string(array.itemSize) + ", shape " + shapeText(array.shape) + ", " +
                std::to_string(array.bytes.size()) + " bytes");
}

template <typename Target>
void toNumbers(const NpyArray& array, Target* out) {
  requireConsistent(array);
  if (array.kind == NpyKind::UnicodeString || array.kind == NpyKind::ByteString)
    throw Error(std::string("cannot read a ") + kindName(array.kind) + " array as numbers");
  const auto count = static_cast<std::size_t>(array.elementCount());
  const int size = array.itemSize;
  switch (array.kind) {
    case NpyKind::Bool:
      for (std::size_t i = 0; i < count; ++i) out[i] = array.bytes[i] != 0 ? Target(1) : Target(0);
      break;
    case NpyKind::SignedInt:
      if (size == 1)
        convertAll<Target, std::int8_t>(array, out, count);
      else if (size == 2)
        convertAll<Target, std::int16_t>(array, out, count);
      else if (size == 4)
        convertAll<Target, std::int32_t>(array, out, count);
      else
        convertAll<Target, std::int64_t>(array, out, count);
      break;
    case NpyKind::UnsignedInt:
      if (size == 1)
        convertAll<Target, std::uint8_t>(array, out, count);
      else if (size == 2)
        convertAll<Target, std::uint16_t>(array, out, count);
      else if (size == 4)
        convertAll<Target, std::uint32_t>(array, out, count);
      else
        convertAll<Target, std::uint64_t>(array, out, count);
      break;
    case NpyKind::Float:
      if (size == 2) {
        for (std::size_t i = 0; i < count; ++i)
          out[i] =
              static_cast<Target>(halfToFloat(loadAt<std::uint16_t>(array.bytes.data(), static_cast<std::int64_t>(i))));
      } else if (size == 4) {
        convertAll<Target, float>(array, out, count);
      } else {
        convertAll<Target, double>(array, out, count);
      }
      break;
    case NpyKind::UnicodeString:
    case NpyKind::ByteString:
      break;
  }
}

template <typename Target>
std::vector<Target> toNumbers(const NpyArray& array) {
  std::vector<Target> out(static_cast<std::size_t>(array.elementCount()));
  toNumbers(array, out.data());
  return out;
}

void appendUtf8(std::string& out, std::uint32_t codePoint) {
  if (codePoint < 0x80) {
    out += static_cast<char>(codePoint);
  } else if (codePoint < 0x800) {
    out += static_cast<char>(0xc0 | (codePoint >> 6));
    out += static_cast<char>(0x80 | (codePoint & 0x3f));
  } else if (codePoint < 0x10000) {
    out += static_cast<char>(0xe0 | (codePoint >> 12));
    out += static_cast<char>(0x80 | ((codePoint >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (codePoint & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (codePoint >> 18));
    out += static_cast<char>(0x80 | ((codePoint >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((codePoint >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (codePoint & 0x3f));
  }
}

bool isValidCodePoint(std::uint32_t codePoint) {
  return codePoint <= 0x10ffff && !(codePoint >= 0xd800 && codePoint <= 0xdfff);
}

[[noreturn]] void invalidUtf8(const std::string& text) {
  throw Error("invalid UTF-8 in string \"" + text + "\"");
}

// Strict UTF-8 decoding (no overlong forms, surrogates or values past U+10FFFF).
std::vector<std::uint32_t> decodeUtf8(const std::string& text) {
  std::vector<std::uint32_t> codePoints;
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    int length;
    std::uint32_t codePoint;
    if (lead < 0x80) {
      length = 1;
      codePoint = lead;
    } else if ((lead & 0xe0) == 0xc0) {
      length = 2;
      codePoint = lead & 0x1f;
    } else if ((lead & 0xf0) == 0xe0) {
      length = 3;
      codePoint = lead & 0x0f;
    } else if ((lead & 0xf8) == 0xf0) {
      length = 4;
      codePoint = lead & 0x07;
    } else {
      invalidUtf8(text);
    }
    if (i + static_cast<std::size_t>(length) > text.size()) invalidUtf8(text);
    for (int k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + static_cast<std::size_t>(k)]);
      if ((next & 0xc0) != 0x80) invalidUtf8(text);
      codePoint = (codePoint << 6) | (next & 0x3f);
    }
    static constexpr std::uint32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (codePoint < kSmallest[length] || !isValidCodePoint(codePoint)) invalidUtf8(text);
    codePoints.push_back(codePoint);
    i += static_cast<std::size_t>(length);
  }
  return codePoints;
}

std::string descrFor(const NpyArray& array) {
  const std::string size = std::to_string(array.itemSize);
  switch (array.kind) {
    case NpyKind::Bool:
      return "|b1";
    case NpyKind::SignedInt:
      return (array.itemSize == 1 ? "|i" : "<i") + size;
    case NpyKind::UnsignedInt:
      return (array.itemSize == 1 ? "|u" : "<u") + size;
    case NpyKind::Float:
      return "<f" + size;
    case NpyKind::UnicodeString:
      return "<U" + std::to_string(array.itemSize / 4);
    case NpyKind::ByteString:
      return "|S" + size;
  }
  return "";
}

// The preamble and padded header NumPy itself would write for `array`.
std::string headerFor(const NpyArray& array) {
  const std::string dict =
      "{'descr': '" + descrFor(array) + "', 'fortran_order': False, 'shape': " + shapeText(array.shape) + ", }";
  for (const std::size_t preamble : {std::size_t{10}, std::size_t{12}}) {
    // The dict, spaces to the alignment, then a newline.
    std::size_t total = preamble + dict.size() + 1;
    total = (total + kHeaderAlignment - 1) / kHeaderAlignment * kHeaderAlignment;
    const std::size_t headerLength = total - preamble;
    if (preamble == 10 && headerLength > kVersion1MaxHeader) continue;
    std::string out(kMagic, kMagicSize);
    out += static_cast<char>(preamble == 10 ? 1 : 2);
    out += '\0';
    for (std::size_t i = 0; i < preamble - 8; ++i) out += static_cast<char>((headerLength >> (8 * i)) & 0xff);
    out += dict;
    out.append(headerLength - dict.size() - 1, ' ');
    out += '\n';
    return out;
  }
  return "";
}

void writeAll(int fd, const char* data, std::size_t size, const std::string& name) {
  while (size > 0) {
    const ssize_t written = ::write(fd, data, size);
    if (written < 0) {
      if (errno == EINTR) continue;
      throw FileError(name, "cannot write: " + errnoText());
    }
    data += written;
    size -= static_cast<std::size_t>(written);
  }
}

template <typename Value>
NpyArray makeNumeric(const std::vector<Value>& values, std::vector<std::int64_t> shape, NpyKind kind) {
  std::int64_t count = 0;
  if (!countElements(shape, count) || count != static_cast<std::int64_t>(values.size()))
    throw Error("makeNpy: shape " + shapeText(shape) + " does not hold " + std::to_string(values.size()) + " values");
  NpyArray array;
  array.kind = kind;
  array.itemSize = static_cast<int>(sizeof(Value));
  array.shape = std::move(shape);
  array.bytes.resize(values.size() * sizeof(Value));
  if (!values.empty()) std::memcpy(array.bytes.data(), values.data(), array.bytes.size());
  return array;
}

}  // namespace

std::int64_t NpyArray::elementCount() const {
  std::int64_t count = 0;
  if (!countElements(shape, count)) throw Error("invalid .npy shape " + shapeText(shape));
  return count;
}

std::vector<float> NpyArray::toFloat() const {
  return toNumbers<float>(*this);
}
void NpyArray::copyAsFloat(float* destination) const {
  toNumbers(*this, destination);
}
std::vector<double> NpyArray::toDouble() const {
  return toNumbers<double>(*this);
}

std::vector<std::int64_t> NpyArray::toInt64() const {
  if (kind == NpyKind::Float) throw Error("cannot read a float array as integers");
  if (kind == NpyKind::UnsignedInt && itemSize == 8) {
    requireConsistent(*this);
    const std::int64_t count = elementCount();
    for (std::int64_t i = 0; i < count; ++i) {
      const auto value = loadAt<std::uint64_t>(bytes.data(), i);
      if (value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        throw Error("uint64 value " + std::to_string(value) + " does not fit in a signed 64-bit integer");
    }
  }
  return toNumbers<std::int64_t>(*this);
}

std::vector<std::string> NpyArray::toStrings() const {
  requireConsistent(*this);
  if (kind != NpyKind::UnicodeString && kind != NpyKind::ByteString)
    throw Error(std::string("cannot read a ") + kindName(kind) + " array as strings");
  const auto count = static_cast<std::size_t>(elementCount());
  const auto item = static_cast<std::size_t>(itemSize);
  std::vector<std::string> out(count);
  for (std::size_t e = 0; e < count; ++e) {
    const char* element = bytes.data() + e * item;
    if (kind == NpyKind::ByteString) {
      std::size_t length = item;
      while (length > 0 && element[length - 1] == '\0') --length;
      out[e].assign(element, length);
      continue;
    }
    std::size_t length = item / 4;
    while (length > 0 && loadAt<std::uint32_t>(element, static_cast<std::int64_t>(length - 1)) == 0) --length;
    std::string& text = out[e];
    text.reserve(length);
    for (std::size_t k = 0; k < length; ++k) {
      const auto codePoint = loadAt<std::uint32_t>(element, static_cast<std::int64_t>(k));
      if (!isValidCodePoint(codePoint))
        throw Error("invalid Unicode code point " + std::to_string(codePoint) + " in string " + std::to_string(e));
      appendUtf8(text, codePoint);
    }
  }
  return out;
}

NpyArray parseNpy(const char* data, std::size_t size, const std::string& nameForErrors) {
  const std::size_t dataOffset = parsePreamble(data, size, nameForErrors);
  NpyHeader header = parseHeader(data, dataOffset, size, nameForErrors);
  std::vector<char> bytes(data + header.dataOffset, data + header.dataOffset + header.dataBytes);
  return finishArray(std::move(header), std::move(bytes));
}

NpyArray readNpy(const std::filesystem::path& path) {
  const std::string name = path.string();
  requireRegularFile(path);  // before open(): opening a FIFO blocks until something writes to it
  FileDescriptor file(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (file.get() < 0) throw FileError(name, "cannot open: " + errnoText());
  struct stat info {};
  if (::fstat(file.get(), &info) != 0) throw FileError(name, "cannot read: " + errnoText());
  if (!S_ISREG(info.st_mode)) throw FileError(name, "not a regular file");
  const auto fileSize = static_cast<std::size_t>(info.st_size);

  // One read brings the header and usually all of a small file; the data then goes straight
  // into the array's own buffer, so nothing is copied twice.
  char prefix[kPrefixReadSize];
  const std::size_t prefixSize = readFully(file.get(), prefix, std::min(fileSize, kPrefixReadSize), name);
  if (prefixSize < std::min(fileSize, kPrefixReadSize))
    throw FileError(name, "the file shrank while it was being read");
  const std::size_t dataOffset = parsePreamble(prefix, fileSize, name);
  std::string longHeader;  // only for headers that do not fit in the prefix (2.0 and 3.0 allow 4 GiB)
  const char* headerBytes = prefix;
  std::size_t headerBytesSize = prefixSize;
  if (dataOffset > prefixSize) {
    longHeader.assign(prefix, prefixSize);
    longHeader.resize(dataOffset);
    const std::size_t rest = dataOffset - prefixSize;
    if (readFully(file.get(), longHeader.data() + prefixSize, rest, name) != rest)
      throw FileError(name, "the file shrank while it was being read");
    headerBytes = longHeader.data();
    headerBytesSize = longHeader.size();
  }
  NpyHeader header = parseHeader(headerBytes, dataOffset, fileSize, name);

  std::vector<char> bytes(header.dataBytes);
  const std::size_t alreadyRead = headerBytesSize > header.dataOffset ? headerBytesSize - header.dataOffset : 0;
  const std::size_t fromPrefix = std::min(alreadyRead, header.dataBytes);
  if (fromPrefix > 0) std::memcpy(bytes.data(), headerBytes + header.dataOffset, fromPrefix);
  const std::size_t remaining = header.dataBytes - fromPrefix;
  if (remaining > 0 && readFully(file.get(), bytes.data() + fromPrefix, remaining, name) != remaining)
    throw FileError(name, "the file shrank while it was being read");
  return finishArray(std::move(header), std::move(bytes));
}

void writeNpy(const std::filesystem::path& path, const NpyArray& array) {
  const std::string name = path.string();
  try {
    requireConsistent(array);
  } catch (const Error& e) {
    throw FileError(name, std::string("cannot write: ") + e.what());
  }
  const std::string header = headerFor(array);
  writeAtomically(path, [&](const std::filesystem::path& temporary) {
    FileDescriptor file(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (file.get() < 0) throw FileError(name, "cannot open for writing: " + errnoText());
    writeAll(file.get(), header.data(), header.size(), name);
    writeAll(file.get(), array.bytes.data(), array.bytes.size(), name);
  });
}

NpyArray makeNpy(const std::vector<float>& values, std::vector<std::int64_t> shape) {
  return makeNumeric(values, std::move(shape), NpyKind::Float);
}

NpyArray makeNpy(const std::vector<double>& values, std::vector<std::int64_t> shape) {
  return makeNumeric(values, std::move(shape), NpyKind::Float);
}

NpyArray makeNpy(const std::vector<std::int64_t>& values, std::vector<std::int64_t> shape) {
  return makeNumeric(values, std::move(shape), NpyKind::SignedInt);
}

NpyArray makeNpy(const std::vector<std::string>& values, std::vector<std::int64_t> shape) {
  std::int64_t count = 0;
  if (!countElements(shape, count) || count != static_cast<std::int64_t>(values.size()))
    throw Error("makeNpy: shape " + shapeText(shape) + " does not hold " + std::to_string(values.size()) + " strings");
  std::vector<std::vector<std::uint32_t>> decoded;
  decoded.reserve(values.size());
  std::size_t width = 1;  // NumPy has no zero-width U dtype
  for (const auto& value : values) {
    decoded.push_back(decodeUtf8(value));
    width = std::max(width, decoded.back().size());
  }
  NpyArray array;
  array.kind = NpyKind::UnicodeString;
  array.itemSize = static_cast<int>(width * 4);
  array.shape = std::move(shape);
  array.bytes.assign(values.size() * width * 4, '\0');
  for (std::size_t e = 0; e < decoded.size(); ++e)
    if (!decoded[e].empty()) std::memcpy(array.bytes.data() + e * width * 4, decoded[e].data(), decoded[e].size() * 4);
  return array;
}

}  // namespace bp
