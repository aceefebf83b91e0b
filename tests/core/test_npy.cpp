// The .npy reader and writer against files written byte by byte here, so the tests need no
// Python: every dtype in both byte orders, Fortran order, 0-d arrays, format versions 2.0 and 3.0,
// padded strings, round trips, and every kind of corrupt file.
#include <QtTest>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "data/npy.h"
#include "runtime/error.h"
#include "test_registry.h"
#include "test_support.h"

using bp::NpyArray;
using bp::NpyKind;

namespace {

// The preamble and padded header of a .npy file, as NumPy writes it, followed by `data`.
std::string npyFile(const std::string& dict, const std::string& data, int major = 1) {
  const std::size_t preamble = major == 1 ? 10 : 12;
  std::size_t headerLength = dict.size() + 1;
  while ((preamble + headerLength) % 64 != 0) ++headerLength;
  std::string file = "\x93NUMPY";
  file += static_cast<char>(major);
  file += '\0';
  for (std::size_t i = 0; i < preamble - 8; ++i) file += static_cast<char>((headerLength >> (8 * i)) & 0xff);
  file += dict;
  file.append(headerLength - dict.size() - 1, ' ');
  file += '\n';
  return file + data;
}

std::string dictFor(const std::string& descr, const std::string& shape, bool fortran = false) {
  return "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': " + shape + ", }";
}

template <typename T>
std::string littleEndian(std::initializer_list<T> values) {
  std::string bytes;
  for (const T value : values) {
    char raw[sizeof(T)];
    std::memcpy(raw, &value, sizeof(T));
    bytes.append(raw, sizeof(T));
  }
  return bytes;
}

template <typename T>
std::string bigEndian(std::initializer_list<T> values) {
  std::string bytes;
  for (const T value : values) {
    char raw[sizeof(T)];
    std::memcpy(raw, &value, sizeof(T));
    for (std::size_t i = sizeof(T); i > 0; --i) bytes += raw[i - 1];
  }
  return bytes;
}

// UTF-32 little-endian code units, each string padded with NULs to `width` characters.
std::string utf32(const std::vector<std::u32string>& strings, std::size_t width, bool big = false) {
  std::string bytes;
  for (const auto& text : strings) {
    std::u32string padded = text;
    padded.resize(width, U'\0');
    for (const char32_t c : padded) {
      const auto unit = static_cast<std::uint32_t>(c);
      bytes += big ? bigEndian<std::uint32_t>({unit}) : littleEndian<std::uint32_t>({unit});
    }
  }
  return bytes;
}

QByteArray toQByteArray(const std::string& bytes) {
  return QByteArray(bytes.data(), static_cast<qsizetype>(bytes.size()));
}

NpyArray parse(const std::string& file, const std::string& name = "fixture.npy") {
  return bp::parseNpy(file.data(), file.size(), name);
}

}  // namespace

