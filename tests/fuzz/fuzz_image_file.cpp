// Image files as the Probe reads a dropped file (through OpenCV): decoded and resized, or refused
// with bp::Error.
#include "data/image_readers.h"
#include "fuzz_support.h"
#include "runtime/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto file = bp::fuzz::writeInput("dropped.png", data, size);
  try {
    bp::readImageFile(file, 1, 28, 28);
  } catch (const bp::Error&) {
  }
  return 0;
}
