#include "app/model_results_view.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QSpinBox>
#include <QSplitter>
#include <QTableWidget>
#include <QTabWidget>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>
#include <numeric>
#include "widgets/custom_plot.h"

#include "app/model_session.h"
#include "app/workspace.h"
#include "runtime/log.h"
#include "widgets/histogram_plot.h"
#include "widgets/image_conversion.h"
#include "widgets/image_grid_view.h"
#include "widgets/palette.h"
#include "widgets/plot_export.h"
#include "widgets/plot_style.h"
#include "widgets/series_plot.h"

namespace bp::app {
namespace {

constexpr int kDefaultMeiNeurons = 8;
constexpr int kTypeNeuronRows = 200;

QString number(double value, int digits = 3) {
  return std::isfinite(value) ? QString::number(value, 'f', digits) : QStringLiteral("—");
}

// A filter shown with zero at mid-grey, so positive and negative lobes read at once.
QImage filterImage(const float* values, int size) {
  float extent = 1e-12f;
  for (int i = 0; i < size * size; ++i) extent = std::max(extent, std::abs(values[i]));
  return bp::widgets::imageFromPlanes(values, 1, size, size, -extent, extent);
}

std::vector<std::int64_t> parseNeurons(const QString& text, std::int64_t neuronCount, QString* error) {
  std::vector<std::int64_t> neurons;
  for (const QString& part : text.split(QRegularExpression(QStringLiteral("[,\\s]+")), Qt::SkipEmptyParts)) {
    bool ok = false;
    const qlonglong value = part.toLongLong(&ok);
    if (!ok || value < 0 || value >= neuronCount) {
      *error = QObject::tr("'%1' is not a neuron index between 0 and %2").arg(part).arg(neuronCount - 1);
      return {};
    }
    neurons.push_back(value);
  }
  if (neurons.empty()) *error = QObject::tr("enter neuron indices, e.g. 0, 5, 12");
  return neurons;
}

}  // namespace

QString coreLabel(const nlohmann::json& modelConfig) {
  return modelConfig.value("core", std::string("stacked")) == "rotation_equivariant" ? QStringLiteral("rotation-eq.")
                                                                                       : QStringLiteral("stacked");
}

ModelResultsView::ModelResultsView(Workspace& workspace, JobRunner& jobs, QWidget* parent)
    : QWidget(parent), workspace_(workspace), jobs_(jobs) {
  // Comparison of every fitted or opened model; the selected row is the one the views show.
  comparison_ = new QTableWidget(0, 11, this);
  comparison_->setHorizontalHeaderLabels({tr("Model"), tr("Core"), tr("Readout"), tr("Parameters"), tr("Epochs"),
                                          tr("Best val. r"), tr("Test r (avg)"), tr("Test r (trial)"),
                                          tr("Fraction of oracle"), tr("FEVe"), tr("Minutes")});
  // What the measures mean, on the headers where a user first meets them.
  const std::pair<int, QString> headerHelp[] = {
      {5, tr("Mean over neurons of the correlation between prediction and single-trial response on the validation "
             "images, at the best epoch (early stopping keeps that model)")},
      {6, tr("Test images: correlation between the prediction and each neuron's response averaged over the "
             "image's repeats, mean over neurons")},
      {7, tr("Test images: correlation between the prediction and single-trial responses, mean over neurons")},
      {8, tr("Slope of test correlation against each neuron's oracle r (how well the other repeats predict a "
             "repeat): 1 means the model predicts as well as the neuron's own repeats")},
      {9, tr("Fraction of explainable variance explained: the share of the response variance that is not trial "
             "noise which the model explains, mean over neurons")}};
  for (const auto& [column, help] : headerHelp) comparison_->horizontalHeaderItem(column)->setToolTip(help);
  comparison_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  comparison_->horizontalHeader()->setStretchLastSection(true);
  comparison_->verticalHeader()->hide();
  comparison_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  comparison_->setSelectionBehavior(QAbstractItemView::SelectRows);
  comparison_->setSelectionMode(QAbstractItemView::SingleSelection);
  comparison_->setMinimumHeight(110);
  connect(comparison_, &QTableWidget::currentCellChanged, this, [this](int row) {
    if (row >= 0) workspace_.setCurrentModel(row);
  });

  // Training curves, every model overlaid.
  lossCurves_ = new bp::widgets::SeriesPlot(this);
  lossCurves_->setLabels(tr("Training loss"), tr("epoch"), tr("Poisson loss + penalties"));
  correlationCurves_ = new bp::widgets::SeriesPlot(this);
  correlationCurves_->setLabels(tr("Validation correlation"), tr("epoch"), tr("mean r over neurons"));
  const QString fitOrOpen = tr("Fit a model (Fit, on the left) or open one (Open model…): %1 here.");
  bp::widgets::setEmptyMessage(lossCurves_->plot(), fitOrOpen.arg(tr("its training loss per epoch appears")));
  bp::widgets::setEmptyMessage(correlationCurves_->plot(),
                               fitOrOpen.arg(tr("its validation correlation per epoch appears")));
  auto* curves = new QSplitter(Qt::Horizontal, this);
  curves->addWidget(lossCurves_);
  curves->addWidget(correlationCurves_);

  // Evaluation of the selected model on the test tier.
  oracleScatter_ = new bp::widgets::SeriesPlot(this);
  oracleScatter_->setLabels(tr("Model vs oracle (test tier, one point per neuron)"), tr("oracle correlation"),
                            tr("model correlation (single trials)"));
  correlationHistogram_ = new bp::widgets::HistogramPlot(this);
  correlationHistogram_->setLabels(tr("Test correlation to trial averages"), tr("r"));
  bp::widgets::setEmptyMessage(oracleScatter_->plot(),
                               fitOrOpen.arg(tr("each neuron's test correlation against its oracle is drawn")));
  bp::widgets::setEmptyMessage(correlationHistogram_->plot(),
                               fitOrOpen.arg(tr("the spread of its test correlations is drawn")));
  evaluationSummary_ = new QLabel(tr("Fit or open a model to see how well it predicts the neurons."), this);
  evaluationSummary_->setWordWrap(true);
  auto* evaluation = new QWidget(this);
  auto* evaluationLayout = new QVBoxLayout(evaluation);
  auto* evaluationPlots = new QSplitter(Qt::Horizontal, evaluation);
  evaluationPlots->addWidget(oracleScatter_);
  evaluationPlots->addWidget(correlationHistogram_);
  evaluationLayout->addWidget(evaluationPlots, 1);
  evaluationLayout->addWidget(evaluationSummary_);

  // What the model learned.
  filterGrid_ = new bp::widgets::ImageGridView(this);
  filterGrid_->setThumbnailSize(56);
  readoutPlot_ = new bp::widgets::SeriesPlot(this);
  readoutPlot_->setLabels(tr("Readout positions over the image"), tr("x (pixels)"), tr("y (pixels)"));
  bp::widgets::setEmptyMessage(readoutPlot_->plot(), fitOrOpen.arg(tr("where each neuron reads the image is drawn")));
  auto* features = new QSplitter(Qt::Horizontal, this);
  features->addWidget(filterGrid_);
  features->addWidget(readoutPlot_);

  // Most exciting inputs.
  meiNeurons_ = new QLineEdit(this);
  meiNeurons_->setPlaceholderText(tr("neuron indices, e.g. 0, 5, 12"));
  meiSteps_ = new QSpinBox(this);
  meiSteps_->setRange(10, 5000);
  meiSteps_->setValue(300);
  auto* bestNeuronsButton = new QPushButton(tr("Best-predicted neurons"), this);
  auto* meiButton = new QPushButton(tr("Compute MEIs"), this);
  meiGrid_ = new bp::widgets::ImageGridView(this);
  meiGrid_->setThumbnailSize(160);
  auto* mei = new QWidget(this);
  auto* meiLayout = new QVBoxLayout(mei);
  auto* meiRow = new QHBoxLayout;
  meiRow->addWidget(new QLabel(tr("Neurons"), mei));
  meiRow->addWidget(meiNeurons_, 1);
  meiRow->addWidget(bestNeuronsButton);
  meiRow->addWidget(new QLabel(tr("Steps"), mei));
  meiRow->addWidget(meiSteps_);
  meiRow->addWidget(meiButton);
  meiLayout->addLayout(meiRow);
  meiLayout->addWidget(meiGrid_, 1);
  connect(meiButton, &QPushButton::clicked, this, &ModelResultsView::computeMostExcitingInputs);
  connect(bestNeuronsButton, &QPushButton::clicked, this, [this] {
    if (workspace_.currentModel() < 0 || !workspace_.model(workspace_.currentModel())->evaluation) return;
    const auto& correlation = workspace_.model(workspace_.currentModel())->evaluation->averageCorrelation;
    std::vector<int> order(correlation.size());
    std::iota(order.begin(), order.end(), 0);
    auto value = [&](int n) { return std::isfinite(correlation[n]) ? correlation[n] : -2.0; };
    std::sort(order.begin(), order.end(), [&](int a, int b) { return value(a) > value(b); });
    QStringList neurons;
    for (int i = 0; i < std::min<int>(kDefaultMeiNeurons, static_cast<int>(order.size())); ++i)
      neurons << QString::number(order[static_cast<std::size_t>(i)]);
    meiNeurons_->setText(neurons.join(QStringLiteral(", ")));
  });

  // Functional types (rotation-equivariant core).
  typeTable_ = new QTableWidget(0, 3, this);
  typeTable_->setHorizontalHeaderLabels({tr("Type (feature)"), tr("Neurons"), tr("Clean (> 50% energy)")});
  typeTable_->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
  typeTable_->verticalHeader()->hide();
  typeTable_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  typeTable_->setSelectionBehavior(QAbstractItemView::SelectRows);
  typeNeurons_ = new QTableWidget(0, 3, this);
  typeNeurons_->setHorizontalHeaderLabels({tr("Neuron"), tr("Energy in type"), tr("Preferred rotation")});
  typeNeurons_->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
  typeNeurons_->verticalHeader()->hide();
  typeNeurons_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  auto* typeMeiButton = new QPushButton(tr("MEIs of this type's cleanest neurons"), this);
  auto* types = new QWidget(this);
  auto* typesLayout = new QHBoxLayout(types);
  typesLayout->addWidget(typeTable_, 1);
  auto* typeNeuronsLayout = new QVBoxLayout;
  typeNeuronsLayout->addWidget(typeNeurons_, 1);
  typeNeuronsLayout->addWidget(typeMeiButton);
  typesLayout->addLayout(typeNeuronsLayout, 1);
  connect(typeTable_, &QTableWidget::currentCellChanged, this, [this](int row) { showNeuronsOfType(row); });
  connect(typeMeiButton, &QPushButton::clicked, this, [this] {
    QStringList neurons;
    for (int row = 0; row < std::min(kDefaultMeiNeurons, typeNeurons_->rowCount()); ++row)
      neurons << typeNeurons_->item(row, 0)->text();
    if (neurons.isEmpty()) return;
    meiNeurons_->setText(neurons.join(QStringLiteral(", ")));
    computeMostExcitingInputs();
  });

  // The denoised similarity target.
  targetWeighted_ = new QCheckBox(tr("Weight neurons by reliability × prediction quality (w·v, Li et al.)"), this);
  targetWeighted_->setChecked(true);
  targetTier_ = new QComboBox(this);
  targetTier_->addItem(tr("All images"), -1);
  targetTier_->addItem(tr("Train images"), static_cast<int>(bp::Tier::Train));
  targetTier_->addItem(tr("Test (repeated) images"), static_cast<int>(bp::Tier::Test));
  auto* targetButton = new QPushButton(tr("Build target similarity (into matrix A)"), this);
  targetSummary_ = new QLabel(
      tr("The target that brain-regularized training pulls a classifier toward: the similarity of the model's "
         "predicted responses, which are far less noisy than single trials. The check compares, on the repeated "
         "test images, the predicted similarity and single-trial similarity with the repeat-averaged one "
         "(Li et al.: 0.73 vs 0.39)."),
      this);
  targetSummary_->setWordWrap(true);
  targetSummary_->setTextFormat(Qt::RichText);
  auto* target = new QWidget(this);
  auto* targetLayout = new QFormLayout(target);
  targetLayout->addRow(targetWeighted_);
  targetLayout->addRow(tr("Rows"), targetTier_);
  targetLayout->addRow(targetButton);
  targetLayout->addRow(targetSummary_);
  connect(targetButton, &QPushButton::clicked, this, &ModelResultsView::buildTarget);

  views_ = new QTabWidget(this);
  views_->addTab(curves, tr("Training curves"));
  views_->addTab(evaluation, tr("Evaluation"));
  views_->addTab(features, tr("Filters and readout"));
  views_->addTab(mei, tr("Most exciting inputs"));
  views_->addTab(types, tr("Functional types"));
  views_->addTab(target, tr("Denoised target"));

  auto* splitter = new QSplitter(Qt::Vertical, this);
  splitter->addWidget(comparison_);
  splitter->addWidget(views_);
  splitter->setStretchFactor(1, 1);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(splitter);

  connect(&workspace_, &Workspace::neuralDataChanged, this, &ModelResultsView::showDataset);
  const auto showModels = [this] {
    updateComparison();
    redrawCurves();
  };
  connect(&workspace_, &Workspace::modelAdded, this, showModels);
  connect(&workspace_, &Workspace::modelChanged, this, showModels);
  connect(&workspace_, &Workspace::currentModelChanged, this, [this](int index) {
    {
      const QSignalBlocker block(comparison_);
      comparison_->selectRow(index);
    }
    showCurrentModel();
  });
}

void ModelResultsView::showDataset() {
  const auto dataset = workspace_.neuralDataset();
  // Once per dataset (a pass over its images, milliseconds even for the Lurz scan), not per redraw.
  meanStimulus_ = {};
  if (dataset && dataset->trialCount() > 0) {
    std::vector<float> mean(static_cast<std::size_t>(dataset->height) * dataset->width, 0.0f);
    for (std::int64_t t = 0; t < dataset->trialCount(); ++t)
      for (std::size_t p = 0; p < mean.size(); ++p) mean[p] += dataset->image(t)[p];
    const auto [low, high] = std::minmax_element(mean.begin(), mean.end());
    meanStimulus_ = bp::widgets::imageFromPlanes(mean.data(), 1, dataset->height, dataset->width, *low, *high);
  }
}

namespace {

// Why a negative FEVe is flagged rather than read as a finding.
QString negativeFeveText(const bp::NeuralModelEvaluation& evaluation) {
  return QObject::tr("FEVe %1 is negative: the predictions' squared error exceeds the variance the images explain, "
                     "although they correlate %2 with the trial averages. Their scale or offset is off (an "
                     "undertrained model often predicts the right pattern at the wrong level), so the correlations, "
                     "not this FEVe, say how well the model predicts.")
      .arg(QString::number(evaluation.meanFeve, 'f', 2), QString::number(evaluation.meanAverageCorrelation, 'f', 2));
}

}  // namespace

void ModelResultsView::updateComparison() {
  comparison_->setRowCount(workspace_.modelCount());
  for (int row = 0; row < workspace_.modelCount(); ++row) {
    const ModelRecord& record = *workspace_.model(row);
    const auto& fit = record.fitSummary;
    const bool fitted = fit.is_object();
    const double bestValidation = fitted ? fit.value("best_validation_correlation", NAN) : NAN;
    const double minutes = fitted ? fit.value("seconds", NAN) / 60.0 : NAN;
    const QStringList cells = {
        QString::fromStdString(record.name),
        coreLabel(record.modelConfig),
        QString::fromStdString(record.modelConfig.value("readout", std::string())),
        QLocale().toString(static_cast<qlonglong>(record.parameterCount)),
        QString::number(record.curve.size()),
        number(bestValidation),
        record.evaluation ? number(record.evaluation->meanAverageCorrelation) : QStringLiteral("—"),
        record.evaluation ? number(record.evaluation->meanSingleTrialCorrelation) : QStringLiteral("—"),
        record.evaluation ? number(record.evaluation->fractionOfOracleSlope) : QStringLiteral("—"),
        record.evaluation ? number(record.evaluation->meanFeve) : QStringLiteral("—"),
        number(minutes, 1)};
    for (int column = 0; column < cells.size(); ++column)
      comparison_->setItem(row, column, new QTableWidgetItem(cells[column]));
    // A negative FEVe beside a positive correlation is no finding: the predictions follow the
    // responses but miss their scale or offset, by more than the explainable variance.
    if (record.evaluation && record.evaluation->meanFeve < 0.0) {
      QTableWidgetItem* feve = comparison_->item(row, 9);
      feve->setText(feve->text() + QStringLiteral(" ⚠"));
      feve->setForeground(bp::widgets::palette::warning());
      feve->setToolTip(negativeFeveText(*record.evaluation));
    }
  }
}

void ModelResultsView::showLiveCurve(const QString& name, const std::vector<bp::NeuralEpochReport>& curve) {
  liveName_ = name;
  liveCurve_ = curve;
  redrawCurves();
}

void ModelResultsView::redrawCurves() {
  lossCurves_->clear();
  correlationCurves_->clear();
  auto draw = [&](const QString& name, const std::vector<bp::NeuralEpochReport>& curve, QColor color) {
    QVector<double> epochs, losses, correlations;
    for (const auto& point : curve) {
      epochs << point.epoch;
      losses << point.trainLoss;
      correlations << point.validationCorrelation;
    }
    lossCurves_->addLine(name, epochs, losses, color);
    correlationCurves_->addLine(name, epochs, correlations, color);
  };
  for (int i = 0; i < workspace_.modelCount(); ++i) {
    const ModelRecord& record = *workspace_.model(i);
    if (!record.curve.empty()) draw(QString::fromStdString(record.name), record.curve, bp::widgets::palette::seriesColor(i));
  }
  if (!liveCurve_.empty())
    draw(liveName_ + tr(" (fitting)"), liveCurve_, bp::widgets::palette::seriesColor(workspace_.modelCount()));
  for (auto* plot : {lossCurves_, correlationCurves_}) {
    plot->setLegendVisible(plot->seriesCount() > 0);
    plot->rescale();
  }
}

void ModelResultsView::showCurrentModel() {
  if (workspace_.currentModel() < 0) return;
  const ModelRecord& record = *workspace_.model(workspace_.currentModel());
  showEvaluation(record);
  showFeatures(record);
  showTypes(record);
}

void ModelResultsView::showEvaluation(const ModelRecord& record) {
  oracleScatter_->clear();
  if (!record.evaluation) {
    correlationHistogram_->setValues({});
    evaluationSummary_->setText(
        tr("This model was not evaluated: load the dataset it predicts (%1 neurons, %2×%3 images) and open it again.")
            .arg(record.neuronCount)
            .arg(record.inputHeight)
            .arg(record.inputWidth));
    return;
  }
  const bp::NeuralModelEvaluation& evaluation = *record.evaluation;
  QVector<double> oracle, correlation;
  for (std::size_t n = 0; n < evaluation.oracleCorrelation.size(); ++n)
    if (std::isfinite(evaluation.oracleCorrelation[n]) && std::isfinite(evaluation.singleTrialCorrelation[n])) {
      oracle << evaluation.oracleCorrelation[n];
      correlation << evaluation.singleTrialCorrelation[n];
    }
  oracleScatter_->addScatter(tr("neurons"), oracle, correlation, {}, 4);
  if (!oracle.isEmpty()) {
    const double top = std::max(*std::max_element(oracle.begin(), oracle.end()), 0.0);
    oracleScatter_->addLine(tr("model = oracle"), {0.0, top}, {0.0, top}, Qt::darkGray);
    const double slope = evaluation.fractionOfOracleSlope;
    if (std::isfinite(slope))
      oracleScatter_->addLine(tr("fraction of oracle %1").arg(number(slope)), {0.0, top}, {0.0, slope * top},
                              bp::widgets::palette::seriesColor(1));
  }
  oracleScatter_->setLegendVisible(true);
  oracleScatter_->rescale();
  correlationHistogram_->setValues(QVector<double>(evaluation.averageCorrelation.begin(), evaluation.averageCorrelation.end()));
  QString text = tr("<b>%1</b> on the test tier: correlation to trial averages %2, to single trials %3; "
                    "oracle %4; fraction of oracle %5; FEVe %6. %7 parameters.")
                     .arg(QString::fromStdString(record.name).toHtmlEscaped(), number(evaluation.meanAverageCorrelation),
                          number(evaluation.meanSingleTrialCorrelation), number(evaluation.meanOracleCorrelation),
                          number(evaluation.fractionOfOracleSlope), number(evaluation.meanFeve),
                          QLocale().toString(static_cast<qlonglong>(record.parameterCount)));
  // A model of several recordings: each recording on its own test tier (the loaded dataset's is above).
  if (record.recordings.size() > 1) {
    QStringList parts;
    for (const auto& recording : record.recordings)
      parts << tr("%1 (%2 neurons): %3, fraction of oracle %4")
                   .arg(QString::fromStdString(recording.value("recording", std::string())).toHtmlEscaped())
                   .arg(recording.value("neurons", 0))
                   .arg(number(recording.value("test_mean_average_correlation", NAN)),
                        number(recording.value("test_fraction_of_oracle", NAN)));
    text += tr("<br>One core for %1 recordings, each with its readout: %2.")
                .arg(record.recordings.size())
                .arg(parts.join(QStringLiteral("; ")));
  }
  if (evaluation.meanFeve < 0.0)
    text += QStringLiteral("<br><span style='color:%1'>⚠ %2</span>")
                .arg(bp::widgets::palette::warning().name(), negativeFeveText(evaluation).toHtmlEscaped());
  evaluationSummary_->setText(text);
}

void ModelResultsView::showFeatures(const ModelRecord& record) {
  const LearnedFeaturesView& features = record.features;
  QVector<bp::widgets::ImageGridItem> items;
  const int perRotation = features.filterCount / std::max(1, features.rotations);
  for (int f = 0; f < features.filterCount; ++f) {
    bp::widgets::ImageGridItem item;
    item.image = filterImage(features.filters.data() + static_cast<std::size_t>(f) * features.filterSize * features.filterSize,
                             features.filterSize);
    item.label = features.rotations > 1
                     ? tr("f%1 · %2°").arg(f % perRotation).arg(360.0 * (f / perRotation) / features.rotations, 0, 'f', 0)
                     : tr("filter %1").arg(f);
    item.id = f;
    items.push_back(item);
  }
  filterGrid_->setItems(items);

  readoutPlot_->clear();
  QCustomPlot* plot = readoutPlot_->plot();
  plot->clearItems();
  // The dataset's mean image under the readout, so positions read as places in the visual field.
  const auto dataset = workspace_.neuralDataset();
  if (!meanStimulus_.isNull() && dataset->height == record.inputHeight && dataset->width == record.inputWidth) {
    auto* background = new QCPItemPixmap(plot);
    background->setPixmap(QPixmap::fromImage(meanStimulus_));
    background->setScaled(true, Qt::IgnoreAspectRatio);
    background->topLeft->setCoords(-0.5, -0.5);
    background->bottomRight->setCoords(dataset->width - 0.5, dataset->height - 0.5);
    background->setLayer(QStringLiteral("background"));
  }
  if (!features.positions.empty()) {
    QVector<double> x, y;
    for (std::size_t n = 0; n + 1 < features.positions.size(); n += 2) {
      x << features.positions[n];
      y << features.positions[n + 1];
    }
    readoutPlot_->addScatter(tr("readout positions (%1 neurons)").arg(x.size()), x, y, {}, 4);
    readoutPlot_->setLabels(tr("Gaussian readout positions over the mean image"), tr("x (pixels)"), tr("y (pixels)"));
  } else if (!features.masks.empty()) {
    // Each mask's peak, offset by the first layer's margin, marks where the neuron looks.
    const int maskPixels = features.maskHeight * features.maskWidth;
    const double offset = (record.modelConfig.at("kernel_sizes").front().get<int>() - 1) / 2.0;
    QVector<double> x, y;
    for (std::size_t n = 0; n < features.masks.size() / static_cast<std::size_t>(maskPixels); ++n) {
      const float* mask = features.masks.data() + n * static_cast<std::size_t>(maskPixels);
      const auto peak = static_cast<int>(std::max_element(mask, mask + maskPixels) - mask);
      x << offset + peak % features.maskWidth;
      y << offset + peak / features.maskWidth;
    }
    readoutPlot_->addScatter(tr("mask peaks (%1 neurons)").arg(x.size()), x, y, {}, 4);
    readoutPlot_->setLabels(tr("Factorized readout: each mask's peak over the mean image"), tr("x (pixels)"),
                            tr("y (pixels)"));
  }
  plot->xAxis->setRange(-0.5, record.inputWidth - 0.5);
  plot->yAxis->setRange(-0.5, record.inputHeight - 0.5);
  plot->yAxis->setRangeReversed(true);  // image rows grow downward
  readoutPlot_->setLegendVisible(true);
  plot->replot();
}

void ModelResultsView::showTypes(const ModelRecord& record) {
  typeTable_->setRowCount(0);
  typeNeurons_->setRowCount(0);
  views_->setTabEnabled(4, record.types.has_value());
  if (!record.types) return;
  const FunctionalTypesView& types = *record.types;
  std::vector<int> order(static_cast<std::size_t>(types.typeCount));
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int a, int b) { return types.typeCounts[a] > types.typeCounts[b]; });
  typeTable_->setRowCount(types.typeCount);
  for (int row = 0; row < types.typeCount; ++row) {
    const int type = order[static_cast<std::size_t>(row)];
    auto* name = new QTableWidgetItem(tr("type %1").arg(type));
    name->setData(Qt::UserRole, type);
    typeTable_->setItem(row, 0, name);
    typeTable_->setItem(row, 1, new QTableWidgetItem(QString::number(types.typeCounts[static_cast<std::size_t>(type)])));
    typeTable_->setItem(row, 2,
                        new QTableWidgetItem(QString::number(types.cleanTypeCounts[static_cast<std::size_t>(type)])));
  }
  typeTable_->selectRow(0);
}

