#pragma once
// The Training tab: the launcher form (TrainingLaunchForm) beside the queue, runs, curves and
// comparison of the workspace's runs folder (TrainingRunsView).
#include <QWidget>

namespace bp::app {

class TrainingLaunchForm;
class TrainingQueue;
class TrainingRunsView;
class Workspace;

class TrainingPanel : public QWidget {
  Q_OBJECT
public:
  TrainingPanel(Workspace& workspace, TrainingQueue& queue, QWidget* parent = nullptr);

  TrainingLaunchForm* launchForm() const { return launchForm_; }
  TrainingRunsView* runsView() const { return runsView_; }

private:
  TrainingLaunchForm* launchForm_ = nullptr;
  TrainingRunsView* runsView_ = nullptr;
};

}  // namespace bp::app
