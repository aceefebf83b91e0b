// Zipped neuralpredictors file trees (as the Sensorium recordings are published): any bytes are
// unpacked and read as a recording, or refused with bp::Error. This reaches the zip reader, the
// unpacking (entries that would land outside the folder are refused) and the file-tree reader with
// every .npy and config.json inside. The seed, a tiny tree zipped, is written by run.sh.
#include "data/file_tree.h"
#include "fuzz_support.h"
#include "runtime/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto file = bp::fuzz::writeInput("input.zip", data, size);
  try {
    bp::readZippedFileTree(file);
  } catch (const bp::Error&) {
  }
  return 0;
}
