#pragma once
// The labelled-image view: thumbnails filtered by class, and the dataset description.
#include <QWidget>
#include <memory>
#include <nlohmann/json.hpp>

#include "app/job_runner.h"
#include "data/image_dataset.h"
#include "widgets/image_grid_view.h"

class QComboBox;
class QLabel;
class QTreeWidget;

namespace bp::app {

struct ImageDatasetView {
  std::shared_ptr<const bp::ImageDataset> dataset;
  nlohmann::json summary;
  QVector<bp::widgets::ImageGridItem> thumbnails;  // at most kMaxThumbnails, id = image index
};

// Loads images and prepares thumbnails; call from a worker thread.
ImageDatasetView prepareImageDatasetView(bp::ImageDataset dataset, const bp::Job& job);

class ImagePanel : public QWidget {
  Q_OBJECT
public:
  // Beyond this many images the grid shows the first ones only (the summary counts all).
  static constexpr int kMaxThumbnails = 10000;

  explicit ImagePanel(QWidget* parent = nullptr);
  void loadFrom(JobRunner& jobs, const QString& path);
  void setView(ImageDatasetView view);
  std::shared_ptr<const bp::ImageDataset> dataset() const { return view_.dataset; }

private:
  void applyClassFilter();

  ImageDatasetView view_;
  QString path_;
  QLabel* title_ = nullptr;
  QComboBox* split_ = nullptr;
  QComboBox* classFilter_ = nullptr;
  bp::widgets::ImageGridView* grid_ = nullptr;
  QTreeWidget* summaryTree_ = nullptr;
  JobRunner* jobs_ = nullptr;
};

}  // namespace bp::app
