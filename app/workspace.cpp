#include "app/workspace.h"

#include <QDir>

namespace bp::app {

Workspace::Workspace(QObject* parent) : QObject(parent) {
  for (auto signal : {&Workspace::neuralDataChanged, &Workspace::imagesChanged, &Workspace::probeSourcesChanged,
                      &Workspace::comparisonChanged})
    connect(this, signal, this, &Workspace::changed);
  connect(this, &Workspace::similarityChanged, this, &Workspace::changed);
  connect(this, &Workspace::modelAdded, this, &Workspace::changed);
  connect(this, &Workspace::modelChanged, this, &Workspace::changed);
  connect(this, &Workspace::currentModelChanged, this, &Workspace::changed);
  connect(this, &Workspace::runsFolderChanged, this, &Workspace::changed);
  connect(this, &Workspace::settingsChanged, this, &Workspace::changed);
}

void Workspace::setNeuralData(NeuralDatasetView view) {
  neuralData_ = std::make_shared<const NeuralDatasetView>(std::move(view));
  Q_EMIT neuralDataChanged();
}

void Workspace::setImages(ImageDatasetView view) {
  images_ = std::make_shared<const ImageDatasetView>(std::move(view));
  Q_EMIT imagesChanged();
}

void Workspace::setSimilarity(MatrixSlot slot, std::shared_ptr<const bp::SimilarityMatrix> matrix,
                              const QString& description, const QString& file) {
  SimilaritySlot& entry = similarity_[slot];
  entry.matrix = std::move(matrix);
  if (!description.isEmpty()) entry.description = description;
  entry.file = file;
  Q_EMIT similarityChanged(slot);
}

void Workspace::setSimilarityFile(MatrixSlot slot, const QString& file) {
  if (similarity_[slot].file == file) return;
  similarity_[slot].file = file;
  Q_EMIT similarityChanged(slot);
}

void Workspace::addModel(std::shared_ptr<ModelRecord> record) {
  models_.push_back(std::move(record));
  currentModel_ = modelCount() - 1;
  Q_EMIT modelAdded(currentModel_);
  Q_EMIT currentModelChanged(currentModel_);
}

void Workspace::setModelFile(int index, const QString& path) {
  if (index < 0 || index >= modelCount() || models_[static_cast<std::size_t>(index)]->file == path.toStdString()) return;
  models_[static_cast<std::size_t>(index)]->file = path.toStdString();
  Q_EMIT modelChanged(index);
}

void Workspace::setCurrentModel(int index) {
  if (index < 0 || index >= modelCount() || index == currentModel_) return;
  currentModel_ = index;
  Q_EMIT currentModelChanged(index);
}

void Workspace::setRunsFolder(const QString& folder) {
  const QString absolute = folder.isEmpty() ? QString() : QDir(folder).absolutePath();
  if (absolute == runsFolder_) return;
  runsFolder_ = absolute;
  Q_EMIT runsFolderChanged(runsFolder_);
}

void Workspace::setProbeRuns(const QStringList& folders) {
  if (folders == probeRuns_) return;
  probeRuns_ = folders;
  Q_EMIT probeSourcesChanged();
}

void Workspace::setProbeImageFile(const QString& file) {
  if (file == probeImageFile_) return;
  probeImageFile_ = file;
  Q_EMIT probeSourcesChanged();
}

void Workspace::setComparison(const ComparisonSources& sources) {
  if (sources == comparison_) return;
  comparison_ = sources;
  Q_EMIT comparisonChanged();
}

nlohmann::json Workspace::settings(const std::string& panel) const {
  const auto found = settings_.find(panel);
  return found == settings_.end() ? nlohmann::json() : found->second;
}

void Workspace::setSettings(const std::string& panel, nlohmann::json settings) {
  nlohmann::json& stored = settings_[panel];
  if (stored == settings) return;
  stored = std::move(settings);
  Q_EMIT settingsChanged(QString::fromStdString(panel));
}

}  // namespace bp::app