void ModelResultsView::showNeuronsOfType(int row) {
  typeNeurons_->setRowCount(0);
  if (workspace_.currentModel() < 0 || row < 0 || !typeTable_->item(row, 0)) return;
  const ModelRecord& record = *workspace_.model(workspace_.currentModel());
  if (!record.types) return;
  const FunctionalTypesView& types = *record.types;
  const int type = typeTable_->item(row, 0)->data(Qt::UserRole).toInt();
  std::vector<int> members;
  for (std::size_t n = 0; n < types.types.size(); ++n)
    if (types.types[n] == type) members.push_back(static_cast<int>(n));
  std::sort(members.begin(), members.end(),
            [&](int a, int b) { return types.energyFractions[static_cast<std::size_t>(a)] > types.energyFractions[static_cast<std::size_t>(b)]; });
  const int rows = std::min(kTypeNeuronRows, static_cast<int>(members.size()));
  typeNeurons_->setRowCount(rows);
  const int rotations = record.features.rotations;
  for (int i = 0; i < rows; ++i) {
    const auto n = static_cast<std::size_t>(members[static_cast<std::size_t>(i)]);
    typeNeurons_->setItem(i, 0, new QTableWidgetItem(QString::number(n)));
    typeNeurons_->setItem(i, 1, new QTableWidgetItem(number(types.energyFractions[n], 2)));
    typeNeurons_->setItem(i, 2,
                          new QTableWidgetItem(tr("%1°").arg(360.0 * types.preferredRotations[n] / rotations, 0, 'f', 0)));
  }
}

