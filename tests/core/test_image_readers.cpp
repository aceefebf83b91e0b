// Image collection readers: IDX (raw and gzip), CIFAR-10/100 binary batches, folders of class
// subfolders, the shared load options against hand-computed pixels, and malformed inputs.
#include <zlib.h>

#include <QtTest>
#include <cmath>
#include <memory>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "data/image_readers.h"
#include "runtime/error.h"
#include "test_registry.h"
#include "test_support.h"

namespace {

using bp::FileError;
using bp::ImageLoadOptions;

std::string bigEndian32(std::uint32_t value) {
  return {static_cast<char>(value >> 24), static_cast<char>(value >> 16), static_cast<char>(value >> 8),
          static_cast<char>(value)};
}

std::string idxImages(std::uint32_t count, std::uint32_t rows, std::uint32_t columns, const std::vector<int>& pixels) {
  std::string bytes = bigEndian32(0x00000803) + bigEndian32(count) + bigEndian32(rows) + bigEndian32(columns);
  for (const int pixel : pixels) bytes += static_cast<char>(pixel);
  return bytes;
}

std::string idxLabels(const std::vector<int>& labels) {
  std::string bytes = bigEndian32(0x00000801) + bigEndian32(static_cast<std::uint32_t>(labels.size()));
  for (const int label : labels) bytes += static_cast<char>(label);
  return bytes;
}

void writeGzip(const std::filesystem::path& file, const std::string& bytes) {
  std::filesystem::create_directories(file.parent_path());
  const gzFile out = gzopen(file.c_str(), "wb");
  QVERIFY(out != nullptr);
  QCOMPARE(gzwrite(out, bytes.data(), static_cast<unsigned>(bytes.size())), static_cast<int>(bytes.size()));
  QCOMPARE(gzclose(out), Z_OK);
}

// Three 2x3 images, labels 1, 0, 9.
const std::vector<int> threeImagePixels = {0,  51, 102, 153, 204, 255,  //
                                           1,  2,  3,   4,   5,   6,    //
                                           90, 80, 70,  60,  50,  40};
const std::vector<int> threeLabels = {1, 0, 9};

// A CIFAR record's planes: R(i) = i, G(i) = 7i, B(i) = 255 - i (all modulo 256).
int cifarRed(int i) {
  return i % 256;
}
int cifarGreen(int i) {
  return (i * 7) % 256;
}
int cifarBlue(int i) {
  return 255 - i % 256;
}

std::string cifarRecord(const std::vector<int>& labelBytes) {
  std::string record;
  for (const int label : labelBytes) record += static_cast<char>(label);
  for (int i = 0; i < 1024; ++i) record += static_cast<char>(cifarRed(i));
  for (int i = 0; i < 1024; ++i) record += static_cast<char>(cifarGreen(i));
  for (int i = 0; i < 1024; ++i) record += static_cast<char>(cifarBlue(i));
  return record;
}

// A 2x2 BGR image whose pixel (r, c) is (b0 + r * 2 + c, g0, r0).
cv::Mat bgrImage(int rows, int columns, int blue, int green, int red) {
  cv::Mat image(rows, columns, CV_8UC3);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < columns; ++c) image.at<cv::Vec3b>(r, c) = cv::Vec3b(blue + r * columns + c, green, red);
  return image;
}

void writeImage(const std::filesystem::path& file, const cv::Mat& image) {
  std::filesystem::create_directories(file.parent_path());
  QVERIFY(cv::imwrite(file.string(), image));
}

template <class Call>
void expectFileError(Call call, const std::filesystem::path& file, const std::string& problemFragment) {
  try {
    call();
    QFAIL("no FileError");
  } catch (const FileError& e) {
    QCOMPARE(e.path(), file.string());
    QVERIFY2(e.problem().find(problemFragment) != std::string::npos, e.what());
  }
}

bool near(float actual, double expected) {
  return std::fabs(actual - expected) < 1e-5;
}

}  // namespace

