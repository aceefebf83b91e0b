#include "data/nwb.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>
#include <set>
#include <sstream>

#include "data/hdf5_file.h"
#include "data/static_hdf5.h"
#include "runtime/config_reader.h"
#include "runtime/error.h"
#include "runtime/log.h"

namespace bp {
namespace {

constexpr const char* kTypeAttribute = "neurodata_type";
constexpr const char* kTrialsTable = "/intervals/trials";
constexpr const char* kTrialsTableType = "trials table";
constexpr const char* kTierColumn = "tier";
// Traces are read in blocks of about this size, between which the job reports and polls cancel.
constexpr std::int64_t kBlockBytes = 4 << 20;
// Walks deeper than this are not NWB's layout (its deepest objects sit about five groups down).
constexpr int kMaximumDepth = 16;

const std::set<std::string>& imageTypes() {
  static const std::set<std::string> types{"Image", "GrayscaleImage", "RGBImage", "RGBAImage"};
  return types;
}

const std::set<std::string>& imageSeriesTypes() {
  static const std::set<std::string> types{"ImageSeries", "OpticalSeries", "ImageMaskSeries"};
  return types;
}

std::string join(const std::string& group, const std::string& member) {
  return group == "/" ? "/" + member : group + "/" + member;
}

std::string parentOf(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

std::string listOf(const std::vector<NwbChoice>& choices) {
  std::string text;
  for (const auto& choice : choices) text += "\n  " + choice.path + " (" + choice.description + ")";
  return text;
}

std::string seconds(double value) {
  std::ostringstream text;
  text.precision(6);
  text << value << " s";
  return text.str();
}

// A sample's presentation window, as a half-open range of trace rows.
struct SampleRange {
  std::int64_t first = 0;
  std::int64_t end = 0;
};

// The presentations: when each began and which image it showed.
struct Presentations {
  std::string path;
  std::vector<double> onsets;
  std::vector<std::int64_t> imageIds;
  // Pixels of each distinct image id, channels x height x width.
  std::map<std::int64_t, std::vector<float>> pixels;
  int channels = 0;
  int height = 0;
  int width = 0;
};

class NwbReader {
 public:
  explicit NwbReader(const std::filesystem::path& file) : file_(file), h5_(Hdf5File::openForReading(file)) {
    if (!h5_.hasAttribute("/", "nwb_version"))
      fail("not an NWB file (its root group has no nwb_version attribute)");
  }

  [[noreturn]] void fail(const std::string& problem) const { throw FileError(file_.string(), problem); }

  const Hdf5File& h5() const { return h5_; }

  std::string typeOf(const std::string& path) const {
    return h5_.hasAttribute(path, kTypeAttribute) ? h5_.readStringAttribute(path, kTypeAttribute) : std::string();
  }

  // Every typed group under `root`, in name order, reached through hard links only (NWB links one
  // object from another, and a walk through links would visit objects twice or loop).
  std::vector<std::pair<std::string, std::string>> typedGroups(const std::string& root) const {
    std::vector<std::pair<std::string, std::string>> found;
    if (!h5_.isGroup(root)) return found;
    const std::function<void(const std::string&, int)> walk = [&](const std::string& group, int depth) {
      if (depth > kMaximumDepth) return;
      for (const auto& member : h5_.members(group)) {
        const auto path = join(group, member);
        if (!h5_.exists(path) || h5_.isLink(path) || !h5_.isGroup(path)) continue;
        if (auto type = typeOf(path); !type.empty()) found.emplace_back(path, std::move(type));
        walk(path, depth + 1);
      }
    };
    walk(root, 0);
    return found;
  }

  // What the file offers; the trials table counts as presentations when it has `imageColumn`.
  NwbContents contents(const std::string& imageColumn) const {
    NwbContents contents;
    for (const auto& root : {"/acquisition", "/processing"})
      for (const auto& [path, type] : typedGroups(root))
        if (type == "RoiResponseSeries") contents.roiSeries.push_back({path, type, describeRoiSeries(path)});
    for (const auto& [path, type] : typedGroups("/stimulus/presentation"))
      if (type == "IndexSeries" || imageSeriesTypes().count(type))
        contents.presentations.push_back({path, type, describePresentations(path, type)});
    if (h5_.isDataset(std::string(kTrialsTable) + "/start_time") &&
        h5_.isDataset(std::string(kTrialsTable) + "/" + imageColumn))
      contents.presentations.push_back(
          {kTrialsTable, kTrialsTableType,
           std::to_string(rows(std::string(kTrialsTable) + "/start_time")) + " trials · column " + imageColumn});
    return contents;
  }

  std::int64_t rows(const std::string& dataset) const {
    const auto shape = h5_.shape(dataset);
    return shape.empty() ? 1 : shape[0];
  }

  std::string describeRoiSeries(const std::string& path) const {
    const auto data = path + "/data";
    if (!h5_.isDataset(data)) return typeOf(parentOf(path)) + " · no data";
    const auto shape = h5_.shape(data);
    const auto rois = shape.size() > 1 ? shape[1] : 1;
    return typeOf(parentOf(path)) + " · " + std::to_string(rois) + " ROIs · " + std::to_string(rows(data)) + " samples";
  }

  std::string describePresentations(const std::string& path, const std::string& type) const {
    const auto data = path + "/data";
    const auto count = h5_.isDataset(data) ? std::to_string(rows(data)) : std::string("no");
    return type + " · " + count + " presentations";
  }

  // One choice among several: the one named, or the only one.
  NwbChoice choose(const std::vector<NwbChoice>& choices, const std::string& chosen, const std::string& what,
                   const std::string& optionName) const {
    if (!chosen.empty()) {
      for (const auto& choice : choices)
        if (choice.path == chosen || choice.path == "/" + chosen) return choice;
      fail("has no " + what + " at '" + chosen + "'; it has:" + (choices.empty() ? " none" : listOf(choices)));
    }
    if (choices.empty()) fail("holds no " + what);
    if (choices.size() > 1)
      fail("holds several " + what + "; choose one by its path (" + optionName + " in the CLI):" + listOf(choices));
    return choices.front();
  }

  // Sample times of a TimeSeries with `samples` samples: `timestamps`, or `starting_time` + i / rate.
  std::vector<double> times(const std::string& series, std::int64_t samples) const {
    const auto timestamps = series + "/timestamps";
    if (h5_.isDataset(timestamps)) {
      if (h5_.shape(timestamps) != Hdf5Shape{samples})
        fail("'" + timestamps + "' has shape " + describeShape(h5_.shape(timestamps)) + ", expected (" +
             std::to_string(samples) + ",): one time per sample of its data");
      return h5_.readDataset<double>(timestamps);
    }
    const auto start = series + "/starting_time";
    if (!h5_.isDataset(start)) fail("'" + series + "' has neither timestamps nor starting_time");
    if (!h5_.hasAttribute(start, "rate")) fail("'" + start + "' has no rate attribute");
    const auto values = h5_.readDataset<double>(start);
    const auto rate = h5_.readScalarAttribute<double>(start, "rate");
    if (values.size() != 1 || !std::isfinite(values.front())) fail("'" + start + "' is not one finite time");
    if (!(rate > 0) || !std::isfinite(rate)) fail("'" + start + "' has rate " + std::to_string(rate) + ", expected a positive rate in Hz");
    std::vector<double> result(static_cast<std::size_t>(samples));
    for (std::int64_t i = 0; i < samples; ++i)
      result[static_cast<std::size_t>(i)] = values.front() + static_cast<double>(i) / rate;
    return result;
  }

  double numericAttribute(const std::string& path, const char* name, double fallback) const {
    return h5_.hasAttribute(path, name) ? h5_.readScalarAttribute<double>(path, name) : fallback;
  }

  // ---- images ----

  // One image dataset (GrayscaleImage (height, width), RGBImage (height, width, 3), RGBAImage with
  // its alpha dropped) as channels x height x width.
  std::vector<float> readImage(const std::string& path, Presentations& into) const {
    const auto shape = h5_.shape(path);
    if (shape.size() != 2 && !(shape.size() == 3 && (shape[2] == 3 || shape[2] == 4)))
      fail("image '" + path + "' has shape " + describeShape(shape) +
           ", expected (height, width), (height, width, 3) or (height, width, 4)");
    const auto values = h5_.readDataset<float>(path);
    return toChannelsFirst(values, shape[0], shape[1], shape.size() == 2 ? 1 : shape[2], path, into);
  }

  // Pixels stored height x width x stored channels, as channels x height x width (alpha dropped),
  // after checking they are the size of every other image.
  std::vector<float> toChannelsFirst(const std::vector<float>& values, std::int64_t height, std::int64_t width,
                                     std::int64_t storedChannels, const std::string& what,
                                     Presentations& into) const {
    const int channels = storedChannels == 1 ? 1 : 3;
    if (height <= 0 || width <= 0) fail("image '" + what + "' is empty");
    if (into.channels == 0) {
      into.channels = channels;
      into.height = static_cast<int>(height);
      into.width = static_cast<int>(width);
    } else if (into.channels != channels || into.height != height || into.width != width) {
      fail("image '" + what + "' is " + std::to_string(height) + " x " + std::to_string(width) + " x " +
           std::to_string(channels) + ", the others " + std::to_string(into.height) + " x " +
           std::to_string(into.width) + " x " + std::to_string(into.channels) +
           ": every image shown must have one size");
    }
    std::vector<float> pixels(static_cast<std::size_t>(channels * height * width));
    for (int c = 0; c < channels; ++c)
      for (std::int64_t p = 0; p < height * width; ++p)
        pixels[static_cast<std::size_t>(c * height * width + p)] =
            values[static_cast<std::size_t>(p * storedChannels + c)];
    return pixels;
  }

  // The images of an Images group in order: by its order_of_images references, else by name.
  std::vector<std::string> imagesInOrder(const std::string& group) const {
    const auto order = group + "/order_of_images";
    if (h5_.isDataset(order)) return h5_.readObjectReferences(order);
    std::vector<std::string> images;
    for (const auto& member : h5_.members(group)) {
      const auto path = join(group, member);
      if (h5_.isDataset(path) && imageTypes().count(typeOf(path))) images.push_back(path);
    }
    return images;
  }

  // Frames of an ImageSeries, each as channels x height x width.
  std::vector<std::vector<float>> seriesFrames(const std::string& series, Presentations& into,
                                               const Job& job) const {
    const auto data = series + "/data";
    if (h5_.isDataset(series + "/external_file"))
      fail("'" + series + "' keeps its frames in external files; BrainPrior reads only frames stored in the file");
    if (!h5_.isDataset(data)) fail("'" + series + "' has no data");
    const auto shape = h5_.shape(data);
    if (shape.size() != 3 && !(shape.size() == 4 && (shape[3] == 3 || shape[3] == 4)))
      fail("'" + data + "' has shape " + describeShape(shape) +
           ", expected (frames, height, width) or (frames, height, width, 3)");
    const auto frameSize = elementCount(Hdf5Shape(shape.begin() + 1, shape.end()));
    std::vector<std::vector<float>> frames;
    std::vector<float> frame(static_cast<std::size_t>(frameSize));
    for (std::int64_t i = 0; i < shape[0]; ++i) {
      job.throwIfCancelled();
      h5_.readRows<float>(data, i, 1, frame.data());
      frames.push_back(toChannelsFirst(frame, shape[1], shape[2], shape.size() == 3 ? 1 : shape[3],
                                       data + " frame " + std::to_string(i), into));
      job.progress(static_cast<double>(i + 1) / static_cast<double>(shape[0]), "Reading images");
    }
    return frames;
  }

  // The pixels of template `index`, where `templates` is an Images group or an ImageSeries.
  void addTemplates(const std::string& templates, const std::vector<std::int64_t>& indices, Presentations& into,
                    const Job& job) const {
    const auto type = typeOf(templates);
    const std::set<std::int64_t> used(indices.begin(), indices.end());
    std::int64_t count = 0;
    if (type == "Images") {
      const auto images = imagesInOrder(templates);
      count = static_cast<std::int64_t>(images.size());
      requireIndicesBelow(used, count, templates);
      for (const auto index : used) {
        job.throwIfCancelled();
        into.pixels[index] = readImage(images[static_cast<std::size_t>(index)], into);
      }
    } else if (imageSeriesTypes().count(type)) {
      auto frames = seriesFrames(templates, into, job);
      count = static_cast<std::int64_t>(frames.size());
      requireIndicesBelow(used, count, templates);
      for (const auto index : used) into.pixels[index] = std::move(frames[static_cast<std::size_t>(index)]);
    } else {
      fail("'" + templates + "' is a " + (type.empty() ? "group without neurodata_type" : type) +
           ", expected Images or an ImageSeries holding the images shown");
    }
  }

  void requireIndicesBelow(const std::set<std::int64_t>& used, std::int64_t count, const std::string& templates) const {
    if (!used.empty() && (*used.begin() < 0 || *used.rbegin() >= count))
      fail("presentations show image " + std::to_string(*used.begin() < 0 ? *used.begin() : *used.rbegin()) +
           " but '" + templates + "' holds " + std::to_string(count) + " images");
  }

  // ---- presentations ----

  Presentations readIndexSeries(const std::string& series, const Job& job) const {
    Presentations result;
    result.path = series;
    const auto data = series + "/data";
    if (!h5_.isDataset(data) || h5_.shape(data).size() != 1)
      fail("'" + series + "' needs a 1-D data of image indices");
    result.imageIds = h5_.readDataset<std::int64_t>(data);
    result.onsets = times(series, static_cast<std::int64_t>(result.imageIds.size()));
    std::string templates;
    if (h5_.isGroup(series + "/indexed_images")) templates = series + "/indexed_images";
    else if (h5_.isGroup(series + "/indexed_timeseries")) templates = series + "/indexed_timeseries";
    else fail("'" + series + "' links to no images (neither indexed_images nor indexed_timeseries)");
    addTemplates(templates, result.imageIds, result, job);
    return result;
  }

  // Every frame of an ImageSeries is one presentation; frames with identical pixels are one image,
  // identified by its first frame.
  Presentations readImageSeries(const std::string& series, const Job& job) const {
    Presentations result;
    result.path = series;
    auto frames = seriesFrames(series, result, job);
    result.onsets = times(series, static_cast<std::int64_t>(frames.size()));
    std::map<std::vector<float>, std::int64_t> firstFrameOf;
    for (std::size_t i = 0; i < frames.size(); ++i) {
      const auto [entry, isNew] = firstFrameOf.emplace(frames[i], static_cast<std::int64_t>(i));
      result.imageIds.push_back(entry->second);
      if (isNew) result.pixels[entry->second] = std::move(frames[i]);
    }
    return result;
  }

  // The trials table's start times and image column, into the one image source in /stimulus/templates.
  Presentations readTrialsTable(const std::string& imageColumn, const Job& job) const {
    Presentations result;
    result.path = kTrialsTable;
    const auto start = std::string(kTrialsTable) + "/start_time";
    const auto column = std::string(kTrialsTable) + "/" + imageColumn;
    if (!h5_.isDataset(start)) fail("the trials table has no start_time column");
    if (!h5_.isDataset(column)) fail("the trials table has no '" + imageColumn + "' column of image indices");
    result.onsets = h5_.readDataset<double>(start);
    result.imageIds = h5_.readDataset<std::int64_t>(column);
    if (result.imageIds.size() != result.onsets.size())
      fail("the trials table's '" + imageColumn + "' has " + std::to_string(result.imageIds.size()) +
           " rows, start_time " + std::to_string(result.onsets.size()));
    std::vector<std::string> sources;
    if (h5_.isGroup("/stimulus/templates"))
      for (const auto& member : h5_.members("/stimulus/templates")) {
        const auto path = join("/stimulus/templates", member);
        const auto type = h5_.isGroup(path) ? typeOf(path) : std::string();
        if (type == "Images" || imageSeriesTypes().count(type)) sources.push_back(path);
      }
    if (sources.size() != 1)
      fail("the trials table's '" + imageColumn + "' indexes into /stimulus/templates, which holds " +
           std::to_string(sources.size()) + " image sources; expected exactly one Images group or ImageSeries");
    addTemplates(sources.front(), result.imageIds, result, job);
    return result;
  }

  // ---- tiers ----

  // The trials table's tier of each presentation (the trial whose [start_time, stop_time) holds its
  // onset), or an empty vector when the table has no tier column.
  std::vector<Tier> tiersFromTrials(const std::vector<double>& onsets) const {
    const auto column = std::string(kTrialsTable) + "/" + kTierColumn;
    if (!h5_.isDataset(column)) return {};
    const auto names = h5_.readStrings(column);
    const auto starts = h5_.readDataset<double>(std::string(kTrialsTable) + "/start_time");
    const auto stops = h5_.readDataset<double>(std::string(kTrialsTable) + "/stop_time");
    if (names.size() != starts.size() || stops.size() != starts.size())
      fail("the trials table's tier, start_time and stop_time columns differ in length");
    // Trials by start time; a presentation belongs to the last trial that started at or before it.
    std::vector<std::size_t> byStart(starts.size());
    std::iota(byStart.begin(), byStart.end(), 0);
    std::stable_sort(byStart.begin(), byStart.end(), [&](std::size_t a, std::size_t b) { return starts[a] < starts[b]; });
    std::vector<Tier> tiers;
    for (std::size_t k = 0; k < onsets.size(); ++k) {
      const auto after = std::upper_bound(byStart.begin(), byStart.end(), onsets[k],
                                          [&](double onset, std::size_t trial) { return onset < starts[trial]; });
      if (after == byStart.begin() || !(onsets[k] < stops[*std::prev(after)]))
        fail("presentation " + std::to_string(k) + " at " + seconds(onsets[k]) +
             " lies in no trial of the trials table, whose tier column sets the tiers");
      const auto trial = *std::prev(after);
      const auto tier = parseTier(names[trial]);
      if (!tier)
        fail("the trials table's tier of trial " + std::to_string(trial) + " is '" + names[trial] +
             "', expected train, validation or test");
      tiers.push_back(*tier);
    }
    return tiers;
  }

  // ---- ROIs ----

  // The ROIs' ids from the PlaneSegmentation that `rois` points into, and the imaging plane's location.
  void readRois(const std::string& series, std::int64_t roiCount, NeuronInfo& neurons) const {
    const auto rois = series + "/rois";
    if (!h5_.isDataset(rois)) {
      logWarning(file_.string() + ": '" + series + "' has no rois; its ROIs are numbered 0.." +
                 std::to_string(roiCount - 1));
      neurons.unitIds.resize(static_cast<std::size_t>(roiCount));
      std::iota(neurons.unitIds.begin(), neurons.unitIds.end(), 0);
      return;
    }
    const auto rows = h5_.readDataset<std::int64_t>(rois);
    if (static_cast<std::int64_t>(rows.size()) != roiCount)
      fail("'" + rois + "' names " + std::to_string(rows.size()) + " ROIs but '" + series + "/data' has " +
           std::to_string(roiCount) + " columns");
    neurons.unitIds = rows;
    if (!h5_.hasAttribute(rois, "table")) return;
    const auto table = h5_.readObjectReferenceAttribute(rois, "table");
    if (h5_.isDataset(table + "/id")) {
      const auto ids = h5_.readDataset<std::int64_t>(table + "/id");
      for (std::size_t i = 0; i < rows.size(); ++i) {
        if (rows[i] < 0 || rows[i] >= static_cast<std::int64_t>(ids.size()))
          fail("'" + rois + "' entry " + std::to_string(i) + " is row " + std::to_string(rows[i]) + " of '" + table +
               "', which has " + std::to_string(ids.size()) + " rows");
        neurons.unitIds[i] = ids[static_cast<std::size_t>(rows[i])];
      }
    }
    const auto location = table + "/imaging_plane/location";
    if (h5_.isDataset(location)) {
      const auto names = h5_.readStrings(location);
      if (names.size() == 1) neurons.area.assign(static_cast<std::size_t>(roiCount), names.front());
    }
  }

 private:
  std::filesystem::path file_;
  Hdf5File h5_;
};

// Whether position i of n is one of `picked` positions spread evenly over them.
bool evenlyPicked(std::size_t i, std::size_t n, std::size_t picked) { return (i + 1) * picked / n != i * picked / n; }

// Tiers by rule when the file states none (docs/formats.md): images shown more than once are the test
// tier, as their repeats are what oracle measures need; if every image was repeated, a fifth of them
// (at least one, spread evenly by id) are. A tenth of the other images (at least one when there are
// two) are the validation tier, the rest train.
std::vector<Tier> tiersByRule(const std::vector<std::int64_t>& imageIds, const std::string& file) {
  std::map<std::int64_t, int> shown;
  for (const auto id : imageIds) ++shown[id];
  const bool someRepeated = std::any_of(shown.begin(), shown.end(), [](const auto& entry) { return entry.second > 1; });
  const bool allRepeated = std::all_of(shown.begin(), shown.end(), [](const auto& entry) { return entry.second > 1; });
  std::map<std::int64_t, Tier> tierOf;
  std::vector<std::int64_t> others;
  std::size_t position = 0;
  for (const auto& [id, count] : shown) {
    const bool test = allRepeated ? shown.size() > 1 && evenlyPicked(position, shown.size(), std::max<std::size_t>(1, shown.size() / 5))
                                  : count > 1;
    ++position;
    if (test) tierOf[id] = Tier::Test;
    else others.push_back(id);
  }
  const std::size_t validation = others.size() >= 2 ? std::max<std::size_t>(1, others.size() / 10) : 0;
  for (std::size_t i = 0; i < others.size(); ++i)
    tierOf[others[i]] = evenlyPicked(i, others.size(), validation) ? Tier::Validation : Tier::Train;
  logInfo(file + ": no tier column in the trials table; " +
          (allRepeated ? std::string("every image was shown more than once, so a fifth of them are the test tier")
           : someRepeated ? std::string("the images shown more than once are the test tier")
                          : std::string("no image was shown twice, so there is no test tier")) +
          ", and a tenth of the others the validation tier");
  std::vector<Tier> tiers;
  tiers.reserve(imageIds.size());
  for (const auto id : imageIds) tiers.push_back(tierOf.at(id));
  return tiers;
}

NeuralDataset readUnrehearsedNwb(const std::filesystem::path& file, const NwbReadOptions& options, const Job& job) {
  const NwbReader reader(file);
  const auto& h5 = reader.h5();
  const NwbContents contents = reader.contents(options.imageColumn);
  const auto traces = reader.choose(contents.roiSeries, options.roiSeries, "ROI traces (RoiResponseSeries)",
                                    "--roi-series");
  // Without a choice, a series in /stimulus/presentation says what was shown before the trials table does.
  std::vector<NwbChoice> series;
  for (const auto& choice : contents.presentations)
    if (choice.type != kTrialsTableType) series.push_back(choice);
  const auto shown = reader.choose(options.presentations.empty() && !series.empty() ? series : contents.presentations,
                                   options.presentations,
                                   "image presentations (IndexSeries, ImageSeries, or a trials table with an image column)",
                                   "--presentations");

  // The traces' geometry and times, checked before any bulk read.
  const auto data = traces.path + "/data";
  if (!h5.isDataset(data)) reader.fail("'" + traces.path + "' has no data");
  const auto shape = h5.shape(data);
  if (shape.empty() || shape.size() > 2 || shape[0] == 0)
    reader.fail("'" + data + "' has shape " + describeShape(shape) + ", expected (samples, ROIs)");
  const std::int64_t samples = shape[0];
  const std::int64_t rois = shape.size() == 2 ? shape[1] : 1;
  if (rois == 0) reader.fail("'" + data + "' has no ROIs");
  const auto traceTimes = reader.times(traces.path, samples);
  for (std::int64_t i = 1; i < samples; ++i)
    if (!(traceTimes[static_cast<std::size_t>(i)] > traceTimes[static_cast<std::size_t>(i - 1)]))
      reader.fail("the times of '" + traces.path + "' do not increase at sample " + std::to_string(i));
  const double conversion = reader.numericAttribute(data, "conversion", 1.0);
  const double offset = reader.numericAttribute(data, "offset", 0.0);

  NeuralDataset dataset;
  dataset.name = file.stem().string();
  dataset.sourcePath = file.string();
  dataset.neuronCount = rois;
  reader.readRois(traces.path, rois, dataset.neurons);

  Presentations presentations =
      shown.type == kTrialsTableType ? reader.readTrialsTable(options.imageColumn, job.subJob(0.0, 0.3))
      : shown.type == "IndexSeries"  ? reader.readIndexSeries(shown.path, job.subJob(0.0, 0.3))
                                     : reader.readImageSeries(shown.path, job.subJob(0.0, 0.3));
  const auto count = static_cast<std::int64_t>(presentations.onsets.size());
  if (count == 0) reader.fail("'" + shown.path + "' holds no presentations");

  // Each presentation's window as trace rows; the whole window must lie within the recording.
  const double samplePeriod = samples > 1 ? (traceTimes.back() - traceTimes.front()) / static_cast<double>(samples - 1) : 0.0;
  std::vector<SampleRange> windows(static_cast<std::size_t>(count));
  for (std::int64_t k = 0; k < count; ++k) {
    const double onset = presentations.onsets[static_cast<std::size_t>(k)];
    const double begin = onset + options.windowStart;
    const double end = begin + options.windowLength;
    auto& window = windows[static_cast<std::size_t>(k)];
    window.first = std::lower_bound(traceTimes.begin(), traceTimes.end(), begin) - traceTimes.begin();
    window.end = std::lower_bound(traceTimes.begin(), traceTimes.end(), end) - traceTimes.begin();
    if (!std::isfinite(onset) || begin < traceTimes.front() || end > traceTimes.back() + samplePeriod ||
        window.end <= window.first)
      reader.fail("presentation " + std::to_string(k) + " of '" + shown.path + "' (onset " + seconds(onset) +
                  ") has its window [" + seconds(begin) + ", " + seconds(end) + ") outside the traces of '" +
                  traces.path + "', which cover " + seconds(traceTimes.front()) + " to " + seconds(traceTimes.back()));
  }

  // Window means in one pass over the traces, block by block. Windows have one length, so both
  // their first and their end rows grow with the onset: a sweep over onsets in order visits each
  // block's windows once.
  std::vector<std::int64_t> byOnset(static_cast<std::size_t>(count));
  std::iota(byOnset.begin(), byOnset.end(), 0);
  std::stable_sort(byOnset.begin(), byOnset.end(), [&](std::int64_t a, std::int64_t b) {
    return windows[static_cast<std::size_t>(a)].first < windows[static_cast<std::size_t>(b)].first;
  });
  std::vector<double> sums(static_cast<std::size_t>(count * rois), 0.0);
  const std::int64_t blockRows = std::max<std::int64_t>(1, kBlockBytes / (rois * static_cast<std::int64_t>(sizeof(float))));
  std::vector<float> block;
  std::size_t firstOpen = 0;
  const auto traceJob = job.subJob(0.3, 0.95);
  for (std::int64_t blockFirst = 0; blockFirst < samples; blockFirst += blockRows) {
    traceJob.throwIfCancelled();
    const std::int64_t blockEnd = std::min(samples, blockFirst + blockRows);
    while (firstOpen < byOnset.size() && windows[static_cast<std::size_t>(byOnset[firstOpen])].end <= blockFirst)
      ++firstOpen;
    if (firstOpen < byOnset.size() && windows[static_cast<std::size_t>(byOnset[firstOpen])].first < blockEnd) {
      block.resize(static_cast<std::size_t>((blockEnd - blockFirst) * rois));
      h5.readRows<float>(data, blockFirst, blockEnd - blockFirst, block.data());
      for (std::size_t i = firstOpen; i < byOnset.size(); ++i) {
        const auto k = byOnset[i];
        const auto& window = windows[static_cast<std::size_t>(k)];
        if (window.first >= blockEnd) break;
        for (std::int64_t row = std::max(window.first, blockFirst); row < std::min(window.end, blockEnd); ++row) {
          const float* values = block.data() + (row - blockFirst) * rois;
          double* sum = sums.data() + k * rois;
          for (std::int64_t roi = 0; roi < rois; ++roi) sum[roi] += values[roi];
        }
      }
    }
    traceJob.progress(static_cast<double>(blockEnd) / static_cast<double>(samples), "Reading ROI traces");
  }

  dataset.channels = presentations.channels;
  dataset.height = presentations.height;
  dataset.width = presentations.width;
  dataset.responses.resize(static_cast<std::size_t>(count * rois));
  dataset.images.reserve(static_cast<std::size_t>(count * dataset.imageSize()));
  for (std::int64_t k = 0; k < count; ++k) {
    const auto& window = windows[static_cast<std::size_t>(k)];
    const auto length = static_cast<double>(window.end - window.first);
    for (std::int64_t roi = 0; roi < rois; ++roi) {
      const double mean = sums[static_cast<std::size_t>(k * rois + roi)] / length;
      const double value = mean * conversion + offset;
      if (!std::isfinite(value))
        reader.fail("ROI " + std::to_string(roi) + " of '" + traces.path + "' has no finite response to presentation " +
                    std::to_string(k) + " (onset " + seconds(presentations.onsets[static_cast<std::size_t>(k)]) + ")");
      dataset.responses[static_cast<std::size_t>(k * rois + roi)] = static_cast<float>(value);
    }
    const auto& pixels = presentations.pixels.at(presentations.imageIds[static_cast<std::size_t>(k)]);
    dataset.images.insert(dataset.images.end(), pixels.begin(), pixels.end());
  }
  dataset.imageIds = presentations.imageIds;
  dataset.trialIds.resize(static_cast<std::size_t>(count));
  std::iota(dataset.trialIds.begin(), dataset.trialIds.end(), 0);
  dataset.tiers = reader.tiersFromTrials(presentations.onsets);
  if (dataset.tiers.empty()) dataset.tiers = tiersByRule(dataset.imageIds, file.string());
  try {
    dataset.validate();
  } catch (const Error& e) {
    reader.fail(e.what());
  }
  job.progress(1.0, "Read " + file.filename().string());
  return dataset;
}

void requireNwbFile(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) throw FileError(file.string(), "file does not exist");
  if (!looksLikeHdf5(file)) throw FileError(file.string(), "not an HDF5 file (no HDF5 signature), so not NWB 2");
}

}  // namespace

void checkReadOptions(const NwbReadOptions& options) {
  if (!std::isfinite(options.windowStart)) throw Error("NWB read options: window_start must be a finite number of seconds");
  if (!(options.windowLength > 0) || !std::isfinite(options.windowLength))
    throw Error("NWB read options: window_length must be a positive length in seconds");
  if (options.imageColumn.empty()) throw Error("NWB read options: image_column must name a column");
}

bool NwbReadOptions::operator==(const NwbReadOptions& other) const {
  return roiSeries == other.roiSeries && presentations == other.presentations && imageColumn == other.imageColumn &&
         windowStart == other.windowStart && windowLength == other.windowLength;
}

nlohmann::json toJson(const NwbReadOptions& options) {
  return {{"roi_series", options.roiSeries},
          {"presentations", options.presentations},
          {"image_column", options.imageColumn},
          {"window_start", options.windowStart},
          {"window_length", options.windowLength}};
}

NwbReadOptions nwbReadOptionsFromJson(const nlohmann::json& json) {
  NwbReadOptions options;
  ConfigReader reader(json, "NWB read options");
  reader.read("roi_series", options.roiSeries);
  reader.read("presentations", options.presentations);
  reader.read("image_column", options.imageColumn);
  reader.read("window_start", options.windowStart);
  reader.read("window_length", options.windowLength);
  reader.finish();
  checkReadOptions(options);
  return options;
}

bool looksLikeNwb(const std::filesystem::path& file) {
  if (!looksLikeHdf5(file)) return false;
  try {
    return readRehearsed(file, "NWB check", Job{}, [&file](const Job&) {
      return Hdf5File::openForReading(file).hasAttribute("/", "nwb_version");
    });
  } catch (const FileError&) {
    return false;  // not readable as HDF5: the format readers say why
  }
}

NwbContents listNwbContents(const std::filesystem::path& file, const Job& job) {
  requireNwbFile(file);
  return readRehearsed(file, "NWB contents", job, [&file](const Job&) {
    return NwbReader(file).contents(NwbReadOptions().imageColumn);
  });
}

NeuralDataset readNwb(const std::filesystem::path& file, const NwbReadOptions& options, const Job& job) {
  requireNwbFile(file);
  try {
    checkReadOptions(options);
  } catch (const Error& error) {
    throw FileError(file.string(), error.what());
  }
  return readRehearsed(file, "NWB recording", job,
                       [&](const Job& read) { return readUnrehearsedNwb(file, options, read); });
}

}  // namespace bp