void ModelResultsView::computeMostExcitingInputs() {
  if (workspace_.currentModel() < 0) {
    bp::logWarning("Fit or open a model before computing most exciting inputs");
    return;
  }
  auto record = workspace_.model(workspace_.currentModel());
  QString error;
  const std::vector<std::int64_t> neurons = parseNeurons(meiNeurons_->text(), record->neuronCount, &error);
  if (neurons.empty()) {
    bp::logWarning("Most exciting inputs: " + error.toStdString());
    return;
  }
  const int steps = meiSteps_->value();
  views_->setCurrentIndex(3);
  jobs_.run<std::vector<MeiView>>(
      tr("Most exciting inputs of %1 neurons").arg(neurons.size()),
      [record, neurons, steps](const bp::Job& job) { return computeMeis(*record, neurons, steps, job); },
      [this, record](std::vector<MeiView>& meis) {
        QVector<bp::widgets::ImageGridItem> items;
        for (const auto& mei : meis) {
          bp::widgets::ImageGridItem item;
          item.image = bp::widgets::imageFromPlanes(mei.image.data(), record->inputChannels, record->inputHeight,
                                                    record->inputWidth, 0.0f, pixelRangeHigh(*record));
          item.label = tr("neuron %1: %2").arg(mei.neuron).arg(number(mei.activation, 2));
          item.toolTip = tr("Neuron %1: predicted response %2 to this image, %3 to the random start")
                             .arg(mei.neuron)
                             .arg(number(mei.activation))
                             .arg(number(mei.startActivation));
          item.id = mei.neuron;
          items.push_back(item);
        }
        meiGrid_->setItems(items);
        Q_EMIT meisReady();
      });
}

