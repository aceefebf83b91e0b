#pragma once
// The similarity view: compute matrices A and B from the loaded neural dataset (or open matrix
// files), see them side by side and their difference, hover a cell to see both images, compare A
// with B (with bootstrap intervals and a permutation test), read the noise ceiling, embed A in 2-D
// (MDS), and export figures and data.
#include <QHash>
#include <QImage>
#include <QWidget>
#include <array>
#include <memory>

#include "app/job_runner.h"
#include "app/workspace.h"
#include "rsa/similarity.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QSpinBox;
class QTableWidget;
class QTabWidget;

namespace bp {
struct NeuralDataset;
}
namespace bp::widgets {
class HeatmapView;
class HistogramPlot;
class SeriesPlot;
}  // namespace bp::widgets

namespace bp::app {

// Shows and compares the workspace's matrices A and B, computed from its neural dataset or opened.
class SimilarityPanel : public QWidget {
  Q_OBJECT
public:
  using Slot = Workspace::MatrixSlot;

  SimilarityPanel(Workspace& workspace, JobRunner& jobs, QWidget* parent = nullptr);

  // Computes a matrix from the dataset with the form's settings, into `slot` (in a worker).
  void computeInto(Slot slot);
  // Opens a matrix file into `slot` (in a worker): BrainPrior's, or rsatoolbox's (its first RDM, as a
  // dissimilarity); `description` names it (empty: the file's name).
  void openMatrixFile(Slot slot, const QString& path, const QString& description = {});
  // Saves the matrix in `slot` (in a worker). Only a BrainPrior matrix file becomes the slot's file
  // (what a project refers to): an rsatoolbox export holds 1 - s, and a CSV loses the metadata.
  enum class MatrixFileKind { BrainPrior, Rsatoolbox, Csv };
  void saveMatrixTo(Slot slot, const QString& path, MatrixFileKind kind);
  // Compares A with B over the upper triangle (bootstrap intervals, permutation p-values).
  void compareAWithB();
  // Split-half noise ceiling and single-trial agreement, for the form's source, tier and measure.
  void computeNoiseCeiling();

  bp::widgets::HeatmapView* heatmap(Slot slot) const { return heatmaps_[slot]; }
  // The distribution of the matrix's values (under the matrices), and why it is degenerate (empty
  // when it is not).
  bp::widgets::HistogramPlot* valueHistogram(Slot slot) const { return histograms_[slot]; }
  QString degenerateText(Slot slot) const;
  // What the hover box says now (tests read it).
  QString hoverText() const;

  // Form settings, exposed so that demos and tests can set them without the mouse.
  QComboBox* tierBox() const { return tier_; }
  QComboBox* rowsBox() const { return rows_; }  // 0: average over repeats, 1: single trial
  QSpinBox* singleTrialSpin() const { return singleTrial_; }
  QComboBox* orderBox() const { return order_; }  // 1: by class label
  QCheckBox* linkZoomBox() const { return linkZoom_; }
  bp::widgets::SeriesPlot* mdsPlot() const { return mds_; }

Q_SIGNALS:
  void comparisonFinished();

private:
  // The workspace's neural dataset, with one thumbnail per image id for the hover view.
  void showDataset();
  void showMatrix(Slot slot);
  // The histogram and the degeneracy flag under the matrix, from every value (read from its file
  // when the view shows block means), in a worker.
  void describeValues(Slot slot);
  QString matrixTitle(Slot slot) const;  // "A · what it is · n images"
  bp::FeatureSelection selectionFromForm() const;
  bp::SimilarityConfig configFromForm() const;
  QString describeForm() const;
  void showHover(Slot slot, int row, int col, double value);
  void updateDifference();
  void computeMds();
  void saveMatrix(Slot slot);
  void exportFigure();
  void applyColormap();
  // Carries `source`'s zoom and pan to the other matrix views of the same size, when linked.
  void followZoom(const bp::widgets::HeatmapView* source, const QRectF& cells);
  void showDrawnColormap();

  Workspace& workspace_;
  JobRunner& jobs_;
  std::shared_ptr<const bp::NeuralDataset> dataset_;
  QHash<qint64, QImage> thumbnails_;
  std::array<bp::widgets::HeatmapView*, 2> heatmaps_{};
  std::array<bp::widgets::HistogramPlot*, 2> histograms_{};
  std::array<QString, 2> degenerate_;  // why each matrix is degenerate, or empty
  bp::widgets::HeatmapView* difference_ = nullptr;
  bp::widgets::SeriesPlot* mds_ = nullptr;
  QTabWidget* views_ = nullptr;

  QComboBox* source_ = nullptr;
  QComboBox* tier_ = nullptr;
  QComboBox* rows_ = nullptr;
  QSpinBox* singleTrial_ = nullptr;
  QComboBox* measure_ = nullptr;
  QCheckBox* dissimilarity_ = nullptr;
  QComboBox* order_ = nullptr;
  QSpinBox* orderNeuron_ = nullptr;
  QCheckBox* rank_ = nullptr;
  QComboBox* colormap_ = nullptr;
  QCheckBox* linkZoom_ = nullptr;
  int overriddenChoice_ = -1;  // the chosen colormap's row while presentation mode draws another

  QLabel* hoverImages_[2] = {nullptr, nullptr};
  QLabel* hoverText_ = nullptr;
  QTableWidget* comparison_ = nullptr;
  QLabel* ceiling_ = nullptr;
};

}  // namespace bp::app
