#include "app/nwb_import_dialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QLabel>
#include <QPushButton>
#include <QVBoxLayout>

namespace bp::app {
namespace {

// One entry per choice: its description, with the path (what the CLI takes) as data and tooltip.
QComboBox* chooser(const std::vector<bp::NwbChoice>& choices, const std::string& initial, QWidget* parent) {
  auto* combo = new QComboBox(parent);
  for (const auto& choice : choices) {
    combo->addItem(QStringLiteral("%1 — %2").arg(QString::fromStdString(choice.path),
                                                  QString::fromStdString(choice.description)),
                   QString::fromStdString(choice.path));
    combo->setItemData(combo->count() - 1, QString::fromStdString(choice.path), Qt::ToolTipRole);
  }
  const int chosen = combo->findData(QString::fromStdString(initial));
  combo->setCurrentIndex(chosen >= 0 ? chosen : 0);
  combo->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
  combo->setMinimumContentsLength(40);
  return combo;
}

QDoubleSpinBox* secondsSpin(double value, double minimum, QWidget* parent) {
  auto* spin = new QDoubleSpinBox(parent);
  spin->setRange(minimum, 60.0);
  spin->setDecimals(3);
  spin->setSingleStep(0.05);
  spin->setSuffix(QStringLiteral(" s"));
  spin->setValue(value);
  return spin;
}

}  // namespace

NwbImportDialog::NwbImportDialog(const QString& fileName, const bp::NwbContents& contents,
                                 const bp::NwbReadOptions& initial, QWidget* parent)
    : QDialog(parent), initial_(initial) {
  setWindowTitle(tr("Open NWB recording"));
  setObjectName(QStringLiteral("nwbImportDialog"));
  roiSeries_ = chooser(contents.roiSeries, initial.roiSeries, this);
  roiSeries_->setObjectName(QStringLiteral("nwbRoiSeries"));
  roiSeries_->setToolTip(tr("The RoiResponseSeries whose ROIs become the neurons (found by type, under Fluorescence "
                            "or DfOverF)"));
  presentations_ = chooser(contents.presentations, initial.presentations, this);
  presentations_->setObjectName(QStringLiteral("nwbPresentations"));
  presentations_->setToolTip(tr("What was shown: each presentation becomes a trial; repeats of one image share "
                                "its id"));
  windowStart_ = secondsSpin(initial.windowStart, -60.0, this);
  windowStart_->setObjectName(QStringLiteral("nwbWindowStart"));
  windowLength_ = secondsSpin(initial.windowLength, 0.001, this);
  windowLength_->setObjectName(QStringLiteral("nwbWindowLength"));
  windowNote_ = new QLabel(this);
  windowNote_->setWordWrap(true);

  auto* heading = new QLabel(tr("<b>%1</b>").arg(fileName.toHtmlEscaped()), this);
  auto* form = new QFormLayout;
  form->addRow(tr("ROI traces"), roiSeries_);
  form->addRow(tr("Presentations"), presentations_);
  form->addRow(tr("Window start"), windowStart_);
  form->addRow(tr("Window length"), windowLength_);
  form->addRow(QString(), windowNote_);
  auto* tiers = new QLabel(tr("Tiers come from the trials table's <i>tier</i> column when it has one; otherwise "
                              "images shown more than once are the test tier (a fifth of the images when all were "
                              "repeated) and a tenth of the others the validation tier."),
                           this);
  tiers->setWordWrap(true);

  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Open | QDialogButtonBox::Cancel, this);
  const bool readable = roiSeries_->count() > 0 && presentations_->count() > 0;
  buttons->button(QDialogButtonBox::Open)->setEnabled(readable);
  if (!readable)
    windowNote_->setText(tr("<span style='color:#c00000'>This file has no %1; it cannot be opened as a recording.</span>")
                             .arg(roiSeries_->count() == 0 ? tr("ROI traces (RoiResponseSeries)")
                                                           : tr("image presentations")));
  connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  auto update = [this, readable] {
    if (readable) updateWindowNote();
  };
  connect(windowStart_, &QDoubleSpinBox::valueChanged, this, update);
  connect(windowLength_, &QDoubleSpinBox::valueChanged, this, update);
  update();

  auto* layout = new QVBoxLayout(this);
  layout->addWidget(heading);
  layout->addLayout(form);
  layout->addWidget(tiers);
  layout->addWidget(buttons);
}

void NwbImportDialog::updateWindowNote() {
  windowNote_->setText(tr("Each response is the mean trace from %1 s to %2 s after its image's onset.")
                           .arg(windowStart_->value(), 0, 'g', 4)
                           .arg(windowStart_->value() + windowLength_->value(), 0, 'g', 4));
}

bp::NwbReadOptions NwbImportDialog::options() const {
  bp::NwbReadOptions options = initial_;
  options.roiSeries = roiSeries_->currentData().toString().toStdString();
  options.presentations = presentations_->currentData().toString().toStdString();
  options.windowStart = windowStart_->value();
  options.windowLength = windowLength_->value();
  return options;
}

}  // namespace bp::app
