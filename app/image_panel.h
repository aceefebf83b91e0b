#pragma once
// The labelled-image view: thumbnails filtered by class, and the dataset description.
#include <QWidget>
#include <memory>

#include "app/dataset_views.h"
#include "app/job_runner.h"

class QComboBox;
class QLabel;
class QTreeWidget;

namespace bp::app {

class Workspace;

// Shows the workspace's image dataset; its split box opens the other split of the same file.
class ImagePanel : public QWidget {
  Q_OBJECT
public:
  ImagePanel(Workspace& workspace, QWidget* parent = nullptr);
  // Opens the images at `path` (the split chosen in the panel) into the workspace, in a worker.
  void loadFrom(JobRunner& jobs, const QString& path);

private:
  void showDataset();
  void applyClassFilter();

  Workspace& workspace_;
  std::shared_ptr<const ImageDatasetView> view_;  // the workspace's, while shown
  QString path_;
  QLabel* title_ = nullptr;
  QComboBox* split_ = nullptr;
  QComboBox* classFilter_ = nullptr;
  bp::widgets::ImageGridView* grid_ = nullptr;
  QTreeWidget* summaryTree_ = nullptr;
  JobRunner* jobs_ = nullptr;
};

}  // namespace bp::app
