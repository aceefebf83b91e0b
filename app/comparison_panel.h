#pragma once
// The comparison dashboard: several trained models (the launches of a folder of runs, each over
// its seeds) measured side by side, as the papers print them: clean accuracy, accuracy under noise
// and its area, the median minimum adversarial perturbation (Li et al. 2019's table), success
// rate against the budget, and neural predictivity against accuracy with its per-layer profile
// (Linsley et al. 2023). The numbers come from the engine's probe and predictivity reports: run
// here (in a worker, written into the runs folder exactly as `brainprior-cli probe` and
// `brainprior-cli predictivity --output-dir` write them) or opened from a report.json the CLI wrote.
// Every figure exports as PNG, SVG or PDF; the table as CSV, and the reports as JSON.
#include <QString>
#include <QStringList>
#include <QWidget>

#include <nlohmann/json.hpp>

#include "app/job_runner.h"
#include "app/workspace.h"

class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;
class QTableWidget;

namespace bp::widgets {
class BarPlot;
class SeriesPlot;
}  // namespace bp::widgets

namespace bp {
struct AlphaTradeOffMeasure;
}

namespace bp::app {

// The runs folder, the neural path and the report files shown are the workspace's comparison
// sources; the probe preset is its "comparison" settings.
class ComparisonPanel : public QWidget {
  Q_OBJECT
public:
  ComparisonPanel(Workspace& workspace, JobRunner& jobs, QWidget* parent = nullptr);

  void setRunsFolder(const QString& folder);
  // TorchScript models (files) probed and scored together with the runs.
  void setImportedModels(const QStringList& files);
  QStringList importedModels() const;
  QString runsFolder() const;
  // Probes the runs folder's finished runs with the chosen preset or config file; the report is
  // written to <runs folder>/probe-report/ and shown.
  void runProbe();
  // Scores the runs' layers against the neural dataset in the neural field; written to
  // <runs folder>/predictivity-report/ and shown.
  void runPredictivity();
  // Shows a probe or predictivity report (report.json of either command; the format key tells
  // which). False, with the reason shown, for anything else.
  bool openReport(const QString& path);
  void setProbeReport(const nlohmann::json& report);
  // The shown probe report's warnings (figures that are not findings), listed above the table.
  QStringList warnings() const;
  void setPredictivityReport(const nlohmann::json& report);
  // Writes the table as shown (CSV, atomically) or the current reports (JSON); false with *error.
  bool exportTable(const QString& path, QString* error) const;
  bool exportReports(const QString& path, QString* error) const;
  // Every figure that shows a report, each as <path's base name>-<noise|adversarial|predictivity|
  // layers>.<path's extension> beside `path`; the files written (up to the first failure, *error set).
  QStringList exportFigures(const QString& path, QString* error) const;

  void setNeuralPath(const QString& path);
  QString neuralPath() const;
  void setProbePreset(const QString& name);
  QString probePreset() const;
  QTableWidget* table() const { return table_; }
  bp::widgets::SeriesPlot* noisePlot() const { return noise_; }
  bp::widgets::BarPlot* perturbationPlot() const { return perturbation_; }
  bp::widgets::SeriesPlot* predictivityPlot() const { return predictivity_; }
  bp::widgets::SeriesPlot* layerPlot() const { return layers_; }

Q_SIGNALS:
  void reportShown();

private:
  void chooseRunsFolder();
  void chooseNeuralData();
  void chooseReportToOpen();
  void exportFigures();
  void chooseTableExport();
  void fillTable();
  void drawNoise();
  // Clean accuracy against a robustness measure over the launches' alphas, in the noise figure.
  void drawTradeOff(const bp::AlphaTradeOffMeasure& measure);
  void drawPerturbation();
  void drawPredictivity();
  QString outputFolder(const QString& name) const;
  // Records the report.json of a report shown (written by Run Probe / Run Predictivity, or opened).
  void setReportFile(QString ComparisonSources::*report, const QString& file);
  void publishSources();

  Workspace& workspace_;
  JobRunner& jobs_;
  nlohmann::json probeReport_;         // null until a probe report is shown
  nlohmann::json predictivityReport_;  // null until a predictivity report is shown

  QLineEdit* runsFolder_ = nullptr;
  QLineEdit* importedModels_ = nullptr;
  QLineEdit* predictivityLayers_ = nullptr;
  QComboBox* probePreset_ = nullptr;
  QSpinBox* maxImages_ = nullptr;
  QLineEdit* neuralPath_ = nullptr;
  QComboBox* readout_ = nullptr;
  QLabel* summary_ = nullptr;
  QLabel* warnings_ = nullptr;
  QTableWidget* table_ = nullptr;
  QComboBox* sweep_ = nullptr;
  QComboBox* attack_ = nullptr;
  bp::widgets::SeriesPlot* noise_ = nullptr;
  bp::widgets::BarPlot* perturbation_ = nullptr;
  bp::widgets::SeriesPlot* predictivity_ = nullptr;
  bp::widgets::SeriesPlot* layers_ = nullptr;
};

}  // namespace bp::app
