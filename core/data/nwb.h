#pragma once
// NWB 2 two-photon recordings (Neurodata Without Borders, the archive format of DANDI and the Allen
// Brain Observatory): ROI traces and the images shown during them, turned into one response per
// ROI and presentation. Objects are found by their `neurodata_type` attribute, never by their
// conventional names; the layout and the rules are in docs/formats.md ("NWB two-photon files").
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "data/neural_dataset.h"
#include "runtime/job.h"

namespace bp {

// Which parts of an NWB file make the trials, and how a trace becomes a response.
struct NwbReadOptions {
  // The RoiResponseSeries to read, by its path in the file ("/processing/ophys/DfOverF/RoiResponseSeries");
  // empty: the file's only one.
  std::string roiSeries;
  // What was shown: an IndexSeries or ImageSeries under /stimulus/presentation, or the trials table
  // "/intervals/trials" with an image column (by path); empty: the file's only series (the trials
  // table when it has none).
  std::string presentations;
  // The trials table's column of indices into /stimulus/templates, when it is the presentations.
  std::string imageColumn = "image_index";
  // A presentation's response is the trace's mean over [onset + windowStart, onset + windowStart +
  // windowLength), in seconds. Half a second after onset holds most of a GCaMP6 transient.
  double windowStart = 0.0;
  double windowLength = 0.5;

  bool operator==(const NwbReadOptions& other) const;
};

nlohmann::json toJson(const NwbReadOptions& options);
// Unknown keys and values of the wrong type or range throw bp::Error naming the key.
NwbReadOptions nwbReadOptionsFromJson(const nlohmann::json& json);
// bp::Error naming the first value out of range (a window of no length, an empty image column).
void checkReadOptions(const NwbReadOptions& options);

// One thing a user can choose in an NWB file.
struct NwbChoice {
  std::string path;         // its path in the file
  std::string type;         // its neurodata_type ("RoiResponseSeries", "IndexSeries", ...; "trials table")
  std::string description;  // for a chooser: "DfOverF · 120 ROIs · 9000 samples"
};

struct NwbContents {
  std::vector<NwbChoice> roiSeries;      // every RoiResponseSeries
  std::vector<NwbChoice> presentations;  // every IndexSeries / ImageSeries shown, and a trials table with images
};

// An HDF5 file whose root group carries NWB's `nwb_version` attribute.
bool looksLikeNwb(const std::filesystem::path& file);

// What readNwb can be told to read (cheap: names, types and shapes, no bulk data).
NwbContents listNwbContents(const std::filesystem::path& file, const Job& job = {});

// Reads one NeuralDataset: a trial per presentation, a neuron per ROI. The trace's `conversion` and
// `offset` attributes are applied; times come from `timestamps` or `starting_time` and its `rate`.
// Repeats are grouped by image index (by identical pixels for an ImageSeries). Tiers come from the
// trials table's `tier` column when there is one, else from the rule in docs/formats.md (images
// shown more than once are the test tier). Throws FileError naming the file and the object for
// a file with no ROI traces, several to choose from without a choice, presentations outside the
// traces' time range, ROI counts that disagree, images of different sizes, and the like.
NeuralDataset readNwb(const std::filesystem::path& file, const NwbReadOptions& options = {}, const Job& job = {});

}  // namespace bp
