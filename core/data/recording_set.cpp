#include "data/recording_set.h"

#include <filesystem>
#include <map>
#include <opencv2/imgproc.hpp>

#include "runtime/error.h"

namespace bp {

std::vector<std::string> bringToOneImageSize(std::vector<NeuralDataset>& recordings) {
  std::vector<std::string> resized;
  if (recordings.empty()) return resized;
  const NeuralDataset& first = recordings.front();
  for (NeuralDataset& recording : recordings) {
    if (recording.channels != first.channels)
      throw Error("recording '" + recording.name + "' has " + std::to_string(recording.channels) + " image channel(s), '" +
                  first.name + "' " + std::to_string(first.channels) + ": one model needs one channel count");
    if (recording.height == first.height && recording.width == first.width) continue;
    const bool shrinking = recording.height * recording.width > first.height * first.width;
    const std::int64_t plane = static_cast<std::int64_t>(first.height) * first.width;
    std::vector<float> images(static_cast<std::size_t>(recording.trialCount() * recording.channels * plane));
    for (std::int64_t trial = 0; trial < recording.trialCount(); ++trial)
      for (int c = 0; c < recording.channels; ++c) {
        const cv::Mat source(recording.height, recording.width, CV_32F,
                             const_cast<float*>(recording.image(trial)) +
                                 static_cast<std::int64_t>(c) * recording.height * recording.width);
        cv::Mat target(first.height, first.width, CV_32F,
                       images.data() + (trial * recording.channels + c) * plane);
        cv::resize(source, target, target.size(), 0.0, 0.0, shrinking ? cv::INTER_AREA : cv::INTER_LINEAR);
      }
    resized.push_back("resized recording '" + recording.name + "' from " + std::to_string(recording.height) + "x" +
                      std::to_string(recording.width) + " to " + std::to_string(first.height) + "x" +
                      std::to_string(first.width) + " pixels, the size of '" + first.name + "'");
    recording.images = std::move(images);
    recording.height = first.height;
    recording.width = first.width;
    // Statistics of the original pixels no longer describe the images.
    recording.statistics.erase("images");
  }
  return resized;
}

void giveDistinctNames(std::vector<NeuralDataset>& recordings) {
  const auto countNames = [&] {
    std::map<std::string, int> count;
    for (const auto& recording : recordings) ++count[recording.name];
    return count;
  };
  auto count = countNames();
  for (auto& recording : recordings)
    if (count[recording.name] > 1 && !recording.sourcePath.empty())
      recording.name += " (" + std::filesystem::path(recording.sourcePath).filename().string() + ")";
  count = countNames();
  std::map<std::string, int> seen;
  for (auto& recording : recordings)
    if (count[recording.name] > 1) recording.name += " #" + std::to_string(++seen[recording.name]);
}

}  // namespace bp
