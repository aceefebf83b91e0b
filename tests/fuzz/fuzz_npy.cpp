// .npy arrays (hand-written parser): any bytes are parsed or refused with bp::Error.
#include "data/npy.h"
#include "fuzz_support.h"
#include "runtime/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    bp::parseNpy(reinterpret_cast<const char*>(data), size, "fuzz.npy");
  } catch (const bp::Error&) {
  }
  return 0;
}
