#include "app/dataset_views.h"

#include <algorithm>
#include <unordered_map>

#include "measures/dataset_summary.h"
#include "measures/image_summary.h"
#include "widgets/image_conversion.h"

namespace bp::app {
namespace {

// Value range of the stimulus images, for mapping thumbnails to grey levels.
std::pair<float, float> imageRange(const bp::NeuralDataset& dataset) {
  if (dataset.images.empty()) return {0.0f, 1.0f};
  const auto [low, high] = std::minmax_element(dataset.images.begin(), dataset.images.end());
  return {*low, *high > *low ? *high : *low + 1.0f};
}

}  // namespace

NeuralDatasetView prepareNeuralDatasetView(bp::NeuralDataset dataset, const bp::Job& job) {
  NeuralDatasetView view;
  job.progress(0.0, "Computing reliability");
  view.reliability = bp::computeReliability(dataset, {}, job.subJob(0.0, 0.4));
  view.summary = bp::toJson(bp::summarizeDataset(dataset, view.reliability, job.subJob(0.4, 0.8)));

  std::unordered_map<std::int64_t, std::size_t> slotOfImage;
  for (std::int64_t trial = 0; trial < dataset.trialCount(); ++trial) {
    const auto [slot, inserted] = slotOfImage.emplace(dataset.imageIds[trial], view.trialsOfImage.size());
    if (inserted) view.trialsOfImage.emplace_back();
    view.trialsOfImage[slot->second].push_back(trial);
  }
  const auto [low, high] = imageRange(dataset);
  view.thumbnails.reserve(static_cast<int>(view.trialsOfImage.size()));
  for (std::size_t i = 0; i < view.trialsOfImage.size(); ++i) {
    if (i % 256 == 0) {
      job.throwIfCancelled();
      job.progress(0.8 + 0.2 * static_cast<double>(i) / view.trialsOfImage.size(), "Drawing thumbnails");
    }
    const auto firstTrial = view.trialsOfImage[i].front();
    bp::widgets::ImageGridItem item;
    item.image = bp::widgets::imageFromPlanes(dataset.image(firstTrial), dataset.channels, dataset.height,
                                               dataset.width, low, high);
    const auto repeats = view.trialsOfImage[i].size();
    item.label = QStringLiteral("#%1").arg(dataset.imageIds[firstTrial]) +
                 (repeats > 1 ? QStringLiteral(" ×%1").arg(repeats) : QString());
    item.toolTip = QStringLiteral("image %1, %2 tier, %3 trial(s)%4")
                       .arg(dataset.imageIds[firstTrial])
                       .arg(QString::fromLatin1(bp::tierName(dataset.tiers[firstTrial])))
                       .arg(repeats)
                       .arg(dataset.imageClasses.empty()
                                ? QString()
                                : QStringLiteral(", ") + QString::fromStdString(dataset.imageClasses[firstTrial]));
    item.id = static_cast<qint64>(i);
    view.thumbnails.push_back(std::move(item));
  }
  view.dataset = std::make_shared<const bp::NeuralDataset>(std::move(dataset));
  return view;
}

ImageDatasetView prepareImageDatasetView(bp::ImageDataset dataset, const bp::Job& job) {
  ImageDatasetView view;
  view.summary = bp::describeImageDataset(dataset);
  const auto count = std::min<std::int64_t>(dataset.imageCount(), kMaxImageThumbnails);
  const auto [low, high] = std::minmax_element(dataset.pixels.begin(), dataset.pixels.end());
  const float lowValue = dataset.pixels.empty() ? 0.0f : *low;
  const float highValue = dataset.pixels.empty() ? 1.0f : std::max(*high, lowValue + 1e-6f);
  view.thumbnails.reserve(static_cast<int>(count));
  for (std::int64_t i = 0; i < count; ++i) {
    if (i % 512 == 0) {
      job.throwIfCancelled();
      job.progress(static_cast<double>(i) / static_cast<double>(count), "Drawing thumbnails");
    }
    bp::widgets::ImageGridItem item;
    item.image = bp::widgets::imageFromPlanes(dataset.image(i), dataset.channels, dataset.height, dataset.width,
                                               lowValue, highValue);
    const auto& className = dataset.classNames[static_cast<std::size_t>(dataset.labels[i])];
    item.label = QString::fromStdString(className);
    item.toolTip = QStringLiteral("image %1: %2").arg(i).arg(item.label);
    item.id = i;
    view.thumbnails.push_back(std::move(item));
  }
  view.dataset = std::make_shared<const bp::ImageDataset>(std::move(dataset));
  return view;
}

}  // namespace bp::app
