#pragma once
// NWB 2 files written as the 2.7.0 specification lays them out (typed groups with neurodata_type and
// namespace attributes, links as soft links, order_of_images and a DynamicTableRegion's table as
// object references), with traces whose every sample is known, so a reader's window means can be
// checked against a brute-force average of the same samples.
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "data/hdf5_file.h"

namespace bp::test {

struct NwbFixture {
  // How the file is laid out.
  bool conventionalNames = true;   // ophys / DfOverF / RoiResponseSeries, natural_images, ...
  bool timestamps = false;         // traces timed by timestamps (irregular) instead of starting_time + rate
  bool indexedTimeseries = false;  // the pre-2.5 link: images in an ImageSeries, not an Images group
  bool imageSeriesShown = false;   // the presentations are an ImageSeries of frames (no indices)
  bool trialsTable = true;         // /intervals/trials with a tier column
  bool fluorescenceToo = false;    // a second RoiResponseSeries, under Fluorescence
  // The recording.
  int rois = 3;
  int images = 4;
  int height = 3;
  int width = 5;
  // Image shown at each presentation: images 0 and 2 are repeated.
  std::vector<int> shown = {0, 1, 2, 0, 3, 2, 0, 2};
  double rate = 30.0;
  double firstOnset = 1.01;
  double period = 0.5;  // one presentation every period, each showing for the whole period
  double conversion = 2.0;
  double offset = 0.5;
  // Rows of the PlaneSegmentation that the ROIs are; their ids are 100 + row.
  std::vector<long long> roiRows = {2, 0, 3};
  int planeRows = 4;

  std::string roiSeriesPath() const {
    return conventionalNames ? "/processing/ophys/DfOverF/RoiResponseSeries" : "/processing/imaging/dff_traces/cells";
  }
  std::string fluorescencePath() const { return "/processing/ophys/Fluorescence/RoiResponseSeries"; }
  std::string presentationPath() const {
    return conventionalNames ? "/stimulus/presentation/natural_scenes" : "/stimulus/presentation/shown";
  }
  std::string templatesPath() const {
    return conventionalNames ? "/stimulus/templates/natural_images" : "/stimulus/templates/pics";
  }

  double onset(int presentation) const { return firstOnset + period * presentation; }
  int samples() const { return static_cast<int>(std::ceil((onset(static_cast<int>(shown.size())) + 1.0) * rate)); }
  // Sample times: i / rate, or (with timestamps) a slightly irregular clock.
  double time(int sample) const {
    return timestamps ? sample / rate + 0.004 * std::sin(sample * 0.7) : sample / rate;
  }
  // The stored trace: during a presentation of image i, ROI r holds r + 10 i in its first
  // quarter second and three times that afterwards; 0 between presentations.
  float trace(int sample, int roi) const {
    const double t = time(sample);
    for (std::size_t k = 0; k < shown.size(); ++k) {
      const double start = onset(static_cast<int>(k));
      if (t >= start && t < start + period) {
        const float value = static_cast<float>(roi + 10 * shown[k]);
        return t < start + 0.25 ? value : 3 * value;
      }
    }
    return 0.0f;
  }
  // What a reader should find: the mean of the stored samples in the window, converted.
  float expectedResponse(int presentation, int roi, double windowStart, double windowLength) const {
    const double begin = onset(presentation) + windowStart;
    const double end = begin + windowLength;
    double sum = 0;
    int count = 0;
    for (int i = 0; i < samples(); ++i)
      if (time(i) >= begin && time(i) < end) {
        sum += trace(i, roi);
        ++count;
      }
    return static_cast<float>(sum / count * conversion + offset);
  }
  // Image i's pixel (row y, column x): distinct for every image and position of small images.
  float pixel(int image, int y, int x) const { return static_cast<float>((image * 50 + y * width + x) % 256); }

