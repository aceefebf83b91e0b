#pragma once
// The Models tab: the fit form and the model files (open, save, export a figure) on the left, what
// the workspace's models show on the right (ModelResultsView).
#include <QStringList>
#include <QWidget>

#include "app/job_runner.h"

namespace bp::app {

class ModelFitForm;
class ModelResultsView;
class Workspace;

class ModelPanel : public QWidget {
  Q_OBJECT
public:
  ModelPanel(Workspace& workspace, JobRunner& jobs, QWidget* parent = nullptr);

  // Opens a model file into the workspace (evaluated on its neural data when they match), in a worker.
  void openModel(const QString& path);
  // Opens several models in one worker and adds them in the given order, named `names` (where not
  // empty), then makes `current` the current one: a project's models come back as they were.
  void openModels(const QStringList& paths, const QStringList& names, int current);
  // Saves the current model (and its metrics beside it); the workspace then knows its file.
  void saveCurrentModel(const QString& path);
  // The current model for Python (brainprior-cli export): a state_dict and <path>.json, in a worker.
  void exportCurrentModel(const QString& path);

  ModelFitForm* fitForm() const { return fitForm_; }
  ModelResultsView* results() const { return results_; }

private:
  void chooseModelToOpen();
  void chooseWhereToSave();
  void chooseWhereToExport();
  // The current model's name as a file name with `extension`.
  QString suggestedFileName(const char* extension) const;

  Workspace& workspace_;
  JobRunner& jobs_;
  ModelFitForm* fitForm_ = nullptr;
  ModelResultsView* results_ = nullptr;
};

}  // namespace bp::app
