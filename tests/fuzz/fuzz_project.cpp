// Project files (*.brainprior): any text is read as a project or refused with bp::Error.
#include "fuzz_support.h"
#include "project/project_file.h"
#include "runtime/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    bp::parseProject(std::string(reinterpret_cast<const char*>(data), size), "/projects/study.brainprior");
  } catch (const bp::Error&) {
  }
  return 0;
}