void ModelResultsView::buildTarget() {
  auto dataset = workspace_.neuralDataset();
  if (workspace_.currentModel() < 0 || !dataset) {
    bp::logWarning("Building a target needs a fitted model and the dataset it predicts");
    return;
  }
  auto record = workspace_.model(workspace_.currentModel());
  const bool weighted = targetWeighted_->isChecked();
  const int tierValue = targetTier_->currentData().toInt();
  const std::optional<bp::Tier> tier =
      tierValue < 0 ? std::nullopt : std::optional<bp::Tier>(static_cast<bp::Tier>(tierValue));
  const QString description = tr("denoised target of %1 (%2)")
                                  .arg(QString::fromStdString(record->name), targetTier_->currentText().toLower());
  jobs_.run<NeuralTargetView>(
      tr("Building the %1").arg(description),
      [record, dataset, weighted, tier](const bp::Job& job) {
        return buildNeuralTarget(*record, *dataset, weighted, tier, job);
      },
      [this, description](NeuralTargetView& view) {
        const auto& check = view.denoisingCheck;
        targetSummary_->setText(
            tr("<p><b>%1</b>: %2 images, %3 weighted neurons.</p>"
               "<p>Denoising check on %4 repeated test images (%5 repeats), Pearson r with the repeat-averaged "
               "similarity:</p><table cellpadding='4'>"
               "<tr><td>model-predicted similarity</td><td><b>%6</b></td></tr>"
               "<tr><td>single-trial similarity (vs all repeats, the paper's)</td><td><b>%7</b></td></tr>"
               "<tr><td>single-trial similarity (vs the other repeats)</td><td>%8</td></tr></table>"
               "<p>Li et al. 2019 report 0.73 and 0.39. The matrix is now in the Similarity tab as A.</p>")
                .arg(description.toHtmlEscaped())
                .arg(view.matrix->size)
                .arg(view.weightedNeurons)
                .arg(check.value("images", 0))
                .arg(check.value("repeats", 0))
                .arg(number(check.value("predicted_vs_repeat_average", NAN)))
                .arg(number(check.value("single_trial_vs_repeat_average", NAN)))
                .arg(number(check.value("single_trial_vs_other_repeats", NAN))));
        workspace_.setSimilarity(Workspace::A, view.matrix, description);
        bp::logInfo("Matrix A is now the " + description.toStdString());
        Q_EMIT targetBuilt();
      });
}

void ModelResultsView::chooseWhereToExportFigure() {
  const QString path = QFileDialog::getSaveFileName(this, tr("Export figure"), QStringLiteral("model.pdf"),
                                                    tr("PDF (*.pdf);;SVG (*.svg);;PNG (*.png)"));
  if (path.isEmpty()) return;
  QCustomPlot* plot = nullptr;
  switch (views_->currentIndex()) {
    case 0: plot = correlationCurves_->plot(); break;
    case 1: plot = oracleScatter_->plot(); break;
    default: plot = readoutPlot_->plot(); break;
  }
  QString error;
  if (bp::widgets::exportPlot(plot, path, &error))
    bp::logInfo("Exported figure " + path.toStdString());
  else
    bp::log(bp::LogLevel::Error, "Could not export the figure: " + error.toStdString());
}

}  // namespace bp::app
