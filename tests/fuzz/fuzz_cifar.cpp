// CIFAR binary batches: any bytes are read as records or refused with bp::Error.
#include "data/image_readers.h"
#include "fuzz_support.h"
#include "runtime/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto batch = bp::fuzz::writeInput("data_batch_1.bin", data, size);
  try {
    bp::readCifarBinary({batch});
  } catch (const bp::Error&) {
  }
  return 0;
}
