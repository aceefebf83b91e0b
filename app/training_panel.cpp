#include "app/training_panel.h"

#include <QHBoxLayout>
#include <QSplitter>

#include "app/controls_column.h"
#include "app/training_launch_form.h"
#include "app/training_runs_view.h"

namespace bp::app {

TrainingPanel::TrainingPanel(Workspace& workspace, TrainingQueue& queue, QWidget* parent) : QWidget(parent) {
  launchForm_ = new TrainingLaunchForm(workspace, queue, this);
  runsView_ = new TrainingRunsView(workspace, queue, this);
  connect(launchForm_, &TrainingLaunchForm::launchQueued, runsView_, &TrainingRunsView::showRuns);
  connect(runsView_, &TrainingRunsView::configRequested, launchForm_, &TrainingLaunchForm::applyConfig);

  markAsControls(launchForm_);
  auto* splitter = new QSplitter(Qt::Horizontal, this);
  splitter->addWidget(launchForm_);
  splitter->addWidget(runsView_);
  splitter->setStretchFactor(1, 1);
  auto* layout = new QHBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  layout->addWidget(splitter);
}

}  // namespace bp::app
