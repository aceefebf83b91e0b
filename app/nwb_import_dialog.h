#pragma once
// Opening an NWB file: which ROI traces and which presentations make the trials, and the window
// after each onset whose mean trace is the response (core/data/nwb.h). Shown for every NWB file,
// with the file's own choices, so what is read is never a silent guess.
#include <QDialog>

#include "data/nwb.h"

class QComboBox;
class QDoubleSpinBox;
class QLabel;

namespace bp::app {

class NwbImportDialog : public QDialog {
  Q_OBJECT
public:
  // `contents`: what the file offers (listNwbContents); `initial`: the options to start from (a
  // choice not in the file is replaced by its first).
  NwbImportDialog(const QString& fileName, const bp::NwbContents& contents, const bp::NwbReadOptions& initial,
                  QWidget* parent = nullptr);

  bp::NwbReadOptions options() const;
  QComboBox* roiSeriesChooser() const { return roiSeries_; }
  QComboBox* presentationsChooser() const { return presentations_; }
  QDoubleSpinBox* windowStartSpin() const { return windowStart_; }
  QDoubleSpinBox* windowLengthSpin() const { return windowLength_; }

private:
  void updateWindowNote();

  bp::NwbReadOptions initial_;
  QComboBox* roiSeries_ = nullptr;
  QComboBox* presentations_ = nullptr;
  QDoubleSpinBox* windowStart_ = nullptr;
  QDoubleSpinBox* windowLength_ = nullptr;
  QLabel* windowNote_ = nullptr;
};

}  // namespace bp::app
