#include "app/comparison_panel.h"

#include "widgets/custom_plot.h"

#include <QComboBox>
#include <QDir>
#include <QFileDialog>
#include <filesystem>
#include <QFileInfo>
#include <QFont>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QTableWidget>
#include <QSplitter>
#include <QVBoxLayout>
#include <cmath>
#include <limits>
#include <map>

#include "app/controls_column.h"
#include "app/imported_model_dialog.h"
#include "app/probe_session.h"
#include "probing/alpha_trade_off.h"
#include "runtime/atomic_file.h"
#include "runtime/config_reader.h"
#include "runtime/csv.h"
#include "widgets/bar_plot.h"
#include "widgets/palette.h"
#include "widgets/plot_export.h"
#include "widgets/plot_style.h"
#include "widgets/series_plot.h"

namespace bp::app {
namespace {

constexpr const char* kProbeFormat = "brainprior probe report";
constexpr const char* kPredictivityFormat = "brainprior predictivity report";
constexpr const char* kConfigFileChoice = "config file…";
constexpr double kNoSpread = std::numeric_limits<double>::quiet_NaN();

double number(const nlohmann::json& value) {
  return value.is_number() ? value.get<double>() : std::numeric_limits<double>::quiet_NaN();
}

// "0.876 ± 0.005", "0.876" without a spread, "—" for nothing; +inf (null in a report) is "—" too.
QString withSpread(double mean, double sem, int digits) {
  if (!std::isfinite(mean)) return QStringLiteral("—");
  if (!std::isfinite(sem)) return QString::number(mean, 'f', digits);
  return QStringLiteral("%1 ± %2").arg(mean, 0, 'f', digits).arg(sem, 0, 'f', digits);
}

QString text(const nlohmann::json& value) { return QString::fromStdString(value.get<std::string>()); }

// "gaussian_noise" -> "Gaussian noise", "salt_and_pepper" -> "salt and pepper".
QString corruptionLabel(const nlohmann::json& kind) {
  return text(kind).replace(QLatin1Char('_'), QLatin1Char(' ')).replace(QStringLiteral("gaussian"), QStringLiteral("Gaussian"));
}

// How a minimum-norm attack is named to a reader: "pgd_linf_search" -> "PGD search (L∞ budget)".
QString attackLabel(const std::string& name) {
  if (name == "boundary") return QObject::tr("boundary attack");
  if (name == "pgd_linf_search") return QObject::tr("PGD search (L∞ budget)");
  if (name == "pgd_l2_search") return QObject::tr("PGD search (L2 budget)");
  return QString::fromStdString(name);
}

// The column heading of a minimum-norm attack: "Median min L2, PGD search (L∞ budget)".
QString attackHeading(const nlohmann::json& attack) {
  const bool l2 = attack.at("norm").get<std::string>() == "l2";
  return QStringLiteral("Median min %1, %2")
      .arg(l2 ? QStringLiteral("L2") : QStringLiteral("L∞"), attackLabel(attack.at("attack").get<std::string>()));
}

// The launches of a report in order, each with its models' indices (predictivity reports list
// models only; probe reports list both, but both are grouped the same way here).
std::vector<std::pair<std::string, std::vector<std::size_t>>> launchesOf(const nlohmann::json& models) {
  std::vector<std::pair<std::string, std::vector<std::size_t>>> launches;
  for (std::size_t i = 0; i < models.size(); ++i) {
    const std::string launch = models[i].at("launch").get<std::string>();
    auto found = std::find_if(launches.begin(), launches.end(), [&](const auto& entry) { return entry.first == launch; });
    if (found == launches.end()) {
      launches.push_back({launch, {}});
      found = std::prev(launches.end());
    }
    found->second.push_back(i);
  }
  return launches;
}

// The entry of `list` (a report's "launches") named `name`, or null.
const nlohmann::json* launchNamed(const nlohmann::json& list, const std::string& name) {
  for (const auto& launch : list)
    if (launch.at("name").get<std::string>() == name) return &launch;
  return nullptr;
}

// The best tap's median r of a predictivity report's model.
double bestLayerR(const nlohmann::json& model) {
  const std::string best = model.value("best_layer", std::string());
  for (const auto& layer : model.at("layers"))
    if (layer.at("tap").get<std::string>() == best) return number(layer.at("median_r"));
  return std::numeric_limits<double>::quiet_NaN();
}

QTableWidgetItem* cell(const QString& value, bool bold = false) {
  auto* item = new QTableWidgetItem(value);
  item->setFlags(item->flags() & ~Qt::ItemIsEditable);
  if (bold) {
    QFont font = item->font();
    font.setBold(true);
    item->setFont(font);
  }
  return item;
}

}  // namespace

ComparisonPanel::ComparisonPanel(Workspace& workspace, JobRunner& jobs, QWidget* parent)
    : QWidget(parent), workspace_(workspace), jobs_(jobs) {
  auto* form = new QFormLayout;
  runsFolder_ = new QLineEdit(this);
  runsFolder_->setPlaceholderText(tr("A folder of training runs (the Training tab's output folder)"));
  auto* browseRuns = new QPushButton(tr("Browse…"), this);
  connect(browseRuns, &QPushButton::clicked, this, &ComparisonPanel::chooseRunsFolder);
  auto* runsRow = new QHBoxLayout;
  runsRow->addWidget(runsFolder_, 1);
  runsRow->addWidget(browseRuns);
  form->addRow(tr("Runs"), runsRow);
  importedModels_ = new QLineEdit(this);
  importedModels_->setObjectName("importedModels");
  importedModels_->setPlaceholderText(tr("Optional: TorchScript models to compare with the runs, separated by ;"));
  importedModels_->setToolTip(tr("Probed on the runs' test images and scored against the same neurons; each "
                                 "declares its preprocessing in <file>.json"));
  auto* addModel = new QPushButton(tr("Add…"), this);
  addModel->setToolTip(tr("Add a TorchScript model (its preprocessing is asked for once and kept beside it)"));
  connect(addModel, &QPushButton::clicked, this, [this] {
    const QString file = chooseTorchScriptFile(this);
    if (file.isEmpty() || !ensureImportedModelDescription(this, file)) return;
    QStringList files = importedModels();
    if (!files.contains(file)) files << file;
    setImportedModels(files);
  });
  auto* modelsRow = new QHBoxLayout;
  modelsRow->addWidget(importedModels_, 1);
  modelsRow->addWidget(addModel);
  form->addRow(tr("Models"), modelsRow);

  probePreset_ = new QComboBox(this);
  for (const std::string& name : probeConfigPresets()) probePreset_->addItem(QString::fromStdString(name));
  probePreset_->addItem(tr(kConfigFileChoice));
  probePreset_->setToolTip(tr("quick: 100 images, noise, PGD searches; noise and PGD: 500 images; paper: 1,000 "
                              "images, noise, PGD searches, the boundary attack and a success curve; or a "
                              "`brainprior-cli probe --config` file"));
  maxImages_ = new QSpinBox(this);
  maxImages_->setRange(0, 100000);
  maxImages_->setSpecialValueText(tr("all"));
  maxImages_->setSuffix(tr(" images"));
  connect(probePreset_, &QComboBox::currentIndexChanged, this, [this] {
    const QString name = probePreset_->currentText();
    if (name != tr(kConfigFileChoice))
      maxImages_->setValue(static_cast<int>(probeConfigPreset(name.toStdString()).at("max_images").get<std::int64_t>()));
  });
  maxImages_->setValue(static_cast<int>(probeConfigPreset(probeConfigPresets().front()).at("max_images").get<std::int64_t>()));
  auto* runProbeButton = new QPushButton(tr("Run Probe"), this);
  runProbeButton->setToolTip(tr("Noise sweeps and minimum adversarial perturbations of every finished run"));
  connect(runProbeButton, &QPushButton::clicked, this, &ComparisonPanel::runProbe);
  auto* probeRow = new QHBoxLayout;
  probeRow->addWidget(probePreset_);
  probeRow->addWidget(maxImages_);
  probeRow->addWidget(runProbeButton);
  probeRow->addStretch(1);
  form->addRow(tr("Robustness"), probeRow);

  neuralPath_ = new QLineEdit(this);
  neuralPath_->setPlaceholderText(tr("Neural recordings of the same kind of images (any format the Neural data tab opens)"));
  auto* browseNeural = new QPushButton(tr("Browse…"), this);
  connect(browseNeural, &QPushButton::clicked, this, &ComparisonPanel::chooseNeuralData);
  readout_ = new QComboBox(this);
  readout_->addItem(tr("ridge"), QStringLiteral("ridge"));
  readout_->addItem(tr("PLS (25 components)"), QStringLiteral("pls"));
  predictivityLayers_ = new QLineEdit(this);
  predictivityLayers_->setObjectName("predictivityLayers");
  predictivityLayers_->setPlaceholderText(tr("all layers"));
  predictivityLayers_->setToolTip(tr("Score only these layers, by name, separated by commas (e.g. stage2, stage3); "
                                     "each model scores those it has. Empty: every layer"));
  predictivityLayers_->setMaximumWidth(140);
  auto* runPredictivityButton = new QPushButton(tr("Run Predictivity"), this);
  runPredictivityButton->setToolTip(tr("Cross-validated linear readouts of every layer to the neurons"));
  connect(runPredictivityButton, &QPushButton::clicked, this, &ComparisonPanel::runPredictivity);
  auto* neuralRow = new QHBoxLayout;
  neuralRow->addWidget(neuralPath_, 1);
  neuralRow->addWidget(browseNeural);
  neuralRow->addWidget(readout_);
  neuralRow->addWidget(predictivityLayers_);
  neuralRow->addWidget(runPredictivityButton);
  form->addRow(tr("Predictivity"), neuralRow);

  auto* openReport = new QPushButton(tr("Open Report…"), this);
  openReport->setToolTip(tr("A report.json written by brainprior-cli probe or predictivity --output-dir"));
  connect(openReport, &QPushButton::clicked, this, &ComparisonPanel::chooseReportToOpen);
  auto* exportFigure = new QPushButton(tr("Export Figures…"), this);
  exportFigure->setToolTip(tr("Every figure shown, as <name>-noise, -adversarial, -predictivity and -layers files"));
  connect(exportFigure, &QPushButton::clicked, this, qOverload<>(&ComparisonPanel::exportFigures));
  auto* exportTableButton = new QPushButton(tr("Export Table…"), this);
  exportTableButton->setToolTip(tr("The table as CSV, or both reports as one JSON file"));
  connect(exportTableButton, &QPushButton::clicked, this, &ComparisonPanel::chooseTableExport);
  auto* actions = new QHBoxLayout;
  summary_ = new QLabel(tr("Run a probe or open a report."), this);
  summary_->setWordWrap(true);
  actions->addWidget(summary_, 1);
  actions->addWidget(openReport);
  actions->addWidget(exportFigure);
  actions->addWidget(exportTableButton);
  warnings_ = new QLabel(this);
  warnings_->setWordWrap(true);
  warnings_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  warnings_->setStyleSheet(QStringLiteral("color:#d55e00"));
  warnings_->hide();

  // The dashboard: the table above, the four figures side by side below.
  table_ = new QTableWidget(this);
  table_->verticalHeader()->setVisible(false);
  table_->setAlternatingRowColors(true);
  const auto figure = [this](QWidget* plot, QComboBox* chooser) {
    auto* page = new QWidget(this);
    auto* pageLayout = new QVBoxLayout(page);
    pageLayout->setContentsMargins(0, 0, 0, 0);
    if (chooser != nullptr) pageLayout->addWidget(chooser, 0, Qt::AlignLeft);
    pageLayout->addWidget(plot, 1);
    return page;
  };
  sweep_ = new QComboBox(this);
  sweep_->setObjectName(QStringLiteral("noiseChooser"));
  sweep_->setToolTip(tr("The corruption whose curves are drawn"));
  connect(sweep_, &QComboBox::currentIndexChanged, this, &ComparisonPanel::drawNoise);
  noise_ = new bp::widgets::SeriesPlot(this);
  attack_ = new QComboBox(this);
  attack_->setToolTip(tr("The attack and norm whose median minimum perturbation is drawn"));
  connect(attack_, &QComboBox::currentIndexChanged, this, &ComparisonPanel::drawPerturbation);
  perturbation_ = new bp::widgets::BarPlot(this);
  noise_->setToolTip(tr("Per launch: mean ± SEM over its seeds; the legend gives the area under each curve"));
  perturbation_->setToolTip(tr("Per launch: the mean over its seeds of the models' medians; larger is more robust"));
  predictivity_ = new bp::widgets::SeriesPlot(this);
  predictivity_->setToolTip(tr("One point per model, coloured by launch"));
  layers_ = new bp::widgets::SeriesPlot(this);
  layers_->setToolTip(tr("Per launch: mean ± SEM over its seeds of each layer's median r"));
  const QString probeFirst = tr("Run Probe on a runs folder (above) or open a probe report: %1.");
  bp::widgets::setEmptyMessage(noise_->plot(), probeFirst.arg(tr("accuracy as noise grows, one curve per launch")));
  bp::widgets::setEmptyMessage(perturbation_->plot(),
                               probeFirst.arg(tr("the median smallest perturbation that changes each launch's answers")));
  const QString predictivityFirst =
      tr("Choose neural recordings of the same kind of images and Run Predictivity (above), or open a predictivity "
         "report: %1.");
  bp::widgets::setEmptyMessage(predictivity_->plot(),
                               predictivityFirst.arg(tr("test accuracy against how well the best layer predicts "
                                                        "the neurons, one point per model")));
  bp::widgets::setEmptyMessage(layers_->plot(), predictivityFirst.arg(tr("how well each layer predicts the neurons")));
  auto* figures = new QSplitter(Qt::Horizontal, this);
  figures->addWidget(figure(noise_, sweep_));
  figures->addWidget(figure(perturbation_, attack_));
  figures->addWidget(figure(predictivity_, nullptr));
  figures->addWidget(figure(layers_, nullptr));
  auto* dashboard = new QSplitter(Qt::Vertical, this);
  dashboard->addWidget(table_);
  dashboard->addWidget(figures);
  dashboard->setStretchFactor(0, 1);
  dashboard->setStretchFactor(1, 2);

  auto* sources = new QWidget(this);
  form->setContentsMargins(0, 0, 0, 0);
  sources->setLayout(form);
  markAsControls(sources);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(sources);
  layout->addLayout(actions);
  layout->addWidget(warnings_);
  layout->addWidget(dashboard, 1);
  fillTable();
  connect(runsFolder_, &QLineEdit::textChanged, this, &ComparisonPanel::publishSources);
  connect(importedModels_, &QLineEdit::textChanged, this, &ComparisonPanel::publishSources);
  connect(neuralPath_, &QLineEdit::textChanged, this, &ComparisonPanel::publishSources);
  connect(probePreset_, &QComboBox::currentTextChanged, this,
          [this](const QString& name) { workspace_.setSettings("comparison", {{"preset", name.toStdString()}}); });
  workspace_.setSettings("comparison", {{"preset", probePreset().toStdString()}});
}

void ComparisonPanel::publishSources() {
  ComparisonSources sources = workspace_.comparison();
  sources.runsFolder = runsFolder();
  sources.importedModels = importedModels();
  sources.neuralPath = neuralPath();
  workspace_.setComparison(sources);
}

void ComparisonPanel::setReportFile(QString ComparisonSources::*report, const QString& file) {
  ComparisonSources sources = workspace_.comparison();
  sources.*report = file;
  workspace_.setComparison(sources);
}

void ComparisonPanel::setRunsFolder(const QString& folder) { runsFolder_->setText(folder); }
void ComparisonPanel::setImportedModels(const QStringList& files) { importedModels_->setText(files.join(QStringLiteral("; "))); }
QStringList ComparisonPanel::importedModels() const {
  QStringList files;
  for (const QString& part : importedModels_->text().split(';', Qt::SkipEmptyParts))
    if (!part.trimmed().isEmpty()) files << part.trimmed();
  return files;
}
QString ComparisonPanel::runsFolder() const { return runsFolder_->text().trimmed(); }
void ComparisonPanel::setNeuralPath(const QString& path) { neuralPath_->setText(path); }
QString ComparisonPanel::neuralPath() const { return neuralPath_->text().trimmed(); }
void ComparisonPanel::setProbePreset(const QString& name) { probePreset_->setCurrentText(name); }
QString ComparisonPanel::probePreset() const { return probePreset_->currentText(); }

QString ComparisonPanel::outputFolder(const QString& name) const { return QDir(runsFolder()).filePath(name); }

void ComparisonPanel::chooseRunsFolder() {
  const QString folder = QFileDialog::getExistingDirectory(this, tr("Choose a folder of runs"), runsFolder());
  if (!folder.isEmpty()) setRunsFolder(folder);
}

void ComparisonPanel::chooseNeuralData() {
  const QString path = QFileDialog::getExistingDirectory(this, tr("Choose neural recordings"), neuralPath_->text());
  if (!path.isEmpty()) setNeuralPath(path);
}

void ComparisonPanel::chooseReportToOpen() {
  const QString path =
      QFileDialog::getOpenFileName(this, tr("Open a report"), runsFolder(), tr("Reports (report.json *.json)"));
  if (!path.isEmpty()) openReport(path);
}

void ComparisonPanel::runProbe() {
  if (runsFolder().isEmpty()) {
    summary_->setText(tr("Choose a folder of runs first."));
    return;
  }
  nlohmann::json config;
  try {
    if (probePreset_->currentText() == tr(kConfigFileChoice)) {
      const QString file = QFileDialog::getOpenFileName(this, tr("A probe config"), {}, tr("JSON (*.json)"));
      if (file.isEmpty()) return;
      config = nlohmann::json::parse(bp::readTextFile(file.toStdString()));
    } else {
      config = probeConfigPreset(probePreset_->currentText().toStdString());
    }
  } catch (const std::exception& error) {
    summary_->setText(tr("Cannot read the config: %1").arg(QString::fromUtf8(error.what())));
    return;
  }
  config["max_images"] = maxImages_->value();
  std::vector<std::string> folders = {runsFolder().toStdString()};
  for (const QString& file : importedModels()) folders.push_back(file.toStdString());
  const std::string output = outputFolder(QStringLiteral("probe-report")).toStdString();
  jobs_.run<nlohmann::json>(
      tr("Probing the runs in %1").arg(QFileInfo(runsFolder()).fileName()),
      [folders, config, output](const bp::Job& job) { return runProbeReport(folders, config, output, job); },
      [this, output](nlohmann::json& report) {
        setProbeReport(report);
        setReportFile(&ComparisonSources::probeReportFile,
                      QString::fromStdString((std::filesystem::path(output) / "report.json").string()));
      });
}

void ComparisonPanel::runPredictivity() {
  if (runsFolder().isEmpty() || neuralPath_->text().trimmed().isEmpty()) {
    summary_->setText(tr("Choose a folder of runs and neural recordings first."));
    return;
  }
  nlohmann::json config = {{"method", readout_->currentData().toString().toStdString()}};
  std::vector<std::string> layers;
  for (const QString& layer : predictivityLayers_->text().split(',', Qt::SkipEmptyParts))
    if (!layer.trimmed().isEmpty()) layers.push_back(layer.trimmed().toStdString());
  if (!layers.empty()) config["layers"] = layers;
  std::vector<std::string> folders = {runsFolder().toStdString()};
  for (const QString& file : importedModels()) folders.push_back(file.toStdString());
  const std::string neural = neuralPath_->text().trimmed().toStdString();
  const std::string output = outputFolder(QStringLiteral("predictivity-report")).toStdString();
  jobs_.run<nlohmann::json>(
      tr("Neural predictivity of the runs in %1").arg(QFileInfo(runsFolder()).fileName()),
      [folders, neural, config, output](const bp::Job& job) {
        return runPredictivityReport(folders, neural, config, output, job);
      },
      [this, output](nlohmann::json& report) {
        setPredictivityReport(report);
        setReportFile(&ComparisonSources::predictivityReportFile,
                      QString::fromStdString((std::filesystem::path(output) / "report.json").string()));
      });
}

bool ComparisonPanel::openReport(const QString& path) {
  try {
    const nlohmann::json report = nlohmann::json::parse(bp::readTextFile(path.toStdString()));
    const std::string format = report.is_object() ? report.value("format", std::string()) : std::string();
    if (format == kProbeFormat) {
      setProbeReport(report);
      setReportFile(&ComparisonSources::probeReportFile, path);
    } else if (format == kPredictivityFormat) {
      setPredictivityReport(report);
      setReportFile(&ComparisonSources::predictivityReportFile, path);
    } else {
      summary_->setText(tr("%1 is not a probe or predictivity report of BrainPrior.").arg(path));
      return false;
    }
  } catch (const std::exception& error) {
    summary_->setText(tr("Cannot open %1: %2").arg(path, QString::fromUtf8(error.what())));
    return false;
  }
  return true;
}

void ComparisonPanel::setProbeReport(const nlohmann::json& report) {
  probeReport_ = report;
  sweep_->blockSignals(true);
  sweep_->clear();
  // Each corruption's curves; then, when the launches sweep alpha, clean accuracy against each
  // robustness measure, one point per alpha (item data: the measure's kind and index).
  const nlohmann::json& first = probeReport_.at("launches").front();
  const auto addTradeOff = [this](bp::AlphaTradeOffMeasure::Kind kind, std::size_t index, const QString& label) {
    if (!bp::alphaTradeOff(probeReport_, {kind, index}).empty())
      sweep_->addItem(tr("Over alpha: clean accuracy and %1").arg(label),
                      QPoint(static_cast<int>(kind) + 1, static_cast<int>(index)));
  };
  for (const auto& sweep : first.at("corruptions"))
    sweep_->addItem(corruptionLabel(sweep.at("kind")), QPoint(0, sweep_->count()));
  for (std::size_t i = 0; i < first.at("corruptions").size(); ++i)
    addTradeOff(bp::AlphaTradeOffMeasure::Kind::CorruptionArea, i,
                tr("%1 area").arg(corruptionLabel(first.at("corruptions").at(i).at("kind"))));
  for (std::size_t i = 0; i < first.at("minimum_norms").size(); ++i)
    addTradeOff(bp::AlphaTradeOffMeasure::Kind::MedianNorm, i,
                tr("median %1 (%2)")
                    .arg(first.at("minimum_norms").at(i).at("norm").get<std::string>() == "l2" ? QStringLiteral("L2")
                                                                                              : QStringLiteral("L∞"),
                         attackLabel(first.at("minimum_norms").at(i).at("attack").get<std::string>())));
  sweep_->blockSignals(false);
  attack_->blockSignals(true);
  attack_->clear();
  for (const auto& attack : probeReport_.at("launches").front().at("minimum_norms")) {
    const QString name = attackLabel(attack.at("attack").get<std::string>());
    attack_->addItem(tr("%1: median minimum L∞").arg(name), QStringLiteral("mean_median_linf"));
    attack_->addItem(tr("%1: median minimum L2").arg(name), QStringLiteral("mean_median_l2"));
  }
  attack_->blockSignals(false);
  const auto& images = probeReport_.at("images");
  summary_->setText(tr("Probe of %1 models on %2 %3 images of %4.")
                        .arg(probeReport_.at("models").size())
                        .arg(images.at("count").get<std::int64_t>())
                        .arg(text(images.at("split")))
                        .arg(text(images.at("path"))));
  const QStringList shown = warnings();
  warnings_->setText(shown.join(QLatin1Char('\n')));
  warnings_->setVisible(!shown.isEmpty());
  fillTable();
  drawNoise();
  drawPerturbation();
  Q_EMIT reportShown();
}

QStringList ComparisonPanel::warnings() const {
  QStringList warnings;
  if (probeReport_.is_null()) return warnings;
  for (const auto& warning : probeReport_.value("warnings", nlohmann::json::array()))
    warnings << tr("⚠ Not a finding: %1.").arg(text(warning));
  return warnings;
}

void ComparisonPanel::setPredictivityReport(const nlohmann::json& report) {
  predictivityReport_ = report;
  const auto& neural = predictivityReport_.at("neural");
  summary_->setText(tr("Predictivity of %1 models for %2 neurons over %3 images (%4 readout).")
                        .arg(predictivityReport_.at("models").size())
                        .arg(neural.at("neurons").get<std::int64_t>())
                        .arg(neural.at("images").get<std::int64_t>())
                        .arg(text(predictivityReport_.at("config").at("method"))));
  fillTable();
  drawPredictivity();
  Q_EMIT reportShown();
}

void ComparisonPanel::fillTable() {
  QStringList headings = {tr("Launch / model"), tr("Seeds")};
  const bool hasProbe = !probeReport_.is_null();
  const bool hasPredictivity = !predictivityReport_.is_null();
  if (hasProbe) {
    // Named by its images: the probe's, which are fewer than the test split the Training tab's test
    // accuracy is over, so the two accuracies of one run differ.
    headings << tr("Clean accuracy (%1 probe images)").arg(probeReport_.at("images").value("count", 0));
    for (const auto& sweep : probeReport_.at("launches").front().at("corruptions"))
      headings << tr("%1 area").arg(corruptionLabel(sweep.at("kind")));
    for (const auto& attack : probeReport_.at("launches").front().at("minimum_norms")) headings << attackHeading(attack);
  }
  // The alignment score appears when the probe had importance maps (ProbeConfig::alignment).
  const bool hasAlignment = hasProbe && probeReport_.at("images").value("importance_maps", 0) > 0;
  if (hasAlignment) headings << tr("Alignment score");
  if (hasPredictivity) headings << tr("Test accuracy") << tr("Best layer") << tr("Median r (best layer)");
  table_->clear();
  table_->setColumnCount(static_cast<int>(headings.size()));
  table_->setHorizontalHeaderLabels(headings);
  if (hasProbe)
    table_->horizontalHeaderItem(2)->setToolTip(
        tr("Accuracy on the clean images the probe used. The Training tab's test accuracy is over the whole test "
           "split, so the two differ when the probe took fewer images."));
  table_->setRowCount(0);
  if (!hasProbe && !hasPredictivity) return;

  // Rows: each launch (bold, mean ± SEM over its seeds, from the reports' launch summaries), then
  // its models. Predictivity values join the probe's rows by run name.
  const nlohmann::json& models = hasProbe ? probeReport_.at("models") : predictivityReport_.at("models");
  const nlohmann::json noLaunches = nlohmann::json::array();
  const nlohmann::json& probeLaunches = hasProbe ? probeReport_.at("launches") : noLaunches;
  const nlohmann::json& predictivityLaunches =
      hasPredictivity ? predictivityReport_.value("launches", noLaunches) : noLaunches;
  std::map<std::string, const nlohmann::json*> predictivityOf;
  if (hasPredictivity)
    for (const auto& model : predictivityReport_.at("models")) predictivityOf[model.at("name").get<std::string>()] = &model;
  const int predictivityColumn = static_cast<int>(headings.size()) - 3;
  int row = 0;
  int column = 0;
  const auto put = [&](const QString& value, bool bold) { table_->setItem(row, column++, cell(value, bold)); };
  const auto newRow = [&] {
    row = table_->rowCount();
    table_->insertRow(row);
    column = 0;
  };

  for (const auto& [launchName, members] : launchesOf(models)) {
    newRow();
    put(QString::fromStdString(launchName), true);
    QStringList seeds;
    for (const std::size_t i : members) seeds << QString::number(models[i].at("seed").get<std::uint64_t>());
    put(seeds.join(QStringLiteral(", ")), true);
    if (const nlohmann::json* launch = launchNamed(probeLaunches, launchName)) {
      put(withSpread(number(launch->at("mean_clean_accuracy")), number(launch->at("sem_clean_accuracy")), 3), true);
      for (const auto& sweep : launch->at("corruptions"))
        put(withSpread(number(sweep.at("mean_area")), number(sweep.at("sem_area")), 3), true);
      for (const auto& attack : launch->at("minimum_norms")) {
        const bool l2 = attack.at("norm").get<std::string>() == "l2";
        put(withSpread(number(attack.at(l2 ? "mean_median_l2" : "mean_median_linf")),
                       number(attack.value(l2 ? "sem_median_l2" : "sem_median_linf", nlohmann::json())), 4),
            true);
      }
      if (hasAlignment)
        put(withSpread(number(launch->at("mean_alignment_score")), number(launch->at("sem_alignment_score")), 3), true);
    }
    if (const nlohmann::json* launch = launchNamed(predictivityLaunches, launchName)) {
      column = predictivityColumn;
      put(withSpread(number(launch->at("mean_test_accuracy")), number(launch->at("sem_test_accuracy")), 3), true);
      put(QString(), true);
      put(withSpread(number(launch->at("mean_best_median_r")), number(launch->at("sem_best_median_r")), 3), true);
    }
    for (const std::size_t i : members) {
      const auto& model = models[i];
      newRow();
      put(QStringLiteral("    ") + text(model.at("name")), false);
      put(QString::number(model.at("seed").get<std::uint64_t>()), false);
      if (hasProbe) {
        put(withSpread(number(model.at("clean_accuracy")), kNoSpread, 3), false);
        for (const auto& sweep : model.at("corruptions")) put(withSpread(number(sweep.at("area")), kNoSpread, 3), false);
        for (const auto& attack : model.at("minimum_norms")) {
          const bool l2 = attack.at("norm").get<std::string>() == "l2";
          put(withSpread(number(attack.at(l2 ? "median_l2" : "median_linf")), kNoSpread, 4), false);
        }
        if (hasAlignment) put(withSpread(number(model.at("alignment").at("score")), kNoSpread, 3), false);
      }
      const auto found = predictivityOf.find(model.at("name").get<std::string>());
      if (found != predictivityOf.end()) {
        column = predictivityColumn;
        put(withSpread(number(found->second->at("test_accuracy")), kNoSpread, 3), false);
        put(text(found->second->at("best_layer")), false);
        put(withSpread(bestLayerR(*found->second), kNoSpread, 3), false);
      }
    }
  }
  table_->resizeColumnsToContents();
}

void ComparisonPanel::drawNoise() {
  noise_->clear();
  if (probeReport_.is_null() || sweep_->currentIndex() < 0) return;
  const QPoint choice = sweep_->currentData().toPoint();
  if (choice.x() > 0) {
    drawTradeOff({static_cast<bp::AlphaTradeOffMeasure::Kind>(choice.x() - 1), static_cast<std::size_t>(choice.y())});
    return;
  }
  const int sweep = choice.y();
  int colour = 0;
  QString kind;
  for (const auto& launch : probeReport_.at("launches")) {
    const auto& curve = launch.at("corruptions").at(static_cast<std::size_t>(sweep));
    kind = corruptionLabel(curve.at("kind"));
    QVector<double> severities, means, sems;
    for (const auto& value : curve.at("severities")) severities << number(value);
    for (const auto& value : curve.at("mean_accuracies")) means << number(value);
    for (const auto& value : curve.at("sem_accuracies")) sems << number(value);
    const int series = noise_->addLine(tr("%1 (area %2)")
                                           .arg(text(launch.at("name")))
                                           .arg(number(curve.at("mean_area")), 0, 'f', 3),
                                       severities, means, bp::widgets::palette::seriesColor(colour++));
    noise_->addErrorBars(series, sems);
  }
  noise_->setLabels(tr("Accuracy under %1").arg(kind), tr("severity"), tr("accuracy"));
  noise_->rescale();
}

void ComparisonPanel::drawTradeOff(const bp::AlphaTradeOffMeasure& measure) {
  int colour = 0;
  for (const bp::AlphaTradeOffSeries& one : bp::alphaTradeOff(probeReport_, measure)) {
    QVector<double> clean, robustness, sems;
    QStringList alphas;
    for (const bp::AlphaTradeOffPoint& point : one.points) {
      clean << point.clean;
      robustness << point.robustness;
      sems << point.robustnessSem;
      if (std::isfinite(point.alpha)) alphas << QString::number(point.alpha);
    }
    const QString name = QString::fromStdString(one.name) +
                         (alphas.isEmpty() ? QString() : tr(" (α %1)").arg(alphas.join(QStringLiteral(", "))));
    const QColor color = bp::widgets::palette::seriesColor(colour++);
    const int series = one.points.size() > 1 ? noise_->addLine(name, clean, robustness, color)
                                             : noise_->addScatter(name, clean, robustness, color, 9);
    noise_->addErrorBars(series, sems);
  }
  const QString label = sweep_->currentText().section(QStringLiteral("and "), 1);
  noise_->setLabels(tr("Trade-off over alpha (each line in increasing α)"), tr("clean accuracy"), label);
  noise_->rescale();
}

void ComparisonPanel::drawPerturbation() {
  const int choice = attack_->currentIndex();
  if (probeReport_.is_null() || choice < 0) {
    perturbation_->setBars({}, {}, {});
    return;
  }
  const std::size_t attack = static_cast<std::size_t>(choice / 2);
  const std::string key = attack_->currentData().toString().toStdString();
  QStringList launches;
  QVector<double> values;
  QVector<QColor> colours;
  for (const auto& launch : probeReport_.at("launches")) {
    launches << text(launch.at("name"));
    values << number(launch.at("minimum_norms").at(attack).at(key));
    colours << bp::widgets::palette::seriesColor(static_cast<int>(colours.size()));
  }
  perturbation_->setBars(launches, values, colours, 0.0, 0.0);
  perturbation_->setLabels(tr("Smallest fooling perturbation"), tr("median"));
}

void ComparisonPanel::drawPredictivity() {
  predictivity_->clear();
  layers_->clear();
  if (predictivityReport_.is_null()) return;
  const nlohmann::json& models = predictivityReport_.at("models");
  const nlohmann::json noLaunches = nlohmann::json::array();
  const nlohmann::json& launches = predictivityReport_.value("launches", noLaunches);
  int colour = 0;
  for (const auto& [launchName, members] : launchesOf(models)) {
    const QColor color = bp::widgets::palette::seriesColor(colour++);
    const QString name = QString::fromStdString(launchName);
    QVector<double> accuracies, correlations;
    for (const std::size_t i : members) {
      accuracies << number(models[i].at("test_accuracy"));
      correlations << bestLayerR(models[i]);
    }
    predictivity_->addScatter(name, accuracies, correlations, color, 9);
    const nlohmann::json* launch = launchNamed(launches, launchName);
    if (launch == nullptr) continue;  // a report from before launch summaries: no layer profile
    QVector<double> x, means, sems;
    for (const auto& layer : launch->at("layers")) {
      x << static_cast<double>(x.size());
      means << number(layer.at("mean_median_r"));
      sems << number(layer.at("sem_median_r"));
    }
    layers_->addErrorBars(layers_->addLine(name, x, means, color), sems);
  }
  predictivity_->setLabels(tr("Accuracy and predictivity"), tr("test accuracy"), tr("median r, best layer"));
  predictivity_->rescale();
  auto ticker = QSharedPointer<QCPAxisTickerText>::create();
  if (!launches.empty())
    for (const auto& layer : launches.front().at("layers")) ticker->addTick(ticker->ticks().size(), text(layer.at("tap")));
  layers_->plot()->xAxis->setTicker(ticker);
  layers_->setLabels(tr("Predictivity per layer"), tr("layer"), tr("median r"));
  layers_->rescale();
}

void ComparisonPanel::exportFigures() {
  const QString path = QFileDialog::getSaveFileName(this, tr("Export figures"), QDir(runsFolder()).filePath("comparison.pdf"),
                                                    tr("PDF (*.pdf);;SVG (*.svg);;PNG (*.png)"));
  if (path.isEmpty()) return;
  QString error;
  const QStringList written = exportFigures(path, &error);
  summary_->setText(error.isEmpty() ? tr("Saved %1").arg(written.join(QStringLiteral(", ")))
                                    : tr("Could not save the figures: %1").arg(error));
}

QStringList ComparisonPanel::exportFigures(const QString& path, QString* error) const {
  const QFileInfo info(path);
  const std::pair<const char*, QCustomPlot*> plots[] = {{"noise", noise_->plot()},
                                                        {"adversarial", perturbation_->plot()},
                                                        {"predictivity", predictivity_->plot()},
                                                        {"layers", layers_->plot()}};
  QStringList written;
  for (const auto& [name, plot] : plots) {
    if (plot->plottableCount() == 0) continue;  // a report not shown yet
    const QString file = info.dir().filePath(info.completeBaseName() + "-" + name + "." + info.suffix());
    if (!bp::widgets::exportPlot(plot, file, error)) return written;
    written << file;
  }
  return written;
}

void ComparisonPanel::chooseTableExport() {
  const QString path = QFileDialog::getSaveFileName(this, tr("Export table"), QDir(runsFolder()).filePath("comparison.csv"),
                                                    tr("CSV table (*.csv);;JSON reports (*.json)"));
  if (path.isEmpty()) return;
  QString error;
  const bool json = path.endsWith(QStringLiteral(".json"), Qt::CaseInsensitive);
  const bool saved = json ? exportReports(path, &error) : exportTable(path, &error);
  summary_->setText(saved ? tr("Saved %1").arg(path) : tr("Could not save %1: %2").arg(path, error));
}

bool ComparisonPanel::exportTable(const QString& path, QString* error) const {
  std::string csv;
  for (int column = 0; column < table_->columnCount(); ++column) {
    if (column > 0) csv += ',';
    csv += bp::csvField(table_->horizontalHeaderItem(column)->text().toStdString());
  }
  csv += '\n';
  for (int row = 0; row < table_->rowCount(); ++row) {
    for (int column = 0; column < table_->columnCount(); ++column) {
      if (column > 0) csv += ',';
      const QTableWidgetItem* item = table_->item(row, column);
      if (item != nullptr) csv += bp::csvField(item->text().trimmed().toStdString());
    }
    csv += '\n';
  }
  try {
    bp::writeFileAtomically(path.toStdString(), csv);
  } catch (const std::exception& failure) {
    if (error != nullptr) *error = QString::fromUtf8(failure.what());
    return false;
  }
  return true;
}

bool ComparisonPanel::exportReports(const QString& path, QString* error) const {
  const nlohmann::json reports = {{"probe", probeReport_}, {"predictivity", predictivityReport_}};
  try {
    bp::writeFileAtomically(path.toStdString(), reports.dump(2) + "\n");
  } catch (const std::exception& failure) {
    if (error != nullptr) *error = QString::fromUtf8(failure.what());
    return false;
  }
  return true;
}

}  // namespace bp::app