  void write(const std::filesystem::path& file) const {
    auto h5 = Hdf5File::create(file);
    const auto typed = [&h5](const std::string& path, const std::string& type) {
      h5.createGroup(path);
      h5.writeStringAttribute(path, "neurodata_type", type);
      h5.writeStringAttribute(path, "namespace", "core");
    };
    h5.writeStringAttribute("/", "nwb_version", "2.7.0");
    h5.writeStringAttribute("/", "neurodata_type", "NWBFile");
    h5.writeStringAttribute("/", "namespace", "core");
    h5.writeStrings("/session_description", {"a fixture"});

    typed("/general/optophysiology/plane0", "ImagingPlane");
    h5.writeStrings("/general/optophysiology/plane0/location", {"VISp"});
    const std::string module = conventionalNames ? "/processing/ophys" : "/processing/imaging";
    typed(module, "ProcessingModule");
    typed(module + "/segmentation", "ImageSegmentation");
    const std::string plane = module + "/segmentation/cells_plane";
    typed(plane, "PlaneSegmentation");
    std::vector<std::int64_t> ids;
    for (int row = 0; row < planeRows; ++row) ids.push_back(100 + row);
    h5.writeDataset<std::int64_t>(plane + "/id", ids, {planeRows});
    h5.createSoftLink(plane + "/imaging_plane", "/general/optophysiology/plane0");

    writeTraces(h5, typed, roiSeriesPath(), "DfOverF", plane, 1.0f);
    if (fluorescenceToo) writeTraces(h5, typed, fluorescencePath(), "Fluorescence", plane, 7.0f);

    std::vector<double> onsets;
    for (std::size_t k = 0; k < shown.size(); ++k) onsets.push_back(onset(static_cast<int>(k)));
    h5.createGroup("/stimulus/presentation");
    h5.createGroup("/stimulus/templates");
    if (imageSeriesShown) {
      typed(presentationPath(), "ImageSeries");
      std::vector<float> frames;
      for (const int image : shown)
        for (int p = 0; p < height * width; ++p) frames.push_back(pixel(image, p / width, p % width));
      h5.writeDataset<float>(presentationPath() + "/data", frames, {static_cast<std::int64_t>(shown.size()), height, width});
      h5.writeDataset<double>(presentationPath() + "/timestamps", onsets, {static_cast<std::int64_t>(onsets.size())});
    } else {
      writeTemplates(h5, typed);
      typed(presentationPath(), "IndexSeries");
      std::vector<std::int64_t> indices(shown.begin(), shown.end());
      h5.writeDataset<std::int64_t>(presentationPath() + "/data", indices, {static_cast<std::int64_t>(indices.size())});
      h5.writeDataset<double>(presentationPath() + "/timestamps", onsets, {static_cast<std::int64_t>(onsets.size())});
      h5.createSoftLink(presentationPath() + (indexedTimeseries ? "/indexed_timeseries" : "/indexed_images"),
                        templatesPath());
    }

    if (trialsTable) {
      typed("/intervals/trials", "TimeIntervals");
      std::vector<double> stops;
      std::vector<std::string> tiers;
      std::vector<std::int64_t> imageIndex;
      for (std::size_t k = 0; k < shown.size(); ++k) {
        stops.push_back(onsets[k] + period);
        tiers.push_back(tableTier(k, shown[k]));
        imageIndex.push_back(shown[k]);
      }
      const auto rows = static_cast<std::int64_t>(shown.size());
      h5.writeDataset<double>("/intervals/trials/start_time", onsets, {rows});
      h5.writeDataset<double>("/intervals/trials/stop_time", stops, {rows});
      h5.writeStrings("/intervals/trials/tier", tiers);
      h5.writeDataset<std::int64_t>("/intervals/trials/image_index", imageIndex, {rows});
      std::vector<std::int64_t> trialIds(shown.size());
      for (std::size_t k = 0; k < trialIds.size(); ++k) trialIds[k] = static_cast<std::int64_t>(k);
      h5.writeDataset<std::int64_t>("/intervals/trials/id", trialIds, {rows});
    }
    h5.close();
  }

  // The tier the fixture's trials table gives presentation k.
  static const char* tableTier(std::size_t k, int image) {
    return k == 1 ? "validation" : image == 2 ? "test" : "train";
  }

 private:
  template <class Typed>
  void writeTraces(Hdf5File& h5, const Typed& typed, const std::string& series, const std::string& container,
                   const std::string& plane, float scale) const {
    typed(series.substr(0, series.find_last_of('/')), container);
    typed(series, "RoiResponseSeries");
    std::vector<float> data;
    for (int i = 0; i < samples(); ++i)
      for (int r = 0; r < rois; ++r) data.push_back(scale * trace(i, r));
    h5.writeDataset<float>(series + "/data", data, {samples(), rois});
    h5.writeScalarAttribute<double>(series + "/data", "conversion", conversion);
    h5.writeScalarAttribute<double>(series + "/data", "offset", offset);
    h5.writeStringAttribute(series + "/data", "unit", "n.a.");
    if (timestamps) {
      std::vector<double> times;
      for (int i = 0; i < samples(); ++i) times.push_back(time(i));
      h5.writeDataset<double>(series + "/timestamps", times, {samples()});
    } else {
      h5.writeDataset<double>(series + "/starting_time", {0.0}, {});
      h5.writeScalarAttribute<double>(series + "/starting_time", "rate", rate);
    }
    std::vector<std::int64_t> rows(roiRows.begin(), roiRows.end());
    h5.writeDataset<std::int64_t>(series + "/rois", rows, {static_cast<std::int64_t>(rows.size())});
    h5.writeStringAttribute(series + "/rois", "neurodata_type", "DynamicTableRegion");
    h5.writeObjectReferenceAttribute(series + "/rois", "table", plane);
  }

  // Images i = 0.. as GrayscaleImage datasets whose names sort in the opposite order
  // (order_of_images, not the names, says which is which), or as frames of an ImageSeries.
  template <class Typed>
  void writeTemplates(Hdf5File& h5, const Typed& typed) const {
    const auto group = templatesPath();
    if (indexedTimeseries) {
      typed(group, "ImageSeries");
      std::vector<float> frames;
      for (int image = 0; image < images; ++image)
        for (int p = 0; p < height * width; ++p) frames.push_back(pixel(image, p / width, p % width));
      h5.writeDataset<float>(group + "/data", frames, {images, height, width});
      h5.writeDataset<double>(group + "/starting_time", {0.0}, {});
      h5.writeScalarAttribute<double>(group + "/starting_time", "rate", 1.0);
      return;
    }
    typed(group, "Images");
    std::vector<std::string> order;
    for (int image = 0; image < images; ++image) {
      const auto path = group + "/image_" + std::string(1, static_cast<char>('z' - image));
      std::vector<std::uint8_t> pixels;
      for (int p = 0; p < height * width; ++p)
        pixels.push_back(static_cast<std::uint8_t>(pixel(image, p / width, p % width)));
      h5.writeDataset<std::uint8_t>(path, pixels, {height, width});
      h5.writeStringAttribute(path, "neurodata_type", "GrayscaleImage");
      h5.writeStringAttribute(path, "namespace", "core");
      order.push_back(path);
    }
    h5.writeObjectReferences(group + "/order_of_images", order);
  }
};

}  // namespace bp::test
