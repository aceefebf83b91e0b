#include "app/data_panel.h"

#include <QComboBox>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QSpinBox>
#include <QSplitter>
#include <QTreeWidget>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_map>

#include "app/json_tree.h"
#include "app/workspace.h"
#include "widgets/histogram_plot.h"
#include "widgets/palette.h"
#include "widgets/series_plot.h"

namespace bp::app {
namespace {

QString formatValue(double value) { return std::isfinite(value) ? QString::number(value, 'f', 3) : QStringLiteral("—"); }

}  // namespace

DataPanel::DataPanel(Workspace& workspace, QWidget* parent) : QWidget(parent), workspace_(workspace) {
  title_ = new QLabel(tr("No neural dataset loaded. Use File → Open or File → Load Default Data."), this);
  title_->setStyleSheet(QStringLiteral("font-size:15px;font-weight:600;padding:4px"));
  title_->setWordWrap(true);

  tierFilter_ = new QComboBox(this);
  tierFilter_->addItem(tr("All tiers"), -1);
  tierFilter_->addItem(tr("Train"), static_cast<int>(bp::Tier::Train));
  tierFilter_->addItem(tr("Validation"), static_cast<int>(bp::Tier::Validation));
  tierFilter_->addItem(tr("Test (repeated)"), static_cast<int>(bp::Tier::Test));
  grid_ = new bp::widgets::ImageGridView(this);
  grid_->setThumbnailSize(64);
  auto* left = new QWidget(this);
  auto* leftLayout = new QVBoxLayout(left);
  leftLayout->setContentsMargins(0, 0, 0, 0);
  auto* filterRow = new QHBoxLayout;
  filterRow->addWidget(new QLabel(tr("Images:"), left));
  filterRow->addWidget(tierFilter_, 1);
  leftLayout->addLayout(filterRow);
  leftLayout->addWidget(grid_, 1);

  imagePlot_ = new bp::widgets::SeriesPlot(this);
  imagePlot_->setLabels(tr("Responses to the selected image"), tr("neuron"), tr("response"));
  imagePlot_->setToolTip(tr("Click a point to show that neuron's responses"));
  neuronPlot_ = new bp::widgets::SeriesPlot(this);
  neuronPlot_->setLabels(tr("Responses of the selected neuron"), tr("image (sorted by mean response)"), tr("response"));
  oracleHistogram_ = new bp::widgets::HistogramPlot(this);
  oracleHistogram_->setLabels(tr("Reliability across neurons"), tr("oracle correlation"));
  oracleHistogram_->setToolTip(tr("Per neuron: correlation of each repeat with the mean of the other repeats of the "
                                  "same image (jackknife), pooled over repeated images"));
  summaryTree_ = new QTreeWidget(this);
  summaryTree_->setAlternatingRowColors(true);

  neuronSpin_ = new QSpinBox(this);
  neuronSpin_->setPrefix(tr("neuron "));
  neuronInfo_ = new QLabel(this);
  auto* neuronBox = new QWidget(this);
  auto* neuronLayout = new QVBoxLayout(neuronBox);
  neuronLayout->setContentsMargins(0, 0, 0, 0);
  auto* neuronRow = new QHBoxLayout;
  neuronRow->addWidget(neuronSpin_);
  neuronRow->addWidget(neuronInfo_, 1);
  neuronLayout->addLayout(neuronRow);
  neuronLayout->addWidget(neuronPlot_, 1);

  auto* plots = new QWidget(this);
  auto* plotGrid = new QGridLayout(plots);
  plotGrid->setContentsMargins(0, 0, 0, 0);
  plotGrid->addWidget(imagePlot_, 0, 0);
  plotGrid->addWidget(neuronBox, 0, 1);
  plotGrid->addWidget(oracleHistogram_, 1, 0);
  plotGrid->addWidget(summaryTree_, 1, 1);
  // Equal columns: without it, the neuron column's wide label took the room of the image's plot.
  plotGrid->setColumnStretch(0, 1);
  plotGrid->setColumnStretch(1, 1);

  auto* splitter = new QSplitter(Qt::Horizontal, this);
  splitter->addWidget(left);
  splitter->addWidget(plots);
  splitter->setStretchFactor(0, 1);
  splitter->setStretchFactor(1, 3);
  splitter->setSizes({330, 1000});
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(title_);
  layout->addWidget(splitter, 1);

  connect(tierFilter_, &QComboBox::currentIndexChanged, this, &DataPanel::applyTierFilter);
  connect(grid_, &bp::widgets::ImageGridView::currentIdChanged, this, &DataPanel::showImage);
  connect(neuronSpin_, &QSpinBox::valueChanged, this, &DataPanel::showNeuron);
  // Clicking a neuron's point in the image's responses brings up that neuron.
  connect(imagePlot_, &bp::widgets::SeriesPlot::pointClicked, this,
          [this](int, double neuron, double) { neuronSpin_->setValue(qRound(neuron)); });
  connect(&workspace_, &Workspace::neuralDataChanged, this, &DataPanel::showDataset);
}

void DataPanel::showDataset() {
  view_ = workspace_.neuralData();
  if (!view_) return;
  const auto& dataset = *view_->dataset;
  title_->setText(tr("%1 — %2 neurons, %3 of %4 trials, %5 images of %6×%7")
                      .arg(QString::fromStdString(dataset.name))
                      .arg(dataset.neuronCount)
                      .arg(dataset.trialCount())
                      .arg(dataset.declaredTrialCount())
                      .arg(view_->trialsOfImage.size())
                      .arg(dataset.height)
                      .arg(dataset.width));
  fillJsonTree(summaryTree_, view_->summary);
  oracleHistogram_->setValues(QVector<double>(view_->reliability.oracleCorrelation.begin(),
                                              view_->reliability.oracleCorrelation.end()),
                              40);
  neuronSpin_->setRange(0, static_cast<int>(std::max<std::int64_t>(0, dataset.neuronCount - 1)));
  // The synthetic population counts spikes; a recording's units are its own (deconvolved calcium
  // activity, often scaled), so they are not guessed.
  const QString response = dataset.hasNoiseFreeRates() ? tr("spikes per trial") : tr("response (as recorded)");
  imagePlot_->setLabels(tr("Responses to the selected image"), tr("neuron"), response);
  neuronPlot_->setLabels(tr("Responses of the selected neuron"), tr("image (sorted by mean response)"), response);
  // Start on the test tier when it exists: its repeats make the views informative.
  const bool hasTest = std::find(dataset.tiers.begin(), dataset.tiers.end(), bp::Tier::Test) != dataset.tiers.end();
  tierFilter_->setCurrentIndex(hasTest ? 3 : 0);
  applyTierFilter();
  // Open on a reliable but typical neuron (90th percentile of oracle correlation): the single most
  // reliable one is often a near-silent cell that answers one image.
  const auto& oracle = view_->reliability.oracleCorrelation;
  std::vector<int> ranked;
  for (std::size_t n = 0; n < oracle.size(); ++n)
    if (std::isfinite(oracle[n])) ranked.push_back(static_cast<int>(n));
  std::sort(ranked.begin(), ranked.end(), [&oracle](int a, int b) { return oracle[a] < oracle[b]; });
  const int typical = ranked.empty() ? 0 : ranked[static_cast<std::size_t>(0.9 * (ranked.size() - 1))];
  neuronSpin_->setValue(typical);
  showNeuron(typical);
}

void DataPanel::applyTierFilter() {
  if (!view_) return;
  const int tier = tierFilter_->currentData().toInt();
  QVector<bp::widgets::ImageGridItem> items;
  for (const auto& item : view_->thumbnails) {
    const auto firstTrial = view_->trialsOfImage[static_cast<std::size_t>(item.id)].front();
    if (tier < 0 || static_cast<int>(view_->dataset->tiers[firstTrial]) == tier) items.push_back(item);
  }
  const auto first = items.isEmpty() ? -1 : items.front().id;
  grid_->setItems(std::move(items));
  if (first >= 0) grid_->setCurrentId(first);
  showNeuron(neuronSpin_->value());
}

void DataPanel::showImage(qint64 uniqueImage) {
  imagePlot_->clear();
  if (!view_ || uniqueImage < 0 || uniqueImage >= static_cast<qint64>(view_->trialsOfImage.size())) return;
  const auto& dataset = *view_->dataset;
  const auto& trials = view_->trialsOfImage[static_cast<std::size_t>(uniqueImage)];
  const auto neurons = static_cast<int>(dataset.neuronCount);
  QVector<double> x(neurons), mean(neurons, 0.0);
  std::iota(x.begin(), x.end(), 0.0);
  QVector<double> repeatX, repeatY;
  for (const auto trial : trials) {
    const float* response = dataset.response(trial);
    for (int n = 0; n < neurons; ++n) {
      mean[n] += response[n] / static_cast<double>(trials.size());
      if (trials.size() > 1) {
        repeatX.push_back(n);
        repeatY.push_back(response[n]);
      }
    }
  }
  if (!repeatX.isEmpty()) imagePlot_->addScatter(tr("single trials"), repeatX, repeatY, QColor(150, 150, 150, 120), 3);
  // Points, not lines: neighbouring neuron numbers are unrelated cells.
  imagePlot_->addScatter(trials.size() > 1 ? tr("mean of %1 repeats").arg(trials.size()) : tr("response"), x, mean,
                         bp::widgets::palette::seriesColor(0), 5);
  if (dataset.hasNoiseFreeRates()) {
    const float* rates = dataset.noiseFreeRates.data() + trials.front() * dataset.neuronCount;
    imagePlot_->addScatter(tr("noise-free rate (ground truth)"), x, QVector<double>(rates, rates + neurons),
                           bp::widgets::palette::seriesColor(1), 4);
  }
  imagePlot_->setLegendVisible(true);
  imagePlot_->rescale();
}

void DataPanel::showNeuron(int neuron) {
  neuronPlot_->clear();
  if (!view_ || neuron < 0 || neuron >= view_->dataset->neuronCount) return;
  const auto& dataset = *view_->dataset;
  const auto& reliability = view_->reliability;
  const auto unit = dataset.neurons.unitIds.empty() ? neuron : dataset.neurons.unitIds[static_cast<std::size_t>(neuron)];
  neuronInfo_->setText(tr("unit %1 · oracle r %2 · SNR %3 · explainable variance %4")
                           .arg(unit)
                           .arg(formatValue(reliability.oracleCorrelation[static_cast<std::size_t>(neuron)]))
                           .arg(formatValue(reliability.snr[static_cast<std::size_t>(neuron)]))
                           .arg(formatValue(reliability.explainableVarianceFraction[static_cast<std::size_t>(neuron)])));

  // Images in the current tier filter, sorted by this neuron's mean response.
  const int tier = tierFilter_->currentData().toInt();
  struct ImageResponses {
    double mean = 0.0;
    std::vector<float> trials;
  };
  std::vector<ImageResponses> images;
  for (const auto& trials : view_->trialsOfImage) {
    if (tier >= 0 && static_cast<int>(dataset.tiers[trials.front()]) != tier) continue;
    ImageResponses image;
    for (const auto trial : trials) image.trials.push_back(dataset.response(trial)[neuron]);
    image.mean = std::accumulate(image.trials.begin(), image.trials.end(), 0.0) / static_cast<double>(image.trials.size());
    images.push_back(std::move(image));
  }
  std::sort(images.begin(), images.end(), [](const auto& a, const auto& b) { return a.mean < b.mean; });
  QVector<double> rank, mean, trialX, trialY;
  for (std::size_t i = 0; i < images.size(); ++i) {
    rank.push_back(static_cast<double>(i));
    mean.push_back(images[i].mean);
    for (const auto value : images[i].trials) {
      trialX.push_back(static_cast<double>(i));
      trialY.push_back(value);
    }
  }
  neuronPlot_->addScatter(tr("single trials"), trialX, trialY, QColor(150, 150, 150, 140), 4);
  neuronPlot_->addLine(tr("mean over repeats"), rank, mean, bp::widgets::palette::seriesColor(0));
  neuronPlot_->setLegendVisible(true);
  neuronPlot_->rescale();
}

}  // namespace bp::app
