#pragma once
// What a window has open, apart from the panels that show and edit it: the neural and image
// datasets, the fitted models, similarity matrices A and B, the runs folder, the probe's runs and
// image, the comparison's sources, and each panel's form settings. Panels observe it through its
// signals; the project file (ProjectController) saves and restores it; every change emits
// `changed`, which is how the window knows it has unsaved work. (The layout, tabs and geometry
// are the window's own and are not part of it.)
//
// Everything here is set on the GUI thread once a worker has prepared it.
#include <QObject>
#include <QString>
#include <QStringList>
#include <array>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/dataset_views.h"
#include "app/model_session.h"
#include "rsa/similarity.h"

namespace bp::app {

// A similarity matrix slot: the matrix, what it is (its title), and the file it was opened from or
// saved to (empty while it exists only in memory).
struct SimilaritySlot {
  std::shared_ptr<const bp::SimilarityMatrix> matrix;
  QString description;
  QString file;
};

// Where the comparison dashboard reads from: a folder of runs, the neural data that scores their
// layers, and the report.json files shown (empty: none).
struct ComparisonSources {
  QString runsFolder;
  QStringList importedModels;  // TorchScript files compared with the runs
  QString neuralPath;
  QString probeReportFile;
  QString predictivityReportFile;
  bool operator==(const ComparisonSources& other) const {
    return runsFolder == other.runsFolder && importedModels == other.importedModels && neuralPath == other.neuralPath &&
           probeReportFile == other.probeReportFile && predictivityReportFile == other.predictivityReportFile;
  }
};

class Workspace : public QObject {
  Q_OBJECT
public:
  enum MatrixSlot { A = 0, B = 1 };

  explicit Workspace(QObject* parent = nullptr);

  // Null views while nothing is open.
  std::shared_ptr<const NeuralDatasetView> neuralData() const { return neuralData_; }
  std::shared_ptr<const bp::NeuralDataset> neuralDataset() const { return neuralData_ ? neuralData_->dataset : nullptr; }
  void setNeuralData(NeuralDatasetView view);
  std::shared_ptr<const ImageDatasetView> images() const { return images_; }
  void setImages(ImageDatasetView view);

  const SimilaritySlot& similarity(MatrixSlot slot) const { return similarity_[slot]; }
  // `description` empty: keep the slot's description. `file` empty: the matrix exists only in memory.
  void setSimilarity(MatrixSlot slot, std::shared_ptr<const bp::SimilarityMatrix> matrix, const QString& description,
                     const QString& file = {});
  // Records that the slot's matrix now lives in `file` (a project saved it there).
  void setSimilarityFile(MatrixSlot slot, const QString& file);

  int modelCount() const { return static_cast<int>(models_.size()); }
  // Shared, for work that outlives the call (a save in a worker).
  std::shared_ptr<const ModelRecord> model(int index) const { return models_.at(static_cast<std::size_t>(index)); }
  // Adds a model and makes it the current one.
  void addModel(std::shared_ptr<ModelRecord> record);
  // Records that model `index` now lives in `path` (saved there by the user or by a project).
  void setModelFile(int index, const QString& path);
  // -1 while there is none.
  int currentModel() const { return currentModel_; }
  void setCurrentModel(int index);

  // The folder of classifier runs the Training panel lists and launches into (empty: none).
  QString runsFolder() const { return runsFolder_; }
  void setRunsFolder(const QString& folder);

  // The run folders the Probe's models came from (as the user chose them) and the image file it
  // shows (empty while a test image is shown).
  QStringList probeRuns() const { return probeRuns_; }
  void setProbeRuns(const QStringList& folders);
  QString probeImageFile() const { return probeImageFile_; }
  void setProbeImageFile(const QString& file);

  const ComparisonSources& comparison() const { return comparison_; }
  void setComparison(const ComparisonSources& sources);

  // A panel's form settings as JSON ("training", "fit", "probe", "comparison"); null when unset.
  nlohmann::json settings(const std::string& panel) const;
  void setSettings(const std::string& panel, nlohmann::json settings);

Q_SIGNALS:
  void neuralDataChanged();
  void imagesChanged();
  void similarityChanged(int slot);
  void modelAdded(int index);
  void modelChanged(int index);
  void currentModelChanged(int index);
  void runsFolderChanged(const QString& folder);
  void probeSourcesChanged();
  void comparisonChanged();
  void settingsChanged(const QString& panel);
  // After every change above: something a project saves is different now.
  void changed();

private:
  std::shared_ptr<const NeuralDatasetView> neuralData_;
  std::shared_ptr<const ImageDatasetView> images_;
  std::array<SimilaritySlot, 2> similarity_;
  std::vector<std::shared_ptr<ModelRecord>> models_;
  int currentModel_ = -1;
  QString runsFolder_;
  QStringList probeRuns_;
  QString probeImageFile_;
  ComparisonSources comparison_;
  std::map<std::string, nlohmann::json> settings_;
};

}  // namespace bp::app
