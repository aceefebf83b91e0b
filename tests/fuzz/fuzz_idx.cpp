// IDX images (MNIST, Fashion-MNIST), raw and gzipped: the input is the image file (gzipped when its
// first byte is odd), read with a fixed valid label file of 4 labels.
#include <zlib.h>

#include "data/image_readers.h"
#include "fuzz_support.h"
#include "runtime/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::filesystem::path labels = [] {
    const std::uint8_t bytes[] = {0, 0, 8, 1, 0, 0, 0, 4, 0, 1, 2, 3};
    return bp::fuzz::writeInput("labels-idx1-ubyte", bytes, sizeof bytes);
  }();
  const bool gzipped = size > 0 && (data[0] & 1);
  std::filesystem::path images;
  if (gzipped) {
    images = bp::fuzz::scratchFile("images-idx3-ubyte.gz");
    gzFile file = gzopen(images.c_str(), "wb");
    gzwrite(file, data + 1, static_cast<unsigned>(size - 1));
    gzclose(file);
  } else {
    images = bp::fuzz::writeInput("images-idx3-ubyte", data, size);
  }
  try {
    bp::ImageLoadOptions options;
    options.maxImages = 64;  // a declared count of millions is the reader's to refuse, not to allocate
    bp::readIdx(images, labels, options);
  } catch (const bp::Error&) {
  }
  return 0;
}
