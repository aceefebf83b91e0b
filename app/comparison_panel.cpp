#include "app/comparison_panel.h"

#include <qcustomplot.h>

#include <QComboBox>
#include <QDir>
#include <QFileDialog>
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
#include <QTabWidget>
#include <QVBoxLayout>
#include <cmath>
#include <limits>
#include <map>

#include "app/probe_session.h"
#include "runtime/atomic_file.h"
#include "runtime/config_reader.h"
#include "runtime/csv.h"
#include "widgets/bar_plot.h"
#include "widgets/palette.h"
#include "widgets/plot_export.h"
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

// The column heading of a minimum-norm attack: "pgd_linf_search" -> "Median min L∞ (PGD search)".
QString attackHeading(const nlohmann::json& attack) {
  const std::string name = attack.at("attack").get<std::string>();
  const bool l2 = attack.at("norm").get<std::string>() == "l2";
  const QString method = name == "boundary" ? QStringLiteral("boundary") : QStringLiteral("PGD search");
  return QStringLiteral("Median min %1 (%2)").arg(l2 ? QStringLiteral("L2") : QStringLiteral("L∞"), method);
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

// Mean and standard error (n - 1 deviation; NaN below two) of the finite values.
std::pair<double, double> meanAndSem(const std::vector<double>& values) {
  std::vector<double> finite;
  for (const double value : values)
    if (std::isfinite(value)) finite.push_back(value);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (finite.empty()) return {nan, nan};
  double sum = 0.0;
  for (const double value : finite) sum += value;
  const double mean = sum / static_cast<double>(finite.size());
  if (finite.size() < 2) return {mean, nan};
  double squares = 0.0;
  for (const double value : finite) squares += (value - mean) * (value - mean);
  return {mean, std::sqrt(squares / static_cast<double>(finite.size() - 1) / static_cast<double>(finite.size()))};
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

ComparisonPanel::ComparisonPanel(JobRunner& jobs, QWidget* parent) : QWidget(parent), jobs_(jobs) {
  auto* form = new QFormLayout;
  runsFolder_ = new QLineEdit(this);
  runsFolder_->setPlaceholderText(tr("A folder of training runs (the Training tab's output folder)"));
  auto* browseRuns = new QPushButton(tr("Browse…"), this);
  connect(browseRuns, &QPushButton::clicked, this, &ComparisonPanel::chooseRunsFolder);
  auto* runsRow = new QHBoxLayout;
  runsRow->addWidget(runsFolder_, 1);
  runsRow->addWidget(browseRuns);
  form->addRow(tr("Runs"), runsRow);

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
  auto* runPredictivityButton = new QPushButton(tr("Run Predictivity"), this);
  runPredictivityButton->setToolTip(tr("Cross-validated linear readouts of every layer to the neurons"));
  connect(runPredictivityButton, &QPushButton::clicked, this, &ComparisonPanel::runPredictivity);
  auto* neuralRow = new QHBoxLayout;
  neuralRow->addWidget(neuralPath_, 1);
  neuralRow->addWidget(browseNeural);
  neuralRow->addWidget(readout_);
  neuralRow->addWidget(runPredictivityButton);
  form->addRow(tr("Predictivity"), neuralRow);

  auto* openReport = new QPushButton(tr("Open Report…"), this);
  openReport->setToolTip(tr("A report.json written by brainprior-cli probe or predictivity --output-dir"));
  connect(openReport, &QPushButton::clicked, this, &ComparisonPanel::chooseReportToOpen);
  auto* exportFigure = new QPushButton(tr("Export Figure…"), this);
  connect(exportFigure, &QPushButton::clicked, this, &ComparisonPanel::exportCurrentFigure);
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

  views_ = new QTabWidget(this);
  table_ = new QTableWidget(this);
  table_->verticalHeader()->setVisible(false);
  table_->setAlternatingRowColors(true);
  views_->addTab(table_, tr("Table"));

  auto* noisePage = new QWidget(this);
  auto* noiseLayout = new QVBoxLayout(noisePage);
  sweep_ = new QComboBox(noisePage);
  connect(sweep_, &QComboBox::currentIndexChanged, this, &ComparisonPanel::drawNoise);
  noise_ = new bp::widgets::SeriesPlot(noisePage);
  noiseLayout->addWidget(sweep_, 0, Qt::AlignLeft);
  noiseLayout->addWidget(noise_, 1);
  views_->addTab(noisePage, tr("Noise curves"));

  auto* attackPage = new QWidget(this);
  auto* attackLayout = new QVBoxLayout(attackPage);
  attack_ = new QComboBox(attackPage);
  connect(attack_, &QComboBox::currentIndexChanged, this, &ComparisonPanel::drawPerturbation);
  perturbation_ = new bp::widgets::BarPlot(attackPage);
  attackLayout->addWidget(attack_, 0, Qt::AlignLeft);
  attackLayout->addWidget(perturbation_, 1);
  views_->addTab(attackPage, tr("Adversarial"));

  auto* predictivityPage = new QWidget(this);
  auto* predictivityLayout = new QHBoxLayout(predictivityPage);
  predictivity_ = new bp::widgets::SeriesPlot(predictivityPage);
  layers_ = new bp::widgets::SeriesPlot(predictivityPage);
  predictivityLayout->addWidget(predictivity_, 1);
  predictivityLayout->addWidget(layers_, 1);
  views_->addTab(predictivityPage, tr("Predictivity"));

  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addLayout(actions);
  layout->addWidget(views_, 1);
  fillTable();
}

void ComparisonPanel::setRunsFolder(const QString& folder) { runsFolder_->setText(folder); }
QString ComparisonPanel::runsFolder() const { return runsFolder_->text().trimmed(); }
void ComparisonPanel::setNeuralPath(const QString& path) { neuralPath_->setText(path); }
void ComparisonPanel::setProbePreset(const QString& name) { probePreset_->setCurrentText(name); }

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
  const std::vector<std::string> folders = {runsFolder().toStdString()};
  const std::string output = outputFolder(QStringLiteral("probe-report")).toStdString();
  jobs_.run<nlohmann::json>(
      tr("Probing the runs in %1").arg(QFileInfo(runsFolder()).fileName()),
      [folders, config, output](const bp::Job& job) { return runProbeReport(folders, config, output, job); },
      [this](nlohmann::json& report) { setProbeReport(report); });
}

void ComparisonPanel::runPredictivity() {
  if (runsFolder().isEmpty() || neuralPath_->text().trimmed().isEmpty()) {
    summary_->setText(tr("Choose a folder of runs and neural recordings first."));
    return;
  }
  const nlohmann::json config = {{"method", readout_->currentData().toString().toStdString()}};
  const std::vector<std::string> folders = {runsFolder().toStdString()};
  const std::string neural = neuralPath_->text().trimmed().toStdString();
  const std::string output = outputFolder(QStringLiteral("predictivity-report")).toStdString();
  jobs_.run<nlohmann::json>(
      tr("Neural predictivity of the runs in %1").arg(QFileInfo(runsFolder()).fileName()),
      [folders, neural, config, output](const bp::Job& job) {
        return runPredictivityReport(folders, neural, config, output, job);
      },
      [this](nlohmann::json& report) { setPredictivityReport(report); });
}

bool ComparisonPanel::openReport(const QString& path) {
  try {
    const nlohmann::json report = nlohmann::json::parse(bp::readTextFile(path.toStdString()));
    const std::string format = report.is_object() ? report.value("format", std::string()) : std::string();
    if (format == kProbeFormat) {
      setProbeReport(report);
    } else if (format == kPredictivityFormat) {
      setPredictivityReport(report);
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
  for (const auto& sweep : probeReport_.at("launches").front().at("corruptions"))
    sweep_->addItem(text(sweep.at("kind")).replace(QLatin1Char('_'), QLatin1Char(' ')));
  sweep_->blockSignals(false);
  attack_->blockSignals(true);
  attack_->clear();
  for (const auto& attack : probeReport_.at("launches").front().at("minimum_norms")) {
    const QString name = text(attack.at("attack"));
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
  fillTable();
  drawNoise();
  drawPerturbation();
  Q_EMIT reportShown();
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
  views_->setCurrentIndex(views_->indexOf(predictivity_->parentWidget()));
  Q_EMIT reportShown();
}

void ComparisonPanel::fillTable() {
  QStringList headings = {tr("Launch / model"), tr("Seeds")};
  const bool hasProbe = !probeReport_.is_null();
  const bool hasPredictivity = !predictivityReport_.is_null();
  if (hasProbe) {
    headings << tr("Clean accuracy");
    for (const auto& sweep : probeReport_.at("launches").front().at("corruptions"))
      headings << tr("%1 area").arg(text(sweep.at("kind")).replace(QLatin1Char('_'), QLatin1Char(' ')));
    for (const auto& attack : probeReport_.at("launches").front().at("minimum_norms")) headings << attackHeading(attack);
  }
  if (hasPredictivity) headings << tr("Test accuracy") << tr("Best layer") << tr("Median r (best layer)");
  table_->clear();
  table_->setColumnCount(static_cast<int>(headings.size()));
  table_->setHorizontalHeaderLabels(headings);
  table_->setRowCount(0);
  if (!hasProbe && !hasPredictivity) return;

  // Rows: each launch (bold, mean ± SEM over its seeds), then its models.
  const nlohmann::json& models = hasProbe ? probeReport_.at("models") : predictivityReport_.at("models");
  std::map<std::string, const nlohmann::json*> predictivityOf;
  if (hasPredictivity)
    for (const auto& model : predictivityReport_.at("models")) predictivityOf[model.at("name").get<std::string>()] = &model;
  const auto addPredictivity = [&](int row, int column, const std::vector<std::size_t>& members, bool launch) {
    std::vector<double> accuracies;
    std::vector<double> correlations;
    QString layer;
    for (const std::size_t i : members) {
      const auto found = predictivityOf.find(models[i].at("name").get<std::string>());
      if (found == predictivityOf.end()) continue;
      accuracies.push_back(number(found->second->at("test_accuracy")));
      correlations.push_back(bestLayerR(*found->second));
      layer = text(found->second->at("best_layer"));
    }
    const auto [accuracy, accuracySem] = meanAndSem(accuracies);
    const auto [r, rSem] = meanAndSem(correlations);
    table_->setItem(row, column, cell(withSpread(accuracy, accuracySem, 3), launch));
    table_->setItem(row, column + 1, cell(launch ? QString() : layer));
    table_->setItem(row, column + 2, cell(withSpread(r, rSem, 3), launch));
  };
  const int predictivityColumn = static_cast<int>(headings.size()) - 3;

  for (const auto& [launchName, members] : launchesOf(models)) {
    const nlohmann::json* launch = nullptr;
    if (hasProbe)
      for (const auto& candidate : probeReport_.at("launches"))
        if (candidate.at("name").get<std::string>() == launchName) launch = &candidate;
    int row = table_->rowCount();
    table_->insertRow(row);
    table_->setItem(row, 0, cell(QString::fromStdString(launchName), true));
    QStringList seeds;
    for (const std::size_t i : members) seeds << QString::number(models[i].at("seed").get<std::uint64_t>());
    table_->setItem(row, 1, cell(seeds.join(QStringLiteral(", ")), true));
    if (launch != nullptr) {
      int column = 2;
      table_->setItem(row, column++, cell(withSpread(number(launch->at("mean_clean_accuracy")),
                                                     number(launch->at("sem_clean_accuracy")), 3),
                                          true));
      for (const auto& sweep : launch->at("corruptions"))
        table_->setItem(row, column++,
                        cell(withSpread(number(sweep.at("mean_area")), number(sweep.at("sem_area")), 3), true));
      for (const auto& attack : launch->at("minimum_norms")) {
        const bool l2 = attack.at("norm").get<std::string>() == "l2";
        table_->setItem(row, column++,
                        cell(withSpread(number(attack.at(l2 ? "mean_median_l2" : "mean_median_linf")), kNoSpread, 4), true));
      }
    }
    if (hasPredictivity) addPredictivity(row, predictivityColumn, members, true);
    for (const std::size_t i : members) {
      const auto& model = models[i];
      row = table_->rowCount();
      table_->insertRow(row);
      table_->setItem(row, 0, cell(QStringLiteral("    ") + text(model.at("name"))));
      table_->setItem(row, 1, cell(QString::number(model.at("seed").get<std::uint64_t>())));
      if (hasProbe) {
        int column = 2;
        table_->setItem(row, column++, cell(withSpread(number(model.at("clean_accuracy")), kNoSpread, 3)));
        for (const auto& sweep : model.at("corruptions"))
          table_->setItem(row, column++, cell(withSpread(number(sweep.at("area")), kNoSpread, 3)));
        for (const auto& attack : model.at("minimum_norms")) {
          const bool l2 = attack.at("norm").get<std::string>() == "l2";
          table_->setItem(row, column++, cell(withSpread(number(attack.at(l2 ? "median_l2" : "median_linf")), kNoSpread, 4)));
        }
      }
      if (hasPredictivity) addPredictivity(row, predictivityColumn, {i}, false);
    }
  }
  table_->resizeColumnsToContents();
}

void ComparisonPanel::drawNoise() {
  noise_->clear();
  const int sweep = sweep_->currentIndex();
  if (probeReport_.is_null() || sweep < 0) return;
  int colour = 0;
  QString kind;
  for (const auto& launch : probeReport_.at("launches")) {
    const auto& curve = launch.at("corruptions").at(static_cast<std::size_t>(sweep));
    kind = text(curve.at("kind")).replace(QLatin1Char('_'), QLatin1Char(' '));
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
  noise_->setLabels(tr("Accuracy under %1 (mean ± SEM over seeds)").arg(kind), tr("severity"), tr("accuracy"));
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
  perturbation_->setLabels(tr("%1 (mean over seeds; larger is more robust)").arg(attack_->currentText()),
                           tr("perturbation"));
}

void ComparisonPanel::drawPredictivity() {
  predictivity_->clear();
  layers_->clear();
  if (predictivityReport_.is_null()) return;
  const nlohmann::json& models = predictivityReport_.at("models");
  QStringList taps;
  for (const auto& layer : models.front().at("layers")) taps << text(layer.at("tap"));
  int colour = 0;
  for (const auto& [launchName, members] : launchesOf(models)) {
    const QColor color = bp::widgets::palette::seriesColor(colour++);
    QVector<double> accuracies, correlations;
    std::vector<std::vector<double>> perTap(static_cast<std::size_t>(taps.size()));
    for (const std::size_t i : members) {
      accuracies << number(models[i].at("test_accuracy"));
      correlations << bestLayerR(models[i]);
      const auto& layers = models[i].at("layers");
      for (std::size_t t = 0; t < layers.size() && t < perTap.size(); ++t)
        perTap[t].push_back(number(layers[t].at("median_r")));
    }
    const QString name = QString::fromStdString(launchName);
    predictivity_->addScatter(name, accuracies, correlations, color, 9);
    QVector<double> x, means, sems;
    for (std::size_t t = 0; t < perTap.size(); ++t) {
      const auto [mean, sem] = meanAndSem(perTap[t]);
      x << static_cast<double>(t);
      means << mean;
      sems << sem;
    }
    layers_->addErrorBars(layers_->addLine(name, x, means, color), sems);
  }
  predictivity_->setLabels(tr("Accuracy against neural predictivity (one point per model)"), tr("test accuracy"),
                           tr("median r, best layer"));
  predictivity_->rescale();
  auto ticker = QSharedPointer<QCPAxisTickerText>::create();
  for (int t = 0; t < taps.size(); ++t) ticker->addTick(t, taps[t]);
  layers_->plot()->xAxis->setTicker(ticker);
  layers_->setLabels(tr("Predictivity per layer (mean ± SEM over seeds)"), tr("layer"), tr("median r over neurons"));
  layers_->rescale();
}

void ComparisonPanel::exportCurrentFigure() {
  QWidget* page = views_->currentWidget();
  QCustomPlot* plot = nullptr;
  if (page == noise_->parentWidget()) plot = noise_->plot();
  if (page == perturbation_->parentWidget()) plot = perturbation_->plot();
  if (page == predictivity_->parentWidget()) plot = predictivity_->plot();
  if (plot == nullptr) {
    chooseTableExport();
    return;
  }
  const QString path = QFileDialog::getSaveFileName(this, tr("Export figure"), QDir(runsFolder()).filePath("figure.pdf"),
                                                    tr("PDF (*.pdf);;SVG (*.svg);;PNG (*.png)"));
  if (path.isEmpty()) return;
  QString error;
  // The predictivity page holds two plots: the scatter goes to `path`, the layer profile beside it.
  bool saved = bp::widgets::exportPlot(plot, path, &error);
  if (saved && plot == predictivity_->plot()) {
    const QFileInfo info(path);
    saved = bp::widgets::exportPlot(layers_->plot(),
                                    info.dir().filePath(info.completeBaseName() + "-layers." + info.suffix()), &error);
  }
  summary_->setText(saved ? tr("Saved %1").arg(path) : tr("Could not save %1: %2").arg(path, error));
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
