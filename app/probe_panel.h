#pragma once
// The interactive probe, for exploring and for demos: trained classifiers (finished runs and
// imported TorchScript models) side by side, one image (a test image of their dataset, or any dropped or opened file), a corruption
// with its severity on a slider, an adversarial attack on one model at the press of a button, and
// what every model then does: its class probabilities and its saliency map. The image, what the
// models are shown, and the perturbation (amplified) are drawn above.
//
// Every change runs the probe again on a worker, the latest settings winning: while one probe
// runs, further changes wait and only the last is run. The small models answer within tens of
// milliseconds on the CPU, so the sliders feel live.
#include <QString>
#include <QStringList>
#include <QWidget>
#include <memory>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/job_runner.h"
#include "app/probe_session.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QListWidget;
class QPushButton;
class QSlider;
class QSpinBox;
class QGridLayout;

namespace bp::widgets {
class BarPlot;
class ColorBar;
}  // namespace bp::widgets

namespace bp::app {

class Workspace;

class ProbePanel : public QWidget {
  Q_OBJECT
public:
  ProbePanel(Workspace& workspace, JobRunner& jobs, QWidget* parent = nullptr);

  // Loads the finished runs among `folders` (run folders or folders of runs) and the imported models
  // (TorchScript files) in a worker, with the first 2,000 test images of the runs' dataset (or of the
  // imported models' images), and replaces the loaded models.
  void loadRuns(const QStringList& folders);
  // The labelled images (an image dataset) imported models are shown when no run names test images;
  // Add TorchScript Model… asks for them.
  void setImportedModelImages(const QString& path) { importedModelImages_ = path; }
  // Shows test image `index` of the loaded set.
  void showTestImage(int index);
  // Shows an image file (any size; resized to the probe images' size); false with the reason shown.
  bool showImageFile(const QString& path);
  // corruption: "none" or a corruption kind (corruptions.h); severity in the kind's own units.
  void setCorruption(const QString& corruption, double severity);
  // Turns the attack on (with `attack` and budget `epsilon` against model `model`) or off.
  void setAttack(ProbeAttack attack, double epsilon, int model);
  void setAttackEnabled(bool enabled);
  // The folders the models came from (as given to loadRuns) and the image file shown (empty while a
  // test image is shown) are the workspace's probe sources; the settings are its "probe" settings.
  // Every control's setting, as the controls hold it (slider steps, combo indices), so applying it
  // to a panel with the same models brings back exactly the same probe.
  nlohmann::json settings() const;
  void applySettings(const nlohmann::json& settings);

  int modelCount() const { return static_cast<int>(models_.size()); }
  int imageCount() const { return static_cast<int>(images_.count()); }
  // The last probe's result (empty models until one has run).
  const ProbeOutcome& outcome() const { return outcome_; }
  // True while a probe runs or waits.
  bool busy() const { return probeRunning_ || probePending_; }
  QString statusText() const;
  QPushButton* attackButton() const { return attackButton_; }
  // The scales of model `index`'s saliency map and of the perturbation (tests read their labels).
  const bp::widgets::ColorBar* saliencyScale(int index) const { return rows_.at(static_cast<std::size_t>(index)).saliencyScale; }
  const bp::widgets::ColorBar* perturbationScale() const { return perturbationScale_; }

Q_SIGNALS:
  void modelsLoaded(int count);
  // A probe ended; `error` is empty on success.
  void probed(const QString& error);

protected:
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dropEvent(QDropEvent* event) override;

private:
  void buildControls();
  void chooseRunsToLoad();
  void chooseModelToImport();
  void chooseImageToOpen();
  void onCorruptionKindChanged();
  void onAttackKindChanged();
  double severity() const;
  double epsilon() const;
  void updateValueLabels();
  void requestProbe();
  void startProbe();
  void showOutcome();
  void rebuildModelRows();
  void setImage(std::vector<float> pixels, int label, const QString& description);

  Workspace& workspace_;
  JobRunner& jobs_;      // loading: progress and errors in the main window
  JobRunner probeJobs_;  // the interactive probes: quick, frequent, reported here
  std::vector<ProbeModel> models_;
  // The labelled images imported models are shown when no run names test images.
  QString importedModelImages_;
  ProbeImageSet images_;
  std::vector<float> image_;
  int label_ = -1;
  ProbeOutcome outcome_;
  QString status_;
  bool probeRunning_ = false;
  bool probePending_ = false;

  QListWidget* modelList_ = nullptr;
  QSpinBox* imageIndex_ = nullptr;
  QLabel* imageSource_ = nullptr;
  QComboBox* corruption_ = nullptr;
  QSlider* severity_ = nullptr;
  QLabel* severityValue_ = nullptr;
  QSpinBox* noiseSeed_ = nullptr;
  QComboBox* attack_ = nullptr;
  QSlider* epsilon_ = nullptr;
  QLabel* epsilonValue_ = nullptr;
  QComboBox* attackedModel_ = nullptr;
  QPushButton* attackButton_ = nullptr;
  QLabel* originalView_ = nullptr;
  QLabel* shownView_ = nullptr;
  QLabel* perturbationView_ = nullptr;
  QLabel* perturbationText_ = nullptr;
  bp::widgets::ColorBar* perturbationScale_ = nullptr;
  QLabel* statusLabel_ = nullptr;
  QGridLayout* modelRows_ = nullptr;
  struct ModelRow {
    QLabel* title;
    bp::widgets::BarPlot* probabilities;
    QLabel* saliency;
    bp::widgets::ColorBar* saliencyScale;
  };
  std::vector<ModelRow> rows_;
};

}  // namespace bp::app
