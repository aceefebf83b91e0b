#pragma once
// What the workspace's fitted models show: a table comparing them (the selected row is the
// workspace's current model), their training curves overlaid with the fit in progress, the current
// model's evaluation (per-neuron correlation against the oracle), what it learned (first-layer
// filters, readout positions or masks, functional types of a rotation-equivariant core), most
// exciting inputs, and the denoised similarity target it builds into matrix A.
#include <QImage>
#include <QString>
#include <QWidget>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/job_runner.h"
#include "training/neural_fit_report.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QSpinBox;
class QTableWidget;
class QTabWidget;

namespace bp::widgets {
class HistogramPlot;
class ImageGridView;
class SeriesPlot;
}  // namespace bp::widgets

namespace bp::app {

class Workspace;
struct ModelRecord;

// How lists and tables name a model's core.
QString coreLabel(const nlohmann::json& modelConfig);

class ModelResultsView : public QWidget {
  Q_OBJECT
public:
  ModelResultsView(Workspace& workspace, JobRunner& jobs, QWidget* parent = nullptr);

  // The fit in progress, drawn beside the fitted models' curves (empty: none).
  void showLiveCurve(const QString& name, const std::vector<bp::NeuralEpochReport>& curve);
  // Most exciting inputs of the neurons in the neuron field, for the current model.
  void computeMostExcitingInputs();
  // The denoised target over the dataset's images, set as the workspace's matrix A.
  void buildTarget();
  // The figure of the view in front (curves, evaluation or readout) as PNG, SVG or PDF.
  void chooseWhereToExportFigure();

  QLineEdit* neuronField() const { return meiNeurons_; }
  QTableWidget* comparisonTable() const { return comparison_; }
  bp::widgets::SeriesPlot* correlationCurves() const { return correlationCurves_; }
  bp::widgets::ImageGridView* meiGrid() const { return meiGrid_; }
  bp::widgets::ImageGridView* filterGrid() const { return filterGrid_; }
  QTableWidget* typeTable() const { return typeTable_; }
  QLabel* targetSummary() const { return targetSummary_; }
  QLabel* evaluationSummary() const { return evaluationSummary_; }

Q_SIGNALS:
  void meisReady();
  void targetBuilt();

private:
  void showDataset();
  void redrawCurves();
  void showCurrentModel();
  void showEvaluation(const ModelRecord& record);
  void showFeatures(const ModelRecord& record);
  void showTypes(const ModelRecord& record);
  void showNeuronsOfType(int row);
  void updateComparison();

  Workspace& workspace_;
  JobRunner& jobs_;
  QImage meanStimulus_;  // the dataset's mean image (first channel), under the readout positions
  std::vector<bp::NeuralEpochReport> liveCurve_;
  QString liveName_;

  QTableWidget* comparison_ = nullptr;
  QTabWidget* views_ = nullptr;
  bp::widgets::SeriesPlot* lossCurves_ = nullptr;
  bp::widgets::SeriesPlot* correlationCurves_ = nullptr;
  bp::widgets::SeriesPlot* oracleScatter_ = nullptr;
  bp::widgets::HistogramPlot* correlationHistogram_ = nullptr;
  QLabel* evaluationSummary_ = nullptr;
  bp::widgets::ImageGridView* filterGrid_ = nullptr;
  bp::widgets::SeriesPlot* readoutPlot_ = nullptr;
  QLineEdit* meiNeurons_ = nullptr;
  QSpinBox* meiSteps_ = nullptr;
  bp::widgets::ImageGridView* meiGrid_ = nullptr;
  QTableWidget* typeTable_ = nullptr;
  QTableWidget* typeNeurons_ = nullptr;
  QCheckBox* targetWeighted_ = nullptr;
  QComboBox* targetTier_ = nullptr;
  QLabel* targetSummary_ = nullptr;
};

}  // namespace bp::app
