#pragma once
// Datasets as the window holds them: the dataset and what its views show (thumbnails, summary,
// reliability), prepared once in a worker when it is opened, then shared read-only.
#include <QVector>
#include <memory>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/image_dataset.h"
#include "data/neural_dataset.h"
#include "data/nwb.h"
#include "measures/reliability.h"
#include "runtime/job.h"
#include "widgets/image_grid_view.h"

namespace bp::app {

// A neural dataset with what its views show, prepared off the GUI thread.
struct NeuralDatasetView {
  std::shared_ptr<const bp::NeuralDataset> dataset;
  bp::NeuronReliability reliability;
  nlohmann::json summary;
  std::vector<std::vector<std::int64_t>> trialsOfImage;  // trials of each unique image, in first-seen order
  QVector<bp::widgets::ImageGridItem> thumbnails;          // one per unique image; id = index into trialsOfImage
  std::optional<bp::NwbReadOptions> nwbReadOptions;         // how an NWB file was read (saved with projects)
};

// Builds the view data (reliability, summary, thumbnails); call from a worker thread.
NeuralDatasetView prepareNeuralDatasetView(bp::NeuralDataset dataset, const bp::Job& job);

// Beyond this many images the image grid shows the first ones only (the summary counts all).
constexpr int kMaxImageThumbnails = 10000;

struct ImageDatasetView {
  std::shared_ptr<const bp::ImageDataset> dataset;
  nlohmann::json summary;
  QVector<bp::widgets::ImageGridItem> thumbnails;  // at most kMaxImageThumbnails, id = image index
};

// Prepares the thumbnails and summary; call from a worker thread.
ImageDatasetView prepareImageDatasetView(bp::ImageDataset dataset, const bp::Job& job);

}  // namespace bp::app
