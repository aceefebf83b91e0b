#pragma once
// The neural dataset view: image thumbnails filtered by tier; for the chosen image its responses
// across neurons (every repeat, their mean, and the ground truth when known); for the chosen neuron
// its responses across images with repeats; the oracle-correlation histogram; the dataset summary.
#include <QWidget>
#include <memory>

#include "app/dataset_views.h"

class QComboBox;
class QLabel;
class QSpinBox;
class QTreeWidget;

namespace bp::widgets {
class HistogramPlot;
class SeriesPlot;
}  // namespace bp::widgets

namespace bp::app {

class Workspace;

// Shows the workspace's neural dataset.
class DataPanel : public QWidget {
  Q_OBJECT
public:
  explicit DataPanel(Workspace& workspace, QWidget* parent = nullptr);

  bp::widgets::ImageGridView* thumbnailGrid() const { return grid_; }
  // The selected image's responses across neurons (tests read it).
  bp::widgets::SeriesPlot* imageResponsePlot() const { return imagePlot_; }

  void showImage(qint64 uniqueImage);
  void showNeuron(int neuron);

private:
  void showDataset();
  void applyTierFilter();

  Workspace& workspace_;
  std::shared_ptr<const NeuralDatasetView> view_;  // the workspace's, while shown
  QLabel* title_ = nullptr;
  QComboBox* tierFilter_ = nullptr;
  bp::widgets::ImageGridView* grid_ = nullptr;
  QSpinBox* neuronSpin_ = nullptr;
  QLabel* neuronInfo_ = nullptr;
  bp::widgets::SeriesPlot* imagePlot_ = nullptr;
  bp::widgets::SeriesPlot* neuronPlot_ = nullptr;
  bp::widgets::HistogramPlot* oracleHistogram_ = nullptr;
  QTreeWidget* summaryTree_ = nullptr;
};

}  // namespace bp::app