class TestNpy : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void readsEveryNumericDtype_data() {
    QTest::addColumn<QString>("descr");
    QTest::addColumn<QByteArray>("data");
    QTest::addColumn<int>("kind");
    QTest::addColumn<int>("itemSize");
    QTest::addColumn<QList<double>>("expected");
    const auto row = [](const char* name, const char* descr, const std::string& data, NpyKind kind, int itemSize,
                        QList<double> expected) {
      QTest::newRow(name) << QString(descr) << toQByteArray(data) << static_cast<int>(kind) << itemSize << expected;
    };
    row("b1", "|b1", std::string("\x01\x00\x01", 3), NpyKind::Bool, 1, {1, 0, 1});
    row("i1", "|i1", littleEndian<std::int8_t>({-128, 0, 127}), NpyKind::SignedInt, 1, {-128, 0, 127});
    row("<i2", "<i2", littleEndian<std::int16_t>({-32768, 1, 32767}), NpyKind::SignedInt, 2, {-32768, 1, 32767});
    row(">i2", ">i2", bigEndian<std::int16_t>({-32768, 1, 32767}), NpyKind::SignedInt, 2, {-32768, 1, 32767});
    row("<i4", "<i4", littleEndian<std::int32_t>({-2000000000, 5, 7}), NpyKind::SignedInt, 4, {-2000000000, 5, 7});
    row(">i4", ">i4", bigEndian<std::int32_t>({-2000000000, 5, 7}), NpyKind::SignedInt, 4, {-2000000000, 5, 7});
    row("<i8", "<i8", littleEndian<std::int64_t>({-5000000000LL, 0, 9}), NpyKind::SignedInt, 8, {-5e9, 0, 9});
    row(">i8", ">i8", bigEndian<std::int64_t>({-5000000000LL, 0, 9}), NpyKind::SignedInt, 8, {-5e9, 0, 9});
    row("u1", "|u1", littleEndian<std::uint8_t>({0, 128, 255}), NpyKind::UnsignedInt, 1, {0, 128, 255});
    row("<u2", "<u2", littleEndian<std::uint16_t>({0, 1, 65535}), NpyKind::UnsignedInt, 2, {0, 1, 65535});
    row(">u2", ">u2", bigEndian<std::uint16_t>({0, 1, 65535}), NpyKind::UnsignedInt, 2, {0, 1, 65535});
    row("<u4", "<u4", littleEndian<std::uint32_t>({0, 1, 4000000000U}), NpyKind::UnsignedInt, 4, {0, 1, 4e9});
    row(">u4", ">u4", bigEndian<std::uint32_t>({0, 1, 4000000000U}), NpyKind::UnsignedInt, 4, {0, 1, 4e9});
    row("<u8", "<u8", littleEndian<std::uint64_t>({0, 1, 1ULL << 40}), NpyKind::UnsignedInt, 8,
        {0, 1, 1099511627776.0});
    row(">u8", ">u8", bigEndian<std::uint64_t>({0, 1, 1ULL << 40}), NpyKind::UnsignedInt, 8, {0, 1, 1099511627776.0});
    // Half floats: 1.0, -2.0, 65504 (largest), 2^-24 (smallest subnormal).
    row("<f2", "<f2", littleEndian<std::uint16_t>({0x3c00, 0xc000, 0x7bff, 0x0001}), NpyKind::Float, 2,
        {1.0, -2.0, 65504.0, 5.9604644775390625e-08});
    row(">f2", ">f2", bigEndian<std::uint16_t>({0x3c00, 0xc000, 0x7bff, 0x0001}), NpyKind::Float, 2,
        {1.0, -2.0, 65504.0, 5.9604644775390625e-08});
    row("<f4", "<f4", littleEndian<float>({1.5f, -0.25f, 255.0f}), NpyKind::Float, 4, {1.5, -0.25, 255.0});
    row(">f4", ">f4", bigEndian<float>({1.5f, -0.25f, 255.0f}), NpyKind::Float, 4, {1.5, -0.25, 255.0});
    row("=f4", "=f4", littleEndian<float>({1.5f, -0.25f, 255.0f}), NpyKind::Float, 4, {1.5, -0.25, 255.0});
    row("<f8", "<f8", littleEndian<double>({0.1, -1e300, 3.0}), NpyKind::Float, 8, {0.1, -1e300, 3.0});
    row(">f8", ">f8", bigEndian<double>({0.1, -1e300, 3.0}), NpyKind::Float, 8, {0.1, -1e300, 3.0});
  }

  void readsEveryNumericDtype() {
    QFETCH(QString, descr);
    QFETCH(QByteArray, data);
    QFETCH(int, kind);
    QFETCH(int, itemSize);
    QFETCH(QList<double>, expected);
    const auto count = std::to_string(expected.size());
    const NpyArray array =
        parse(npyFile(dictFor(descr.toStdString(), "(" + count + ",)"), std::string(data.constData(), data.size())));
    QCOMPARE(static_cast<int>(array.kind), kind);
    QCOMPARE(array.itemSize, itemSize);
    QCOMPARE(array.shape, std::vector<std::int64_t>{expected.size()});
    QCOMPARE(array.elementCount(), expected.size());
    const auto values = array.toDouble();
    const auto floats = array.toFloat();
    for (qsizetype i = 0; i < expected.size(); ++i) {
      QCOMPARE(values[static_cast<std::size_t>(i)], expected[i]);
      QCOMPARE(floats[static_cast<std::size_t>(i)], static_cast<float>(expected[i]));
    }
    // After reading, bytes are little-endian whatever the file's order.
    if (array.kind != NpyKind::Float && array.kind != NpyKind::Bool) {
      const auto integers = array.toInt64();
      for (qsizetype i = 0; i < expected.size(); ++i)
        QCOMPARE(static_cast<double>(integers[static_cast<std::size_t>(i)]), expected[i]);
    }
  }

  void readsHalfFloatInfinityAndNan() {
    const NpyArray array =
        parse(npyFile(dictFor("<f2", "(3,)"), littleEndian<std::uint16_t>({0x7c00, 0xfc00, 0x7e00})));
    const auto values = array.toFloat();
    QVERIFY(std::isinf(values[0]) && values[0] > 0);
    QVERIFY(std::isinf(values[1]) && values[1] < 0);
    QVERIFY(std::isnan(values[2]));
  }

  void readsUnicodeStringsStrippingPadding() {
    // '<U10' like meta/trials/tiers.npy: "train", "validation", "test" padded with NULs.
    const NpyArray array = parse(npyFile(dictFor("<U10", "(3,)"), utf32({U"train", U"validation", U"test"}, 10)));
    QCOMPARE(static_cast<int>(array.kind), static_cast<int>(NpyKind::UnicodeString));
    QCOMPARE(array.itemSize, 40);
    QCOMPARE(array.toStrings(), (std::vector<std::string>{"train", "validation", "test"}));
  }

  void readsBigEndianUnicodeStringsAsUtf8() {
    const NpyArray array = parse(npyFile(dictFor(">U3", "(2,)"), utf32({U"L2/", U"\u00e9\U0001F600"}, 3, true)));
    QCOMPARE(array.toStrings(), (std::vector<std::string>{"L2/", "\xc3\xa9\xf0\x9f\x98\x80"}));
  }

  void readsByteStringsKeepingInnerNuls() {
    const std::string data = std::string("ab\0\0\0", 5) + std::string("a\0b\0\0", 5) + std::string("hello", 5);
    const NpyArray array = parse(npyFile(dictFor("|S5", "(3,)"), data));
    QCOMPARE(static_cast<int>(array.kind), static_cast<int>(NpyKind::ByteString));
    QCOMPARE(array.toStrings(), (std::vector<std::string>{"ab", std::string("a\0b", 3), "hello"}));
  }

  void readsZeroDimensionalArrayAsOneElement() {
    const NpyArray array = parse(npyFile(dictFor("<f4", "()"), littleEndian<float>({113.5f})));
    QVERIFY(array.shape.empty());
    QCOMPARE(array.elementCount(), 1);
    QCOMPARE(array.toFloat(), std::vector<float>{113.5f});
  }

  void readsEmptyArray() {
    const NpyArray array = parse(npyFile(dictFor("<f8", "(0, 3)"), ""));
    QCOMPARE(array.shape, (std::vector<std::int64_t>{0, 3}));
    QCOMPARE(array.elementCount(), 0);
    QVERIFY(array.toDouble().empty());
  }

  void convertsFortranOrder2dToCOrder() {
    // C order [[1, 2, 3], [4, 5, 6]] stored column by column.
    const NpyArray array = parse(npyFile(dictFor("<f8", "(2, 3)", true), littleEndian<double>({1, 4, 2, 5, 3, 6})));
    QCOMPARE(array.shape, (std::vector<std::int64_t>{2, 3}));
    QCOMPARE(array.toDouble(), (std::vector<double>{1, 2, 3, 4, 5, 6}));
  }

  void convertsBigEndianFortranOrder3dToCOrder() {
    // Element (i, j, k) of shape (2, 3, 4) has value 100i + 10j + k; Fortran order varies i fastest.
    std::string data;
    for (int k = 0; k < 4; ++k)
      for (int j = 0; j < 3; ++j)
        for (int i = 0; i < 2; ++i) data += bigEndian<std::int32_t>({100 * i + 10 * j + k});
    const NpyArray array = parse(npyFile(dictFor(">i4", "(2, 3, 4)", true), data));
    std::vector<std::int64_t> expected;
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 3; ++j)
        for (int k = 0; k < 4; ++k) expected.push_back(100 * i + 10 * j + k);
    QCOMPARE(array.toInt64(), expected);
  }

  void readsFormatVersions2And3() {
    for (const int major : {2, 3}) {
      const NpyArray array = parse(npyFile(dictFor("<i8", "(2,)"), littleEndian<std::int64_t>({4, 5}), major));
      QCOMPARE(array.toInt64(), (std::vector<std::int64_t>{4, 5}));
    }
  }

  void parsesHeaderWrittenInOtherWays_data() {
    QTest::addColumn<QString>("dict");
    QTest::newRow("keys reordered") << "{'shape': (1, 2, 3), 'fortran_order': False, 'descr': '<f4'}";
    QTest::newRow("double quotes, no spaces") << "{\"descr\":\"<f4\",\"fortran_order\":False,\"shape\":(1,2,3)}";
    QTest::newRow("extra spaces and trailing commas") << "  { 'descr' : '<f4' ,  'fortran_order' : False , "
                                                         "'shape' : ( 1 , 2 , 3 , ) , }  ";
    QTest::newRow("python 2 long integers") << "{'descr': '<f4', 'fortran_order': False, 'shape': (1L, 2L, 3L), }";
  }

  void parsesHeaderWrittenInOtherWays() {
    QFETCH(QString, dict);
    const NpyArray array = parse(npyFile(dict.toStdString(), littleEndian<float>({1, 2, 3, 4, 5, 6})));
    QCOMPARE(array.shape, (std::vector<std::int64_t>{1, 2, 3}));
    QCOMPARE(array.toFloat(), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  }

  void writesTheSameBytesAsNumPy() {
    // What numpy 1.24's np.save(f, np.arange(3, dtype='<f4')) writes.
    bp::test::ScratchDir scratch;
    const auto path = scratch / "arange.npy";
    bp::writeNpy(path, bp::makeNpy(std::vector<float>{0, 1, 2}, {3}));
    const std::string expected = npyFile(dictFor("<f4", "(3,)"), littleEndian<float>({0, 1, 2}));
    QCOMPARE(expected.size(), std::size_t{140});
    QCOMPARE(toQByteArray(bp::test::readBytes(path)), toQByteArray(expected));
  }

  void roundTripsEveryMadeKind() {
    bp::test::ScratchDir scratch;
    const auto floats = bp::makeNpy(std::vector<float>{1.5f, -2, 3, 4, 5, 6}, {1, 2, 3});
    const auto doubles = bp::makeNpy(std::vector<double>{0.1}, {});
    const auto integers = bp::makeNpy(std::vector<std::int64_t>{-1, 1LL << 50}, {2});
    const auto strings = bp::makeNpy(std::vector<std::string>{"V1", "", "L2/3 \xc3\xa9"}, {3});
    QCOMPARE(strings.itemSize, 4 * 6);
    for (const auto* array : {&floats, &doubles, &integers, &strings}) {
      const auto path = scratch / "roundtrip.npy";
      bp::writeNpy(path, *array);
      const std::string file = bp::test::readBytes(path);
      QCOMPARE(file[6], '\x01');
      QCOMPARE(file.size() % 64, array->bytes.size() % 64);  // the header is padded to 64 bytes
      const NpyArray back = bp::readNpy(path);
      QCOMPARE(static_cast<int>(back.kind), static_cast<int>(array->kind));
      QCOMPARE(back.itemSize, array->itemSize);
      QCOMPARE(back.shape, array->shape);
      QVERIFY(back.bytes == array->bytes);
    }
    QCOMPARE(bp::readNpy(scratch / "roundtrip.npy").toStrings(), (std::vector<std::string>{"V1", "", "L2/3 \xc3\xa9"}));
  }

  void roundTripsOtherKindsInLittleEndian() {
    bp::test::ScratchDir scratch;
    const auto path = scratch / "u2.npy";
    const NpyArray bigEndianFile = parse(npyFile(dictFor(">u2", "(2,)"), bigEndian<std::uint16_t>({258, 65535})));
    bp::writeNpy(path, bigEndianFile);
    QVERIFY(bp::test::readBytes(path).find("'descr': '<u2'") != std::string::npos);
    QCOMPARE(bp::readNpy(path).toInt64(), (std::vector<std::int64_t>{258, 65535}));
  }

  void writesVersion2WhenTheHeaderIsLong() {
    bp::test::ScratchDir scratch;
    const auto path = scratch / "many-dimensions.npy";
    // 25,000 dimensions of size 1 need a header longer than version 1.0's 65,535 bytes.
    bp::writeNpy(path, bp::makeNpy(std::vector<float>{7}, std::vector<std::int64_t>(25000, 1)));
    const std::string file = bp::test::readBytes(path);
    QCOMPARE(file[6], '\x02');
    QCOMPARE(file.size() % 64, std::size_t{4});
    const NpyArray back = bp::readNpy(path);
    QCOMPARE(back.shape.size(), std::size_t{25000});
    QCOMPARE(back.toFloat(), std::vector<float>{7});
  }

  void rejectsCorruptFilesNamingThem_data() {
    QTest::addColumn<QByteArray>("file");
    QTest::addColumn<QString>("problem");
    const std::string floats = littleEndian<float>({1, 2, 3});
    const std::string good = npyFile(dictFor("<f4", "(3,)"), floats);
    const auto row = [](const char* name, const std::string& file, const char* problem) {
      QTest::newRow(name) << toQByteArray(file) << QString(problem);
    };
    row("empty file", "", "truncated header");
    row("bad magic", "PK\x03\x04 not numpy at all, a zip file", "bad magic");
    row("bad magic, short", "\x93NUMPZ", "bad magic");
    row("preamble cut", good.substr(0, 8), "truncated header");
    row("header cut", good.substr(0, 40), "truncated header");
    row("data cut", good.substr(0, good.size() - 5), "needs 12 bytes but the file has 7");
    row("bytes after data", good + "xx", "needs 12 bytes but the file has 14");
    row("version 4.0", "\x93NUMPY\x04" + good.substr(7), "unsupported .npy format version 4.0");
    row("object array", npyFile(dictFor("|O", "(3,)"), floats), "unsupported dtype '|O'");
    row("complex", npyFile(dictFor("<c8", "(3,)"), floats), "unsupported dtype '<c8'");
    row("long double", npyFile(dictFor("<f16", "(3,)"), floats), "unsupported dtype '<f16'");
    row("int3", npyFile(dictFor("<i3", "(3,)"), floats), "unsupported dtype '<i3'");
    row("structured", npyFile("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (3,), }", floats),
        "structured arrays");
    row("not a dict", npyFile("hello", floats), "malformed header");
    row("missing shape", npyFile("{'descr': '<f4', 'fortran_order': False, }", floats), "no 'shape' key");
    row("missing descr", npyFile("{'fortran_order': False, 'shape': (3,), }", floats), "no 'descr' key");
    row("unexpected key", npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'x': 1}", floats),
        "unexpected key 'x'");
    row("duplicate key", npyFile("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (3,)}", floats),
        "appears twice");
    row("unterminated string", npyFile("{'descr': '<f4", floats), "unterminated string");
    row("fortran_order not bool", npyFile("{'descr': '<f4', 'fortran_order': 0, 'shape': (3,)}", floats),
        "True or False");
    row("shape not a tuple", npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': 3}", floats),
        "'shape' to be a tuple");
    row("shape with junk", npyFile(dictFor("<f4", "(3 4)"), floats), "expected ',' or ')'");
    row("negative dimension", npyFile(dictFor("<f4", "(-3,)"), floats), "negative dimension");
    row("dimension past 64 bits", npyFile(dictFor("<f4", "(99999999999999999999,)"), floats), "64 bits");
    row("shape product overflows", npyFile(dictFor("<f8", "(4294967296, 4294967296)"), floats), "too large");
    row("text after dict", npyFile(dictFor("<f4", "(3,)") + " extra", floats), "after the header dict");
  }

  void rejectsCorruptFilesNamingThem() {
    QFETCH(QByteArray, file);
    QFETCH(QString, problem);
    bp::test::ScratchDir scratch;
    const auto path = scratch / "corrupt-fixture.npy";
    bp::test::writeBytes(path, std::string(file.constData(), static_cast<std::size_t>(file.size())));
    try {
      bp::readNpy(path);
      QFAIL("readNpy accepted a corrupt file");
    } catch (const bp::FileError& e) {
      const QString message = QString::fromStdString(e.what());
      QVERIFY2(message.contains(QString::fromStdString(path.string())), qPrintable(message));
      QVERIFY2(message.contains(problem), qPrintable(message));
    }
    // parseNpy reports the same problem under the name it is given.
    try {
      bp::parseNpy(file.constData(), static_cast<std::size_t>(file.size()), "in-memory.npy");
      QFAIL("parseNpy accepted a corrupt buffer");
    } catch (const bp::FileError& e) {
      QCOMPARE(QString::fromStdString(e.path()), QString("in-memory.npy"));
      QVERIFY2(QString::fromStdString(e.problem()).contains(problem), e.what());
    }
  }

  void rejectsMissingFileNamingIt() {
    bp::test::ScratchDir scratch;
    const auto path = scratch / "absent.npy";
    try {
      bp::readNpy(path);
      QFAIL("readNpy accepted a missing file");
    } catch (const bp::FileError& e) {
      QCOMPARE(e.path(), path.string());
      QVERIFY2(QString(e.what()).contains("does not exist"), e.what());
    }
  }

  void refusesConversionsAcrossNumbersAndStrings() {
    const NpyArray floats = bp::makeNpy(std::vector<float>{1.5f}, {1});
    const NpyArray strings = bp::makeNpy(std::vector<std::string>{"a"}, {1});
    QVERIFY_EXCEPTION_THROWN(floats.toInt64(), bp::Error);
    QVERIFY_EXCEPTION_THROWN(floats.toStrings(), bp::Error);
    QVERIFY_EXCEPTION_THROWN(strings.toFloat(), bp::Error);
    QVERIFY_EXCEPTION_THROWN(strings.toDouble(), bp::Error);
    QVERIFY_EXCEPTION_THROWN(strings.toInt64(), bp::Error);
  }

  void refusesUint64ValuesPastInt64() {
    const NpyArray array = parse(npyFile(dictFor("<u8", "(2,)"), littleEndian<std::uint64_t>({1, 1ULL << 63})));
    QVERIFY_EXCEPTION_THROWN(array.toInt64(), bp::Error);
    QCOMPARE(array.toDouble()[1], 9223372036854775808.0);
  }

  void refusesInvalidUnicodeCodePoints() {
    const NpyArray array = parse(npyFile(dictFor("<U1", "(1,)"), littleEndian<std::uint32_t>({0xd800})));
    QVERIFY_EXCEPTION_THROWN(array.toStrings(), bp::Error);
  }

  void makeNpyRefusesShapeNotHoldingTheValues() {
    QVERIFY_EXCEPTION_THROWN(bp::makeNpy(std::vector<float>{1, 2, 3}, {2, 2}), bp::Error);
    QVERIFY_EXCEPTION_THROWN(bp::makeNpy(std::vector<std::string>{"a"}, {2}), bp::Error);
    QVERIFY_EXCEPTION_THROWN(bp::makeNpy(std::vector<std::string>{"\xff"}, {1}), bp::Error);
  }

  void writeNpyRefusesInconsistentArrayNamingTheFile() {
    bp::test::ScratchDir scratch;
    NpyArray array = bp::makeNpy(std::vector<float>{1, 2}, {2});
    array.shape = {3};
    const auto path = scratch / "inconsistent.npy";
    try {
      bp::writeNpy(path, array);
      QFAIL("writeNpy accepted an array whose bytes do not match its shape");
    } catch (const bp::FileError& e) {
      QCOMPARE(e.path(), path.string());
    }
    QVERIFY(!std::filesystem::exists(path));
  }
};

BRAINPRIOR_TEST_CLASS(TestNpy)
#include "test_npy.moc"
