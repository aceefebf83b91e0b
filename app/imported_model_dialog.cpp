#include "app/imported_model_dialog.h"

#include <QComboBox>
#include <QDialog>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QSpinBox>
#include <QVBoxLayout>

#include <exception>
#include <filesystem>
#include <system_error>
#include <vector>

#include "classifiers/scripted_model_description.h"

namespace bp::app {
namespace {

// torchvision's ImageNet statistics, in [0, 1] units: what most PyTorch image models expect.
const std::vector<float> kImageNetMean = {0.485f, 0.456f, 0.406f};
const std::vector<float> kImageNetStd = {0.229f, 0.224f, 0.225f};

QString numbersText(const std::vector<float>& values) {
  QStringList parts;
  for (const float value : values) parts << QString::number(static_cast<double>(value));
  return parts.join(", ");
}

// Comma-separated numbers; nullopt when any part is not a number.
std::optional<std::vector<float>> parseNumbers(const QString& text) {
  std::vector<float> values;
  for (const QString& part : text.split(',', Qt::SkipEmptyParts)) {
    bool ok = false;
    const float value = part.trimmed().toFloat(&ok);
    if (!ok) return std::nullopt;
    values.push_back(value);
  }
  return values;
}

}  // namespace

QString chooseTorchScriptFile(QWidget* parent) {
  return QFileDialog::getOpenFileName(parent, QObject::tr("Add a TorchScript model"), {},
                                      QObject::tr("TorchScript models (*.pt *.pth *.ts *.torchscript);;All files (*)"));
}

bool ensureImportedModelDescription(QWidget* parent, const QString& modelFile) {
  std::error_code ec;
  if (std::filesystem::is_regular_file(bp::scriptedModelDescriptionPath(modelFile.toStdString()), ec)) return true;
  QDialog dialog(parent);
  dialog.setWindowTitle(QObject::tr("Preprocessing of %1").arg(QFileInfo(modelFile).fileName()));
  auto* layout = new QVBoxLayout(&dialog);
  auto* intro = new QLabel(
      QObject::tr("How does this network want its images? BrainPrior brings every image to this input and "
                  "keeps the answer beside the model (%1.json), for every analysis and every later session.")
          .arg(QFileInfo(modelFile).fileName()),
      &dialog);
  intro->setWordWrap(true);
  layout->addWidget(intro);
  auto* form = new QFormLayout;
  auto* channels = new QComboBox(&dialog);
  channels->addItem(QObject::tr("3 (colour)"), 3);
  channels->addItem(QObject::tr("1 (grey)"), 1);
  auto* height = new QSpinBox(&dialog);
  auto* width = new QSpinBox(&dialog);
  for (QSpinBox* side : {height, width}) {
    side->setRange(8, 4096);
    side->setValue(224);
    side->setSuffix(QObject::tr(" px"));
  }
  auto* range = new QComboBox(&dialog);
  range->addItem(QObject::tr("0 to 1 (torchvision's ToTensor)"), 1.0);
  range->addItem(QObject::tr("0 to 255 (raw pixels)"), 255.0);
  auto* preset = new QComboBox(&dialog);
  preset->addItems({QObject::tr("ImageNet (torchvision's mean and std)"), QObject::tr("None (mean 0, std 1)"),
                    QObject::tr("Custom")});
  auto* mean = new QLineEdit(&dialog);
  auto* std = new QLineEdit(&dialog);
  const auto applyPreset = [&] {
    const int count = channels->currentData().toInt();
    const double scale = range->currentData().toDouble();
    if (preset->currentIndex() == 0) {
      std::vector<float> m = kImageNetMean;
      std::vector<float> s = kImageNetStd;
      if (count == 1) {
        m = {0.449f};  // the channels' mean, for grey networks trained on ImageNet converted to grey
        s = {0.226f};
      }
      for (float& v : m) v *= static_cast<float>(scale);
      for (float& v : s) v *= static_cast<float>(scale);
      mean->setText(numbersText(m));
      std->setText(numbersText(s));
    } else if (preset->currentIndex() == 1) {
      mean->setText(numbersText(std::vector<float>(static_cast<std::size_t>(count), 0.0f)));
      std->setText(numbersText(std::vector<float>(static_cast<std::size_t>(count), 1.0f)));
    }
    mean->setReadOnly(preset->currentIndex() != 2);
    std->setReadOnly(preset->currentIndex() != 2);
  };
  QObject::connect(channels, &QComboBox::currentIndexChanged, &dialog, applyPreset);
  QObject::connect(range, &QComboBox::currentIndexChanged, &dialog, applyPreset);
  QObject::connect(preset, &QComboBox::currentIndexChanged, &dialog, applyPreset);
  applyPreset();
  form->addRow(QObject::tr("Input channels"), channels);
  form->addRow(QObject::tr("Input height"), height);
  form->addRow(QObject::tr("Input width"), width);
  form->addRow(QObject::tr("Pixel range"), range);
  form->addRow(QObject::tr("Normalisation"), preset);
  form->addRow(QObject::tr("Mean per channel"), mean);
  form->addRow(QObject::tr("Std per channel"), std);
  layout->addLayout(form);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Save | QDialogButtonBox::Cancel, &dialog);
  QObject::connect(buttons, &QDialogButtonBox::accepted, &dialog, &QDialog::accept);
  QObject::connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
  layout->addWidget(buttons);

  while (dialog.exec() == QDialog::Accepted) {
    bp::ScriptedModelDescription description;
    bp::ScriptedModelInput& input = description.input;
    input.channels = channels->currentData().toInt();
    input.height = height->value();
    input.width = width->value();
    input.rangeHigh = range->currentData().toDouble();
    const auto meanValues = parseNumbers(mean->text());
    const auto stdValues = parseNumbers(std->text());
    if (!meanValues || !stdValues) {
      QMessageBox::warning(&dialog, dialog.windowTitle(), QObject::tr("Mean and std are numbers separated by commas."));
      continue;
    }
    input.mean = *meanValues;
    input.std = *stdValues;
    try {
      bp::writeScriptedModelDescription(modelFile.toStdString(), description);
      return true;
    } catch (const std::exception& error) {
      QMessageBox::warning(&dialog, dialog.windowTitle(), QString::fromStdString(error.what()));
    }
  }
  return false;
}

}  // namespace bp::app
