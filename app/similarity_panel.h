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
class SeriesPlot;
}  // namespace bp::widgets

namespace bp::app {

class SimilarityPanel : public QWidget {
  Q_OBJECT
public:
  enum Slot { A = 0, B = 1 };

  SimilarityPanel(JobRunner& jobs, QWidget* parent = nullptr);

  // The dataset matrices are computed from, with one thumbnail per image id for the hover view.
  void setDataset(std::shared_ptr<const bp::NeuralDataset> dataset, QHash<qint64, QImage> thumbnails);
  // Computes a matrix from the dataset with the form's settings, into `slot` (in a worker).
  void computeInto(Slot slot);
  // `description` names the matrix in its title (empty: keep the slot's current description).
  void setMatrix(Slot slot, std::shared_ptr<const bp::SimilarityMatrix> matrix, const QString& description = {});
  // `description` as in setMatrix (empty: the file's name).
  void openMatrixFile(Slot slot, const QString& path, const QString& description = {});
  // The file a slot's matrix was opened from or saved to; empty for a matrix that exists only in
  // memory (computed here or by the Models panel). Projects save such matrices before they refer
  // to them, then record the file with setMatrixFile.
  QString matrixFile(Slot slot) const { return files_[slot]; }
  void setMatrixFile(Slot slot, const QString& path) { files_[slot] = path; }
  QString description(Slot slot) const { return descriptions_[slot]; }
  // Compares A with B over the upper triangle (bootstrap intervals, permutation p-values).
  void compareAWithB();
  // Split-half noise ceiling and single-trial agreement, for the form's source, tier and measure.
  void computeNoiseCeiling();
  std::shared_ptr<const bp::SimilarityMatrix> matrix(Slot slot) const { return matrices_[slot]; }

  bp::widgets::HeatmapView* heatmap(Slot slot) const { return heatmaps_[slot]; }
  // What the hover box says now (tests read it).
  QString hoverText() const;

  // Form settings, exposed so that demos and tests can set them without the mouse.
  QComboBox* tierBox() const { return tier_; }
  QComboBox* rowsBox() const { return rows_; }  // 0: average over repeats, 1: single trial
  QSpinBox* singleTrialSpin() const { return singleTrial_; }

Q_SIGNALS:
  void matrixChanged(int slot);
  void comparisonFinished();

private:
  bp::FeatureSelection selectionFromForm() const;
  bp::SimilarityConfig configFromForm() const;
  QString describeForm() const;
  void showHover(Slot slot, int row, int col, double value);
  void updateDifference();
  void computeMds();
  void saveMatrix(Slot slot);
  void exportFigure();
  void applyColormap();

  JobRunner& jobs_;
  std::shared_ptr<const bp::NeuralDataset> dataset_;
  QHash<qint64, QImage> thumbnails_;
  std::array<std::shared_ptr<const bp::SimilarityMatrix>, 2> matrices_;
  std::array<bp::widgets::HeatmapView*, 2> heatmaps_{};
  std::array<QString, 2> descriptions_;
  std::array<QString, 2> files_;
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

  QLabel* hoverImages_[2] = {nullptr, nullptr};
  QLabel* hoverText_ = nullptr;
  QTableWidget* comparison_ = nullptr;
  QLabel* ceiling_ = nullptr;
};

}  // namespace bp::app
