// NWB 2 files as BrainPrior reads them: the same bytes listed (what a user may choose) and read as a
// recording with the default choices. Either works or is refused with bp::Error; a walk over the
// file's groups, its links and object references must not loop, crash or allocate what the file
// does not hold. The seeds are NWB fixtures of the tests (tests/support/nwb_fixture.h), written by
// the harness itself when run.sh starts it with BRAINPRIOR_FUZZ_WRITE_SEEDS=<folder>.
#include "data/nwb.h"
#include "fuzz_support.h"
#include "nwb_fixture.h"
#include "runtime/error.h"

namespace {

void writeSeeds(const std::filesystem::path& folder) {
  bp::test::NwbFixture indexed;
  indexed.rois = 2;
  indexed.roiRows = {1, 0};
  indexed.images = 3;
  indexed.height = indexed.width = 2;
  indexed.shown = {0, 1, 2, 0};
  indexed.write(folder / "indexed_images.nwb");
  bp::test::NwbFixture older = indexed;
  older.conventionalNames = false;
  older.indexedTimeseries = true;
  older.timestamps = true;
  older.trialsTable = false;
  older.write(folder / "indexed_timeseries.nwb");
  bp::test::NwbFixture frames = indexed;
  frames.imageSeriesShown = true;
  frames.write(folder / "image_series.nwb");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) { return bp::fuzz::writeSeedsWhenAsked(writeSeeds); }

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto file = bp::fuzz::writeInput("input.nwb", data, size);
  try {
    bp::listNwbContents(file);
  } catch (const bp::Error&) {
  }
  try {
    bp::readNwb(file);
  } catch (const bp::Error&) {
  }
  return 0;
}