class ImageReadersTest : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void readsRawIdx() {
    bp::test::ScratchDir scratch;
    bp::test::writeBytes(scratch / "train-images-idx3-ubyte", idxImages(3, 2, 3, threeImagePixels));
    bp::test::writeBytes(scratch / "train-labels-idx1-ubyte", idxLabels(threeLabels));
    double lastProgress = -1.0;
    const bp::Job job([&](double fraction, const std::string&) { lastProgress = fraction; }, nullptr);
    const auto dataset = bp::readIdx(scratch / "train-images-idx3-ubyte", scratch / "train-labels-idx1-ubyte", {}, job);
    QCOMPARE(dataset.imageCount(), std::int64_t{3});
    QCOMPARE(dataset.channels, 1);
    QCOMPARE(dataset.height, 2);
    QCOMPARE(dataset.width, 3);
    QVERIFY((dataset.labels == std::vector<std::int32_t>{1, 0, 9}));
    QCOMPARE(dataset.classNames.size(), std::size_t{10});
    QCOMPARE(dataset.classNames[9], std::string("9"));
    for (std::size_t i = 0; i < threeImagePixels.size(); ++i)
      QVERIFY2(near(dataset.pixels[i], threeImagePixels[i] / 255.0), std::to_string(i).c_str());
    QCOMPARE(lastProgress, 1.0);
  }

  void readsGzippedIdxFolderWithFashionNames() {
    bp::test::ScratchDir scratch;
    const auto folder = scratch / "My-FASHION-copy";
    writeGzip(folder / "t10k-images-idx3-ubyte.gz", idxImages(3, 2, 3, threeImagePixels));
    writeGzip(folder / "t10k-labels-idx1-ubyte.gz", idxLabels(threeLabels));
    const auto dataset = bp::readIdxFolder(folder, "t10k");
    QCOMPARE(dataset.name, std::string("My-FASHION-copy t10k"));
    QCOMPARE(dataset.classNames.front(), std::string("T-shirt/top"));
    QCOMPARE(dataset.classNames.back(), std::string("Ankle boot"));
    QVERIFY(near(dataset.pixels[5], 1.0));
    QVERIFY(near(dataset.pixels[17], 40 / 255.0));
    expectFileError([&] { bp::readIdxFolder(folder, "train"); }, folder, "train-images-idx3-ubyte");
  }

  void idxWrongMagicNamesFile() {
    bp::test::ScratchDir scratch;
    auto images = idxImages(3, 2, 3, threeImagePixels);
    images[3] = 0x01;
    bp::test::writeBytes(scratch / "images", images);
    bp::test::writeBytes(scratch / "labels", idxLabels(threeLabels));
    expectFileError([&] { bp::readIdx(scratch / "images", scratch / "labels"); }, scratch / "images",
                    "magic number 0x00000801, expected 0x00000803");
    bp::test::writeBytes(scratch / "images", idxImages(3, 2, 3, threeImagePixels));
    bp::test::writeBytes(scratch / "labels", idxImages(3, 2, 3, threeImagePixels));
    expectFileError([&] { bp::readIdx(scratch / "images", scratch / "labels"); }, scratch / "labels",
                    "not an IDX label file");
  }

  void idxTruncatedNamesFile() {
    bp::test::ScratchDir scratch;
    const auto pixels = std::vector<int>(threeImagePixels.begin(), threeImagePixels.begin() + 14);
    bp::test::writeBytes(scratch / "images", idxImages(3, 2, 3, pixels));
    bp::test::writeBytes(scratch / "labels", idxLabels(threeLabels));
    expectFileError([&] { bp::readIdx(scratch / "images", scratch / "labels"); }, scratch / "images", "truncated");

    // A gzip stream cut short: zlib reports it, whichever way it notices.
    writeGzip(scratch / "full.gz", idxImages(3, 2, 3, threeImagePixels));
    const auto compressed = bp::test::readBytes(scratch / "full.gz");
    bp::test::writeBytes(scratch / "cut.gz", compressed.substr(0, compressed.size() - 12));
    expectFileError([&] { bp::readIdx(scratch / "cut.gz", scratch / "labels"); }, scratch / "cut.gz", "");

    bp::test::writeBytes(scratch / "header-only", bigEndian32(0x00000803) + bigEndian32(3));
    expectFileError([&] { bp::readIdx(scratch / "header-only", scratch / "labels"); }, scratch / "header-only",
                    "truncated");
  }

  void idxCountMismatchNamesLabelFile() {
    bp::test::ScratchDir scratch;
    bp::test::writeBytes(scratch / "images", idxImages(3, 2, 3, threeImagePixels));
    bp::test::writeBytes(scratch / "labels", idxLabels({1, 2}));
    expectFileError([&] { bp::readIdx(scratch / "images", scratch / "labels"); }, scratch / "labels",
                    "holds 2 labels but");
  }

  void readsCifar10RecordsAsPlanarRgb() {
    bp::test::ScratchDir scratch;
    bp::test::writeBytes(scratch / "data_batch_2.bin", cifarRecord({7}));
    bp::test::writeBytes(scratch / "data_batch_1.bin", cifarRecord({3}) + cifarRecord({9}));
    bp::test::writeBytes(scratch / "test_batch.bin", cifarRecord({0}));
    const auto dataset = bp::readCifarFolder(scratch.path(), "train");
    QCOMPARE(dataset.imageCount(), std::int64_t{3});
    QVERIFY((dataset.labels == std::vector<std::int32_t>{3, 9, 7}));  // data_batch_1 before data_batch_2
    QCOMPARE(dataset.channels, 3);
    QCOMPARE(dataset.height, 32);
    QCOMPARE(dataset.classNames[3], std::string("cat"));
    for (const int i : {0, 1, 300, 1023}) {
      QVERIFY(near(dataset.pixels[static_cast<std::size_t>(i)], cifarRed(i) / 255.0));
      QVERIFY(near(dataset.pixels[static_cast<std::size_t>(1024 + i)], cifarGreen(i) / 255.0));
      QVERIFY(near(dataset.pixels[static_cast<std::size_t>(2048 + i)], cifarBlue(i) / 255.0));
    }

    bp::test::writeBytes(scratch / "batches.meta.txt", "a\nb\nc\nd\ne\nf\ng\nh\ni\nj  \n\n");
    const auto test = bp::readCifarFolder(scratch.path(), "test");
    QCOMPARE(test.imageCount(), std::int64_t{1});
    QCOMPARE(test.classNames.size(), std::size_t{10});
    QCOMPARE(test.classNames[9], std::string("j"));
  }

  void readsCifar100FineLabels() {
    bp::test::ScratchDir scratch;
    bp::test::writeBytes(scratch / "train.bin", cifarRecord({1, 99}) + cifarRecord({2, 5}) + cifarRecord({3, 0}));
    auto dataset = bp::readCifarFolder(scratch.path(), "train");
    QVERIFY((dataset.labels == std::vector<std::int32_t>{99, 5, 0}));
    QCOMPARE(dataset.classNames.size(), std::size_t{100});
    QVERIFY(near(dataset.pixels[2048 + 10], cifarBlue(10) / 255.0));

    bp::test::writeBytes(scratch / "fine_label_names.txt", "apple\naquarium_fish\n");
    expectFileError([&] { bp::readCifarBinary({scratch / "train.bin"}); }, scratch / "train.bin",
                    "record 0 has label 99 but there are only 2 classes");
  }

  void cifarOfWrongSizeNamesFile() {
    bp::test::ScratchDir scratch;
    bp::test::writeBytes(scratch / "data_batch_1.bin", cifarRecord({1}) + "extra");
    expectFileError([&] { bp::readCifarFolder(scratch.path(), "train"); }, scratch / "data_batch_1.bin",
                    "not a whole number of CIFAR-10 (3073-byte) or CIFAR-100 (3074-byte) records");
    expectFileError([&] { bp::readCifarFolder(scratch.path(), "test"); }, scratch.path(), "test_batch.bin");
    bp::test::writeBytes(scratch / "data_batch_1.bin", cifarRecord({11}));
    expectFileError([&] { bp::readCifarFolder(scratch.path(), "train"); }, scratch / "data_batch_1.bin",
                    "label 11 but there are only 10 classes");
  }

  void readsImageFolderWithClasses() {
    bp::test::ScratchDir scratch;
    const auto root = scratch / "pets";
    writeImage(root / "dog" / "b.png", bgrImage(2, 2, 10, 20, 30));
    writeImage(root / "dog" / "a.bmp", bgrImage(2, 2, 40, 50, 60));
    writeImage(root / "cat" / "z.png", bgrImage(2, 2, 70, 80, 90));
    bp::test::writeBytes(root / "dog" / "notes.txt", "not an image");
    writeImage(root / ".thumbnails" / "t.png", bgrImage(5, 5, 0, 0, 0));
    const auto dataset = bp::readImageFolder(root);
    QCOMPARE(dataset.name, std::string("pets"));
    QVERIFY((dataset.classNames == std::vector<std::string>{"cat", "dog"}));
    QVERIFY((dataset.labels == std::vector<std::int32_t>{0, 1, 1}));  // cat/z, dog/a, dog/b
    QCOMPARE(dataset.channels, 3);
    QCOMPARE(dataset.height, 2);
    QCOMPARE(dataset.width, 2);
    // Image 1 is dog/a.bmp: R plane 60, G plane 50, B plane 40 + position.
    const float* image = dataset.image(1);
    QVERIFY(near(image[0], 60 / 255.0));
    QVERIFY(near(image[4 + 2], 50 / 255.0));
    QVERIFY(near(image[8 + 3], 43 / 255.0));

    const auto grayRoot = scratch / "digits";
    writeImage(grayRoot / "one" / "a.png", cv::Mat(3, 2, CV_8UC1, cv::Scalar(200)));
    const auto gray = bp::readImageFolder(grayRoot);
    QCOMPARE(gray.channels, 1);
    QCOMPARE(gray.height, 3);
    QVERIFY(near(gray.pixels[5], 200 / 255.0));
  }

  void oddSizedImageNamesItAndBothSizes() {
    bp::test::ScratchDir scratch;
    const auto root = scratch / "mixed";
    writeImage(root / "x" / "a.png", bgrImage(2, 2, 0, 0, 0));
    writeImage(root / "x" / "b.png", bgrImage(3, 4, 0, 0, 0));
    expectFileError([&] { bp::readImageFolder(root); }, root / "x" / "b.png",
                    "is 4x3 but " + (root / "x" / "a.png").string() + " is 2x2");
    ImageLoadOptions resize;
    resize.resizeHeight = 2;
    resize.resizeWidth = 2;
    QCOMPARE(bp::readImageFolder(root, resize).imageCount(), std::int64_t{2});
  }

  void unreadableImageNamesIt() {
    bp::test::ScratchDir scratch;
    const auto root = scratch / "broken";
    writeImage(root / "x" / "a.png", bgrImage(2, 2, 0, 0, 0));
    bp::test::writeBytes(root / "x" / "b.png", "this is not a PNG");
    expectFileError([&] { bp::readImageFolder(root); }, root / "x" / "b.png", "cannot");
    expectFileError([&] { bp::readImageFolder(scratch / "absent"); }, scratch / "absent", "is not a folder");
  }

  void grayscaleAndRangeMatchBt601() {
    bp::test::ScratchDir scratch;
    const auto root = scratch / "colour";
    cv::Mat pixel(1, 1, CV_8UC3, cv::Scalar(10, 20, 30));  // B, G, R
    writeImage(root / "c" / "p.png", pixel);
    ImageLoadOptions options;
    options.grayscale = true;
    options.rangeMin = -1.0f;
    options.rangeMax = 1.0f;
    const auto dataset = bp::readImageFolder(root, options);
    QCOMPARE(dataset.channels, 1);
    const double luminance = 0.299 * 30 + 0.587 * 20 + 0.114 * 10;
    QVERIFY2(near(dataset.pixels[0], -1.0 + 2.0 * luminance / 255.0), std::to_string(dataset.pixels[0]).c_str());

    // CIFAR's planar records take the same path.
    bp::test::writeBytes(scratch / "data_batch_1.bin", cifarRecord({2}));
    const auto cifar = bp::readCifarBinary({scratch / "data_batch_1.bin"}, options);
    const int i = 77;
    const double cifarLuminance = 0.299 * cifarRed(i) + 0.587 * cifarGreen(i) + 0.114 * cifarBlue(i);
    QVERIFY(near(cifar.pixels[i], -1.0 + 2.0 * cifarLuminance / 255.0));
  }

  void resizeAveragesWhenShrinkingAndInterpolatesWhenEnlarging() {
    bp::test::ScratchDir scratch;
    ImageLoadOptions raw;  // keep 0..255 so expected values are exact
    raw.rangeMin = 0.0f;
    raw.rangeMax = 255.0f;

    std::vector<int> ramp4x4;
    for (int i = 0; i < 16; ++i) ramp4x4.push_back(10 * i);
    bp::test::writeBytes(scratch / "images", idxImages(1, 4, 4, ramp4x4));
    bp::test::writeBytes(scratch / "labels", idxLabels({0}));
    ImageLoadOptions shrink = raw;
    shrink.resizeHeight = 2;
    shrink.resizeWidth = 2;
    const auto shrunk = bp::readIdx(scratch / "images", scratch / "labels", shrink);
    QCOMPARE(shrunk.height, 2);
    QVERIFY((shrunk.pixels == std::vector<float>{25, 45, 105, 125}));  // means of 2x2 blocks

    bp::test::writeBytes(scratch / "images", idxImages(1, 1, 2, {0, 200}));
    ImageLoadOptions widen = raw;
    widen.resizeWidth = 4;  // height kept
    const auto widened = bp::readIdx(scratch / "images", scratch / "labels", widen);
    QCOMPARE(widened.width, 4);
    // Pixel centres at x = -0.25, 0.25, 0.75, 1.25 of the source, clamped at the border.
    QVERIFY((widened.pixels == std::vector<float>{0, 50, 150, 200}));
  }

  void maxImagesKeepsTheFirstInFileOrder() {
    bp::test::ScratchDir scratch;
    bp::test::writeBytes(scratch / "images", idxImages(3, 2, 3, threeImagePixels));
    bp::test::writeBytes(scratch / "labels", idxLabels(threeLabels));
    ImageLoadOptions options;
    options.maxImages = 2;
    const auto dataset = bp::readIdx(scratch / "images", scratch / "labels", options);
    QVERIFY((dataset.labels == std::vector<std::int32_t>{1, 0}));
    QCOMPARE(dataset.pixels.size(), std::size_t{12});
  }

  void cancelStopsReading() {
    bp::test::ScratchDir scratch;
    bp::test::writeBytes(scratch / "images", idxImages(3, 2, 3, threeImagePixels));
    bp::test::writeBytes(scratch / "labels", idxLabels(threeLabels));
    auto token = std::make_shared<bp::CancelToken>();
    token->cancel();
    const bp::Job cancelled({}, token);
    QVERIFY_THROWS_EXCEPTION(bp::CancelledError, bp::readIdx(scratch / "images", scratch / "labels", {}, cancelled));
    writeImage(scratch / "folder" / "x" / "a.png", bgrImage(2, 2, 0, 0, 0));
    QVERIFY_THROWS_EXCEPTION(bp::CancelledError, bp::readImageFolder(scratch / "folder", {}, cancelled));
  }

  void readsRealFashionMnistTestSplit() {
    const std::filesystem::path folder = "/usr/share/datasets/fashion-mnist";
    if (!std::filesystem::is_directory(folder)) QSKIP("dataset-fashion-mnist is not installed");
    const auto dataset = bp::readIdxFolder(folder, "t10k");
    QCOMPARE(dataset.imageCount(), std::int64_t{10000});
    QCOMPARE(dataset.channels, 1);
    QCOMPARE(dataset.height, 28);
    QCOMPARE(dataset.width, 28);
    QCOMPARE(dataset.name, std::string("fashion-mnist t10k"));
    QCOMPARE(dataset.classNames[9], std::string("Ankle boot"));
    std::vector<int> perClass(10, 0);
    for (const auto label : dataset.labels) ++perClass[static_cast<std::size_t>(label)];
    QVERIFY((perClass == std::vector<int>(10, 1000)));
    const auto [lowest, highest] = std::minmax_element(dataset.pixels.begin(), dataset.pixels.end());
    QCOMPARE(*lowest, 0.0f);
    QCOMPARE(*highest, 1.0f);
  }
};

BRAINPRIOR_TEST_CLASS(ImageReadersTest)
#include "test_image_readers.moc"
