#pragma once
// The neural dataset view: image thumbnails filtered by tier; for the chosen image its responses
// across neurons (every repeat, their mean, and the ground truth when known); for the chosen neuron
// its responses across images with repeats; the oracle-correlation histogram; the dataset summary.
#include <QWidget>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>

#include "app/job_runner.h"
#include "data/neural_dataset.h"
#include "measures/reliability.h"
#include "widgets/image_grid_view.h"

class QComboBox;
class QLabel;
class QSpinBox;
class QTreeWidget;

namespace bp::widgets {
class HistogramPlot;
class SeriesPlot;
}  // namespace bp::widgets

namespace bp::app {

// Everything the panel shows, prepared off the GUI thread.
struct NeuralDatasetView {
  std::shared_ptr<const bp::NeuralDataset> dataset;
  bp::NeuronReliability reliability;
  nlohmann::json summary;
  std::vector<std::vector<std::int64_t>> trialsOfImage;  // trials of each unique image, in first-seen order
  QVector<bp::widgets::ImageGridItem> thumbnails;          // one per unique image; id = index into trialsOfImage
};

// Builds the view data (reliability, summary, thumbnails); call from a worker thread.
NeuralDatasetView prepareNeuralDatasetView(bp::NeuralDataset dataset, const bp::Job& job);

class DataPanel : public QWidget {
  Q_OBJECT
public:
  explicit DataPanel(QWidget* parent = nullptr);

  // Runs `loader` and the view preparation as one job; shows the result when it succeeds.
  void loadFrom(JobRunner& jobs, const QString& title, std::function<bp::NeuralDataset(const bp::Job&)> loader);
  void setView(NeuralDatasetView view);

  std::shared_ptr<const bp::NeuralDataset> dataset() const { return view_.dataset; }
  const NeuralDatasetView& view() const { return view_; }
  bp::widgets::ImageGridView* thumbnailGrid() const { return grid_; }

  void showImage(qint64 uniqueImage);
  void showNeuron(int neuron);

Q_SIGNALS:
  void datasetChanged();

private:
  void applyTierFilter();

  NeuralDatasetView view_;
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
