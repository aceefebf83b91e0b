#include "app/model_panel.h"

#include <QFileDialog>
#include <QFileInfo>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QPushButton>
#include <QRegularExpression>
#include <QVBoxLayout>
#include <algorithm>

#include "app/controls_column.h"
#include "app/model_fit_form.h"
#include "app/model_results_view.h"
#include "app/model_session.h"
#include "app/workspace.h"
#include "runtime/log.h"

namespace bp::app {

ModelPanel::ModelPanel(Workspace& workspace, JobRunner& jobs, QWidget* parent)
    : QWidget(parent), workspace_(workspace), jobs_(jobs) {
  fitForm_ = new ModelFitForm(workspace_, jobs_, this);
  results_ = new ModelResultsView(workspace_, jobs_, this);
  connect(fitForm_, &ModelFitForm::liveCurveChanged, results_, &ModelResultsView::showLiveCurve);

  auto* fileBox = new QGroupBox(tr("Models"), this);
  auto* fileLayout = new QVBoxLayout(fileBox);
  auto* openButton = new QPushButton(tr("Open model…"), fileBox);
  auto* saveButton = new QPushButton(tr("Save model…"), fileBox);
  auto* exportButton = new QPushButton(tr("Export figure (PNG/SVG/PDF)…"), fileBox);
  auto* pythonButton = new QPushButton(tr("Export for Python…"), fileBox);
  pythonButton->setToolTip(tr("The model's tensors as a state_dict that torch.load reads, with its config and "
                              "normalisation beside it"));
  fileLayout->addWidget(openButton);
  fileLayout->addWidget(saveButton);
  fileLayout->addWidget(pythonButton);
  fileLayout->addWidget(exportButton);
  connect(openButton, &QPushButton::clicked, this, &ModelPanel::chooseModelToOpen);
  connect(saveButton, &QPushButton::clicked, this, &ModelPanel::chooseWhereToSave);
  connect(pythonButton, &QPushButton::clicked, this, &ModelPanel::chooseWhereToExport);
  connect(exportButton, &QPushButton::clicked, results_, &ModelResultsView::chooseWhereToExportFigure);

  auto* controls = new QWidget(this);
  auto* controlsLayout = new QVBoxLayout(controls);
  controlsLayout->addWidget(fitForm_);
  controlsLayout->addWidget(fileBox);
  controlsLayout->addStretch(1);
  auto* layout = new QHBoxLayout(this);
  layout->addWidget(controlsColumn(controls, this));
  layout->addWidget(results_, 1);
}

void ModelPanel::openModel(const QString& path) {
  auto dataset = workspace_.neuralDataset();
  jobs_.run<std::shared_ptr<ModelRecord>>(
      tr("Opening model %1").arg(QFileInfo(path).fileName()),
      [path, dataset](const bp::Job& job) {
        return std::make_shared<ModelRecord>(loadModel(path.toStdString(), dataset.get(), job));
      },
      [this](std::shared_ptr<ModelRecord>& record) { workspace_.addModel(record); });
}

void ModelPanel::openModels(const QStringList& paths, const QStringList& names, int current) {
  auto dataset = workspace_.neuralDataset();
  jobs_.run<std::vector<std::shared_ptr<ModelRecord>>>(
      tr("Opening %n model(s)", nullptr, static_cast<int>(paths.size())),
      [paths, names, dataset](const bp::Job& job) {
        std::vector<std::shared_ptr<ModelRecord>> records;
        const double share = 1.0 / std::max<qsizetype>(1, paths.size());
        for (qsizetype i = 0; i < paths.size(); ++i) {
          auto record = std::make_shared<ModelRecord>(
              loadModel(paths[i].toStdString(), dataset.get(), job.subJob(i * share, (i + 1) * share)));
          if (i < names.size() && !names[i].isEmpty()) record->name = names[i].toStdString();
          records.push_back(std::move(record));
        }
        return records;
      },
      [this, current](std::vector<std::shared_ptr<ModelRecord>>& records) {
        for (auto& record : records) workspace_.addModel(std::move(record));
        workspace_.setCurrentModel(current);
      });
}

void ModelPanel::saveCurrentModel(const QString& path) {
  const int index = workspace_.currentModel();
  if (index < 0) return;
  auto record = workspace_.model(index);
  jobs_.run<bool>(
      tr("Saving model %1").arg(QFileInfo(path).fileName()),
      [record, path](const bp::Job&) {
        saveModel(*record, path.toStdString());
        return true;
      },
      [this, index, record, path](bool&) {
        bp::logInfo("Saved model " + path.toStdString() + " and its metrics beside it");
        if (index < workspace_.modelCount() && workspace_.model(index) == record) workspace_.setModelFile(index, path);
      });
}

void ModelPanel::exportCurrentModel(const QString& path) {
  const int index = workspace_.currentModel();
  if (index < 0) return;
  auto record = workspace_.model(index);
  jobs_.run<bool>(
      tr("Exporting model %1 for Python").arg(QFileInfo(path).fileName()),
      [record, path](const bp::Job&) {
        exportModelForPython(*record, path.toStdString());
        return true;
      },
      [path](bool&) { bp::logInfo("Exported " + path.toStdString() + " for Python (torch.load) and its description beside it"); });
}

void ModelPanel::chooseModelToOpen() {
  const QString path =
      QFileDialog::getOpenFileName(this, tr("Open a neural model"), {}, tr("BrainPrior neural models (*.pt);;All files (*)"));
  if (!path.isEmpty()) openModel(path);
}

QString ModelPanel::suggestedFileName(const char* extension) const {
  return QString::fromStdString(workspace_.model(workspace_.currentModel())->name)
             .replace(QRegularExpression(QStringLiteral("[^A-Za-z0-9._-]+")), QStringLiteral("-")) +
         QLatin1String(extension);
}

void ModelPanel::chooseWhereToSave() {
  if (workspace_.currentModel() < 0) return;
  const QString path = QFileDialog::getSaveFileName(this, tr("Save the neural model"), suggestedFileName(".pt"),
                                                    tr("BrainPrior neural models (*.pt)"));
  if (!path.isEmpty()) saveCurrentModel(path);
}

void ModelPanel::chooseWhereToExport() {
  if (workspace_.currentModel() < 0) return;
  const QString path = QFileDialog::getSaveFileName(this, tr("Export the neural model for Python"),
                                                    suggestedFileName(".pth"), tr("PyTorch state_dict (*.pth)"));
  if (!path.isEmpty()) exportCurrentModel(path);
}

}  // namespace bp::app
