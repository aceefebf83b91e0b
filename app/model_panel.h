#pragma once
// The predictive-model view: fit a core + readout model of the loaded neurons with live training
// curves, compare several fitted models, see their evaluation (per-neuron correlation against the
// oracle), what they learned (first-layer filters, readout positions or masks, functional types of
// a rotation-equivariant core), most exciting inputs, and build the denoised similarity target.
#include <QImage>
#include <QStringList>
#include <QWidget>
#include <atomic>
#include <memory>
#include <vector>

#include "app/job_runner.h"
#include "app/model_session.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;
class QTableWidget;
class QTabWidget;

namespace bp::widgets {
class HistogramPlot;
class ImageGridView;
class SeriesPlot;
}  // namespace bp::widgets

namespace bp::app {

class ModelPanel : public QWidget {
  Q_OBJECT
public:
  explicit ModelPanel(JobRunner& jobs, QWidget* parent = nullptr);

  void setDataset(std::shared_ptr<const bp::NeuralDataset> dataset);
  // Fits a model with the form's settings in a worker; the curves update after every epoch.
  // An interrupted fit of the same dataset and settings resumes from its checkpoint.
  void fit();
  // Ends the running fit after its current epoch, keeping the best weights so far.
  void stopFit();
  void openModel(const QString& path);
  // Opens several models in one worker and adds them in the given order, named `names` (where not
  // empty), then makes `current` the current one: a project's models come back as they were.
  void openModels(const QStringList& paths, const QStringList& names, int current);
  void saveCurrentModel(const QString& path);
  // Records that model `index` now lives in `path` (a project saved it there).
  void setModelFile(int index, const QString& path);
  // Most exciting inputs of the neurons in the neuron field, for the current model.
  void computeMostExcitingInputs();
  // The denoised target over the dataset's images, sent out with targetReady.
  void buildTarget();
  // Form settings as the engine's fit config ({"model": ..., "trainer": ...}).
  nlohmann::json fitConfigFromForm() const;
  void applyFitConfig(const nlohmann::json& config);

  int modelCount() const { return static_cast<int>(models_.size()); }
  const ModelRecord& model(int index) const { return *models_[static_cast<std::size_t>(index)]; }
  // The same record, shared, for work that outlives this call (a project's save in a worker).
  std::shared_ptr<const ModelRecord> modelHandle(int index) const { return models_[static_cast<std::size_t>(index)]; }
  int currentModel() const { return current_; }
  void setCurrentModel(int index);

  QSpinBox* epochsSpin() const { return epochs_; }
  QLineEdit* neuronField() const { return meiNeurons_; }
  QTableWidget* comparisonTable() const { return comparison_; }
  bp::widgets::SeriesPlot* correlationCurves() const { return correlationCurves_; }
  bp::widgets::ImageGridView* meiGrid() const { return meiGrid_; }
  bp::widgets::ImageGridView* filterGrid() const { return filterGrid_; }
  QTableWidget* typeTable() const { return typeTable_; }
  QLabel* targetSummary() const { return targetSummary_; }

Q_SIGNALS:
  void modelAdded(int index);
  void fitCurveUpdated(int epoch);
  void meisReady();
  void targetReady(std::shared_ptr<const bp::SimilarityMatrix> matrix, const QString& description);

private:
  void addModel(std::shared_ptr<ModelRecord> record);
  void applyDefaults();
  void redrawCurves();
  void showCurrentModel();
  void showEvaluation(const ModelRecord& record);
  void showFeatures(const ModelRecord& record);
  void showTypes(const ModelRecord& record);
  void showNeuronsOfType(int type);
  void updateComparison();
  void chooseModelToOpen();
  void chooseWhereToSave();
  void exportFigure();
  QString checkpointPath(const nlohmann::json& config) const;

  JobRunner& jobs_;
  std::shared_ptr<const bp::NeuralDataset> dataset_;
  QImage meanStimulus_;  // the dataset's mean image (first channel), under the readout positions
  std::vector<std::shared_ptr<ModelRecord>> models_;
  int current_ = -1;
  // The fit in progress: its live curve and the job running it.
  std::vector<bp::NeuralEpochReport> liveCurve_;
  QString liveName_;
  int fitJob_ = 0;
  int fitCounter_ = 0;
  // Set by the Stop button, read by the fit after each epoch.
  std::shared_ptr<std::atomic<bool>> stopFit_;

  QComboBox* core_ = nullptr;
  QComboBox* readout_ = nullptr;
  QSpinBox* layers_ = nullptr;
  QSpinBox* channels_ = nullptr;
  QSpinBox* firstKernel_ = nullptr;
  QSpinBox* laterKernel_ = nullptr;
  QSpinBox* rotations_ = nullptr;
  QDoubleSpinBox* learningRate_ = nullptr;
  QSpinBox* batchSize_ = nullptr;
  QSpinBox* epochs_ = nullptr;
  QDoubleSpinBox* minutes_ = nullptr;
  QSpinBox* seed_ = nullptr;
  QPushButton* fitButton_ = nullptr;
  QPushButton* stopButton_ = nullptr;

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
