// HDF5 files as BrainPrior reads them (through the HDF5 library): the same bytes opened as a static
// HDF5 recording and as a similarity-matrix file. Either is read or refused with bp::Error, and a
// declared shape is checked against the file before anything is allocated for it.
// The seeds are a valid file of each kind written by BrainPrior's own writers: run.sh starts the
// harness once with BRAINPRIOR_FUZZ_WRITE_SEEDS=<folder> (no Python HDF5 module is needed).
#include "data/static_hdf5.h"
#include "fuzz_support.h"
#include "rsa/matrix_file.h"
#include "runtime/error.h"
#include "seed_recording.h"

namespace {

void writeSeeds(const std::filesystem::path& folder) {
  bp::writeStaticHdf5(bp::test::seedRecording(), folder / "recording.h5");

  bp::SimilarityMatrix matrix;
  matrix.size = 3;
  matrix.values = {1.0f, 0.5f, -0.25f, 0.5f, 1.0f, 0.0f, -0.25f, 0.0f, 1.0f};
  matrix.imageIds = {4, 5, 6};
  matrix.labels = {"cat", "dog", "cat"};
  matrix.provenance = {{"source", "seed"}};
  bp::writeSimilarityMatrix(matrix, folder / "matrix.h5");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) { return bp::fuzz::writeSeedsWhenAsked(writeSeeds); }

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto file = bp::fuzz::writeInput("input.h5", data, size);
  try {
    bp::readStaticHdf5(file);
  } catch (const bp::Error&) {
  }
  try {
    bp::readSimilarityMatrix(file);
  } catch (const bp::Error&) {
  }
  return 0;
}
