#include "app/similarity_panel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QScrollArea>
#include <QSpinBox>
#include <QSplitter>
#include <QTableWidget>
#include <QToolTip>
#include <QCursor>
#include <QTabWidget>
#include <QVBoxLayout>
#include <cmath>
#include "widgets/custom_plot.h"

#include "app/controls_column.h"
#include "data/neural_dataset.h"
#include "rsa/compare.h"
#include "rsa/matrix_file.h"
#include "rsa/ordering.h"
#include "rsa/rsa_reliability.h"
#include "rsa/similarity_distribution.h"
#include "runtime/error.h"
#include "runtime/log.h"
#include "widgets/heatmap_view.h"
#include "widgets/histogram_plot.h"
#include "widgets/palette.h"
#include "widgets/plot_export.h"
#include "widgets/plot_style.h"
#include "widgets/series_plot.h"

namespace bp::app {
namespace {

constexpr int kHoverImagePixels = 128;
// MDS puts images on their points (those that fit without overlap) up to this many images; beyond,
// points only, so that a large matrix does not make thousands of pixmaps.
constexpr int kMaxMdsThumbnails = 1000;

QVector<float> toQVector(const std::vector<float>& values) { return QVector<float>(values.begin(), values.end()); }

QString formatNumber(double value, int digits = 3) {
  return std::isfinite(value) ? QString::number(value, 'f', digits) : QStringLiteral("—");
}

QString slotName(int slot) { return slot == Workspace::A ? QStringLiteral("A") : QStringLiteral("B"); }

// Beyond this many classes their names on the axes would be unreadable.
constexpr std::size_t kMaxNamedClasses = 30;

// Class names on the axes and lines between the classes, when the matrix's labels form blocks (as
// after ordering by label).
void nameClassBlocks(bp::widgets::HeatmapView* view, const bp::SimilarityMatrix& matrix) {
  const auto blocks = bp::labelBlocks(matrix);
  QVector<bp::widgets::HeatmapView::Group> groups;
  if (blocks.size() >= 2 && blocks.size() <= kMaxNamedClasses)
    for (const auto& block : blocks)
      groups.push_back({static_cast<int>(block.first), static_cast<int>(block.count), QString::fromStdString(block.label)});
  view->setGroups(groups);
}

// The comparison measures as a reader names them.
QString comparisonMethodLabel(bp::ComparisonMethod method) {
  switch (method) {
    case bp::ComparisonMethod::Pearson: return QObject::tr("Pearson r");
    case bp::ComparisonMethod::Spearman: return QObject::tr("Spearman ρ");
    case bp::ComparisonMethod::KendallTauA: return QObject::tr("Kendall τa");
    case bp::ComparisonMethod::Cosine: return QObject::tr("Cosine similarity");
  }
  return QString::fromLatin1(bp::comparisonMethodName(method));
}

}  // namespace

SimilarityPanel::SimilarityPanel(Workspace& workspace, JobRunner& jobs, QWidget* parent)
    : QWidget(parent), workspace_(workspace), jobs_(jobs) {
  // The form: what to compute.
  source_ = new QComboBox(this);
  source_->addItem(tr("Recorded responses"), static_cast<int>(bp::ResponseSource::Responses));
  source_->addItem(tr("Noise-free rates (synthetic ground truth)"), static_cast<int>(bp::ResponseSource::NoiseFreeRates));
  tier_ = new QComboBox(this);
  tier_->addItem(tr("Test (repeated images)"), static_cast<int>(bp::Tier::Test));
  tier_->addItem(tr("Validation"), static_cast<int>(bp::Tier::Validation));
  tier_->addItem(tr("Train"), static_cast<int>(bp::Tier::Train));
  tier_->addItem(tr("All tiers"), -1);
  rows_ = new QComboBox(this);
  rows_->addItem(tr("Average over repeats"));
  rows_->addItem(tr("Single trial"));
  singleTrial_ = new QSpinBox(this);
  singleTrial_->setPrefix(tr("trial "));
  singleTrial_->setRange(0, 99);
  singleTrial_->setEnabled(false);
  measure_ = new QComboBox(this);
  measure_->addItem(tr("Centred cosine (Li et al.)"), static_cast<int>(bp::SimilarityMeasure::CentredCosine));
  measure_->addItem(tr("Pearson correlation"), static_cast<int>(bp::SimilarityMeasure::Pearson));
  measure_->addItem(tr("Euclidean distance"), static_cast<int>(bp::SimilarityMeasure::Euclidean));
  dissimilarity_ = new QCheckBox(tr("Dissimilarity (1 − s)"), this);
  order_ = new QComboBox(this);
  order_->addItem(tr("As recorded"));
  order_->addItem(tr("By class label"));
  order_->addItem(tr("By clustering (average linkage)"));
  order_->addItem(tr("By one neuron's response"));
  orderNeuron_ = new QSpinBox(this);
  orderNeuron_->setPrefix(tr("neuron "));
  orderNeuron_->setEnabled(false);
  rank_ = new QCheckBox(tr("Rank transform"), this);
  colormap_ = new QComboBox(this);
  colormap_->addItem(QStringLiteral("Viridis"), static_cast<int>(bp::widgets::Colormap::Viridis));
  colormap_->addItem(QStringLiteral("Magma"), static_cast<int>(bp::widgets::Colormap::Magma));
  colormap_->addItem(tr("Red–blue (diverging)"), static_cast<int>(bp::widgets::Colormap::RedBlue));
  colormap_->addItem(tr("Gray"), static_cast<int>(bp::widgets::Colormap::Gray));

  auto* computeA = new QPushButton(tr("Compute → A"), this);
  auto* computeB = new QPushButton(tr("Compute → B"), this);
  computeA->setDefault(true);
  auto* form = new QFormLayout;
  form->addRow(tr("Source"), source_);
  form->addRow(tr("Trials"), tier_);
  auto* rowsLine = new QHBoxLayout;
  rowsLine->addWidget(rows_, 1);
  rowsLine->addWidget(singleTrial_);
  form->addRow(tr("Rows"), rowsLine);
  form->addRow(tr("Measure"), measure_);
  form->addRow(QString(), dissimilarity_);
  auto* orderLine = new QHBoxLayout;
  orderLine->addWidget(order_, 1);
  orderLine->addWidget(orderNeuron_);
  form->addRow(tr("Order"), orderLine);
  form->addRow(QString(), rank_);
  auto* computeRow = new QHBoxLayout;
  computeRow->addWidget(computeA);
  computeRow->addWidget(computeB);
  form->addRow(computeRow);
  auto* computeBox = new QGroupBox(tr("Compute from the dataset"), this);
  computeBox->setLayout(form);

  auto* fileBox = new QGroupBox(tr("Files and figures"), this);
  auto* fileGrid = new QGridLayout(fileBox);
  const auto addFileButton = [&](const QString& text, int row, int col, auto slotFunction) {
    auto* button = new QPushButton(text, fileBox);
    fileGrid->addWidget(button, row, col);
    connect(button, &QPushButton::clicked, this, slotFunction);
  };
  for (int slot = Workspace::A; slot <= Workspace::B; ++slot) {
    addFileButton(tr("Open → %1…").arg(slotName(slot)), 0, slot, [this, slot] {
      const auto path = QFileDialog::getOpenFileName(this, tr("Open similarity matrix"), QString(),
                                                     tr("Similarity matrices (*.h5 *.hdf5)"));
      if (!path.isEmpty()) openMatrixFile(static_cast<Slot>(slot), path);
    });
    addFileButton(tr("Save %1 (HDF5/CSV)…").arg(slotName(slot)), 1, slot, [this, slot] { saveMatrix(static_cast<Slot>(slot)); });
    fileGrid->itemAtPosition(1, slot)->widget()->setToolTip(
        tr("As a BrainPrior matrix file (HDF5), an rsatoolbox RDM file (HDF5, read by rsatoolbox.rdm.load_rdm) "
           "or a CSV table"));
  }
  addFileButton(tr("Export figure (PNG/SVG/PDF)…"), 2, 0, [this] { exportFigure(); });
  fileGrid->addWidget(new QLabel(tr("Colormap"), fileBox), 3, 0);
  fileGrid->addWidget(colormap_, 3, 1);
  linkZoom_ = new QCheckBox(tr("Zoom A, B and A − B together"), fileBox);
  linkZoom_->setChecked(true);
  linkZoom_->setToolTip(tr("Zooming or panning one matrix shows the same images in the others (when they are the same size)"));
  fileGrid->addWidget(linkZoom_, 4, 0, 1, 2);

  comparison_ = new QTableWidget(0, 4, this);
  comparison_->setHorizontalHeaderLabels({tr("A vs B"), tr("value"), tr("95% CI"), tr("p")});
  comparison_->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
  comparison_->verticalHeader()->hide();
  comparison_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  comparison_->setMinimumHeight(150);
  auto* compareButton = new QPushButton(tr("Compare A with B"), this);
  auto* compareBox = new QGroupBox(tr("Comparison (upper triangle)"), this);
  auto* compareLayout = new QVBoxLayout(compareBox);
  compareLayout->addWidget(compareButton);
  compareLayout->addWidget(comparison_);

  ceiling_ = new QLabel(tr("Split-half reliability of the matrix over repeats, and how well single trials "
                           "reproduce the repeat average."), this);
  ceiling_->setWordWrap(true);
  auto* ceilingButton = new QPushButton(tr("Compute noise ceiling"), this);
  auto* ceilingBox = new QGroupBox(tr("Reliability"), this);
  auto* ceilingLayout = new QVBoxLayout(ceilingBox);
  ceilingLayout->addWidget(ceilingButton);
  ceilingLayout->addWidget(ceiling_);

  auto* controls = new QWidget(this);
  auto* controlsLayout = new QVBoxLayout(controls);
  controlsLayout->addWidget(computeBox);
  controlsLayout->addWidget(fileBox);
  controlsLayout->addWidget(compareBox);
  controlsLayout->addWidget(ceilingBox);
  controlsLayout->addStretch(1);
  QScrollArea* controlsScroll = controlsColumn(controls, this);

  // The views.
  auto* sideBySide = new QWidget(this);
  auto* sideLayout = new QHBoxLayout(sideBySide);
  sideLayout->setContentsMargins(0, 0, 0, 0);
  for (int slot = Workspace::A; slot <= Workspace::B; ++slot) {
    heatmaps_[slot] = new bp::widgets::HeatmapView(this);
    heatmaps_[slot]->setTitle(tr("%1: compute or open a matrix").arg(slotName(slot)));
    heatmaps_[slot]->setAxisTitles(tr("image"), tr("image"), tr("similarity"));
    sideLayout->addWidget(heatmaps_[slot]);
    // The distribution of each matrix's values, under both matrices beside the hover images (a
    // target whose pairs sit near ±1 must be seen as such before it is trained towards). Its x
    // axis is the colour bar's values; no title or x label, so that it fits the hover row's height:
    // its corner names the matrix.
    histograms_[slot] = new bp::widgets::HistogramPlot(this);
    histograms_[slot]->setLabels(QString(), QString(), tr("pairs"));
    histograms_[slot]->setBinnedCounts(0, 1, {}, tr("%1: the values of its pairs").arg(slotName(slot)));
    connect(heatmaps_[slot], &bp::widgets::HeatmapView::cellHovered, this,
            [this, slot](int row, int col, double value) { showHover(static_cast<Slot>(slot), row, col, value); });
  }
  difference_ = new bp::widgets::HeatmapView(this);
  difference_->setColormap(bp::widgets::Colormap::RedBlue);
  difference_->setTitle(tr("A − B (same images in the same order)"));
  connect(difference_, &bp::widgets::HeatmapView::cellHovered, this,
          [this](int row, int col, double value) { showHover(Workspace::A, row, col, value); });
  for (const bp::widgets::HeatmapView* view : {heatmaps_[Workspace::A], heatmaps_[Workspace::B], difference_})
    connect(view, &bp::widgets::HeatmapView::visibleCellsChanged, this,
            [this, view](const QRectF& cells) { followZoom(view, cells); });
  mds_ = new bp::widgets::SeriesPlot(this);
  mds_->setLabels(tr("MDS embedding of A"), tr("dimension 1"), tr("dimension 2"));
  bp::widgets::setEmptyMessage(mds_->plot(), tr("Compute or open matrix A, then press Embed A in 2-D: images that A "
                                                "finds similar land close together."));
  auto* mdsTab = new QWidget(this);
  auto* mdsLayout = new QVBoxLayout(mdsTab);
  auto* mdsButton = new QPushButton(tr("Embed A in 2-D (classical MDS)"), mdsTab);
  mdsLayout->addWidget(mdsButton, 0, Qt::AlignLeft);
  mdsLayout->addWidget(mds_, 1);
  views_ = new QTabWidget(this);
  views_->addTab(sideBySide, tr("A and B"));
  views_->addTab(difference_, tr("Difference"));
  views_->addTab(mdsTab, tr("MDS"));

  // The hover box: the two images of the cell under the cursor.
  auto* hoverBox = new QWidget(this);
  auto* hoverLayout = new QHBoxLayout(hoverBox);
  for (auto*& label : hoverImages_) {
    label = new QLabel(hoverBox);
    label->setFixedSize(kHoverImagePixels, kHoverImagePixels);
    label->setAlignment(Qt::AlignCenter);
    label->setStyleSheet(QStringLiteral("background:#f4f4f4;border:1px solid #d0d0d0"));
    hoverLayout->addWidget(label);
  }
  hoverText_ = new QLabel(tr("Hover over a cell to see its two images."), hoverBox);
  hoverText_->setTextFormat(Qt::RichText);
  hoverText_->setWordWrap(true);
  hoverLayout->addWidget(hoverText_, 1);
  for (auto* histogram : histograms_) hoverLayout->addWidget(histogram, 2);

  auto* viewColumn = new QWidget(this);
  auto* viewLayout = new QVBoxLayout(viewColumn);
  viewLayout->setContentsMargins(0, 0, 0, 0);
  viewLayout->addWidget(views_, 1);
  viewLayout->addWidget(hoverBox);
  auto* splitter = new QSplitter(Qt::Horizontal, this);
  splitter->addWidget(controlsScroll);
  splitter->addWidget(viewColumn);
  splitter->setStretchFactor(1, 1);
  splitter->setSizes({360, 1100});
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(splitter);

  connect(rows_, &QComboBox::currentIndexChanged, this, [this](int index) { singleTrial_->setEnabled(index == 1); });
  connect(order_, &QComboBox::currentIndexChanged, this, [this](int index) { orderNeuron_->setEnabled(index == 3); });
  connect(computeA, &QPushButton::clicked, this, [this] { computeInto(Workspace::A); });
  connect(computeB, &QPushButton::clicked, this, [this] { computeInto(Workspace::B); });
  connect(compareButton, &QPushButton::clicked, this, &SimilarityPanel::compareAWithB);
  connect(ceilingButton, &QPushButton::clicked, this, &SimilarityPanel::computeNoiseCeiling);
  connect(mdsButton, &QPushButton::clicked, this, &SimilarityPanel::computeMds);
  connect(colormap_, &QComboBox::currentIndexChanged, this, &SimilarityPanel::applyColormap);
  connect(heatmaps_[Workspace::A], &bp::widgets::HeatmapView::shownColormapChanged, this,
          &SimilarityPanel::showDrawnColormap);
  connect(&workspace_, &Workspace::neuralDataChanged, this, &SimilarityPanel::showDataset);
  connect(&workspace_, &Workspace::similarityChanged, this, [this](int slot) { showMatrix(static_cast<Slot>(slot)); });
}

void SimilarityPanel::showDataset() {
  const auto view = workspace_.neuralData();
  dataset_ = view->dataset;
  thumbnails_.clear();
  for (const auto& item : view->thumbnails)
    thumbnails_.insert(dataset_->imageIds[view->trialsOfImage[static_cast<std::size_t>(item.id)].front()], item.image);
  orderNeuron_->setRange(0, dataset_ ? static_cast<int>(std::max<std::int64_t>(0, dataset_->neuronCount - 1)) : 0);
  const bool hasTruth = dataset_ && dataset_->hasNoiseFreeRates();
  source_->setItemData(1, hasTruth ? QVariant() : QVariant(0), Qt::UserRole - 1);  // disable when absent
  if (!hasTruth) source_->setCurrentIndex(0);
}

bp::FeatureSelection SimilarityPanel::selectionFromForm() const {
  bp::FeatureSelection selection;
  selection.source = static_cast<bp::ResponseSource>(source_->currentData().toInt());
  const int tier = tier_->currentData().toInt();
  if (tier >= 0) selection.tier = static_cast<bp::Tier>(tier);
  selection.averageRepeats = rows_->currentIndex() == 0;
  if (!selection.averageRepeats) selection.repeatIndex = singleTrial_->value();
  return selection;
}

bp::SimilarityConfig SimilarityPanel::configFromForm() const {
  bp::SimilarityConfig config;
  config.measure = static_cast<bp::SimilarityMeasure>(measure_->currentData().toInt());
  config.dissimilarity = dissimilarity_->isChecked();
  return config;
}

QString SimilarityPanel::describeForm() const {
  // Short: it is the heatmap's title, and a long title widens the whole window.
  const auto tier = tier_->currentData().toInt();
  return QStringLiteral("%1 · %2 · %3%4")
      .arg(QString::fromLatin1(bp::similarityMeasureName(static_cast<bp::SimilarityMeasure>(measure_->currentData().toInt()))),
           tier < 0 ? tr("all tiers") : QString::fromLatin1(bp::tierName(static_cast<bp::Tier>(tier))),
           rows_->currentIndex() == 0 ? tr("mean of repeats") : tr("trial %1").arg(singleTrial_->value()),
           source_->currentIndex() == 1 ? tr(" · noise-free") : QString());
}

void SimilarityPanel::computeInto(Slot slot) {
  if (!dataset_) {
    bp::logWarning("Load a neural dataset before computing a similarity matrix.");
    return;
  }
  const auto dataset = dataset_;
  const auto selection = selectionFromForm();
  const auto config = configFromForm();
  const int order = order_->currentIndex();
  const int orderNeuron = orderNeuron_->value();
  const bool rank = rank_->isChecked();
  const QString description = describeForm();
  jobs_.run<std::shared_ptr<const bp::SimilarityMatrix>>(
      tr("Computing similarity matrix %1").arg(slotName(slot)),
      [dataset, selection, config, order, orderNeuron, rank](const bp::Job& job) {
        const auto features = bp::featuresFromDataset(*dataset, selection);
        if (features.rows > bp::kInMemorySimilarityLimit)
          throw bp::Error("this selection has " + std::to_string(features.rows) +
                          " images; matrices that large are computed with `brainprior-cli rsa` (streamed to disk) "
                          "and opened from the file");
        auto matrix = bp::computeSimilarity(features, config, job.subJob(0.0, 0.8));
        if (order == 1) matrix = bp::reorder(matrix, bp::orderByLabel(matrix));
        if (order == 2) matrix = bp::reorder(matrix, bp::orderByClustering(matrix, job.subJob(0.8, 1.0)));
        if (order == 3) matrix = bp::reorder(matrix, bp::orderByValues(bp::unitColumn(features, orderNeuron)));
        if (rank) matrix = bp::rankTransform(matrix);
        return std::make_shared<const bp::SimilarityMatrix>(std::move(matrix));
      },
      [this, slot, description](std::shared_ptr<const bp::SimilarityMatrix>& matrix) {
        workspace_.setSimilarity(slot, matrix, description);
      });
}

void SimilarityPanel::showMatrix(Slot slot) {
  const SimilaritySlot& shown = workspace_.similarity(slot);
  if (!shown.matrix) return;
  const auto& m = *shown.matrix;
  auto* view = heatmaps_[slot];
  view->setMatrix(toQVector(m.values), static_cast<int>(m.size), static_cast<int>(m.size));
  view->setTitle(matrixTitle(slot));
  const bool distance = m.config.dissimilarity || m.config.measure == bp::SimilarityMeasure::Euclidean;
  view->setAxisTitles(tr("image"), tr("image"), distance ? tr("dissimilarity") : tr("similarity"));
  nameClassBlocks(view, m);
  applyColormap();
  updateDifference();
  describeValues(slot);
}

void SimilarityPanel::describeValues(Slot slot) {
  const SimilaritySlot& shown = workspace_.similarity(slot);
  const auto matrix = shown.matrix;
  const QString file = shown.file;
  histograms_[slot]->setBinnedCounts(0, 1, {}, tr("%1: describing the values…").arg(slotName(slot)));
  histograms_[slot]->setToolTip(QString());
  degenerate_[slot].clear();
  jobs_.run<bp::SimilarityDistribution>(
      tr("Describing the values of %1").arg(slotName(slot)),
      [matrix, file](const bp::Job& job) {
        // A large file is shown as block means: its own values say what the matrix holds.
        if (matrix->provenance.contains("block_means"))
          return bp::describeSimilarity(bp::SimilarityMatrixFile::open(file.toStdString()), job);
        return bp::describeSimilarity(*matrix);
      },
      [this, slot, matrix](bp::SimilarityDistribution& d) {
        if (workspace_.similarity(slot).matrix != matrix) return;  // a newer matrix replaced it meanwhile
        // Short lines: the plot is narrow at 1280×720; the tooltip has the rest.
        QString summary = tr("%1: median %2").arg(slotName(slot), formatNumber(d.percentiles[2], 2));
        if (d.bounded) summary += tr("\n%1% beyond ±0.9").arg(formatNumber(100.0 * d.nearOneShare, 1));
        const bool degenerate = !d.degenerate.empty();
        if (degenerate) {
          // Where the matrix is shown: its title, its histogram (the whole reason in the tooltip),
          // and the log.
          degenerate_[slot] = tr("Not a structure to train towards: %1.").arg(QString::fromStdString(d.degenerate));
          summary += tr("\n⚠ degenerate");
          heatmaps_[slot]->setTitle(matrixTitle(slot) + tr(" · ⚠ degenerate"));
          bp::logWarning(QStringLiteral("%1 (%2): %3").arg(slotName(slot), workspace_.similarity(slot).description,
                                                           degenerate_[slot]).toStdString());
        }
        QVector<double> counts(d.histogram.begin(), d.histogram.end());
        histograms_[slot]->setBinnedCounts(d.histogramLow, d.histogramHigh, counts, summary);
        histograms_[slot]->setColor(degenerate ? bp::widgets::palette::warning() : bp::widgets::palette::seriesColor(0));
        // The whole description where the corner has no room for it.
        QString tip = QStringLiteral("%1: %2.").arg(slotName(slot), QString::fromStdString(bp::summarize(d)));
        if (degenerate) tip += QStringLiteral("\n\n⚠ ") + degenerate_[slot];
        histograms_[slot]->setToolTip(tip);
      });
}

QString SimilarityPanel::degenerateText(Slot slot) const { return degenerate_[slot]; }

QString SimilarityPanel::matrixTitle(Slot slot) const {
  const SimilaritySlot& shown = workspace_.similarity(slot);
  return QStringLiteral("%1 · %2 · %3 images").arg(slotName(slot), shown.description).arg(shown.matrix->size);
}

void SimilarityPanel::openMatrixFile(Slot slot, const QString& path, const QString& description) {
  jobs_.run<std::shared_ptr<const bp::SimilarityMatrix>>(
      tr("Opening %1").arg(QFileInfo(path).fileName()),
      [path](const bp::Job& job) {
        if (bp::isRsatoolboxFile(path.toStdString()))
          return std::make_shared<const bp::SimilarityMatrix>(bp::readRsatoolboxFile(path.toStdString(), 0, job));
        const auto file = bp::SimilarityMatrixFile::open(path.toStdString());
        if (file.size() <= bp::kInMemorySimilarityLimit)
          return std::make_shared<const bp::SimilarityMatrix>(file.readAll(job));
        // Too big to hold: show block means; hover then reports blocks, not single images.
        bp::SimilarityMatrix overview;
        overview.config = file.config();
        overview.provenance = file.provenance();
        overview.values = file.readDownsampled(bp::widgets::HeatmapView::kMaxDisplayCellsPerSide, &overview.size, job);
        const auto factor = (file.size() + overview.size - 1) / overview.size;
        for (std::int64_t i = 0; i < overview.size; ++i) overview.imageIds.push_back(file.imageIds()[i * factor]);
        overview.provenance["block_means"] = factor;  // what the view shows: means of factor x factor blocks
        bp::logInfo("Showing " + std::to_string(file.size()) + " images as " + std::to_string(overview.size) +
                    " blocks of " + std::to_string(factor) + " (block means)");
        return std::make_shared<const bp::SimilarityMatrix>(std::move(overview));
      },
      [this, slot, path, description](std::shared_ptr<const bp::SimilarityMatrix>& matrix) {
        workspace_.setSimilarity(slot, matrix, description.isEmpty() ? QFileInfo(path).fileName() : description, path);
      });
}

void SimilarityPanel::showHover(Slot slot, int row, int col, double value) {
  const auto& matrix = workspace_.similarity(slot).matrix;
  if (!matrix || row < 0 || col < 0 || row >= matrix->size || col >= matrix->size) {
    for (auto* label : hoverImages_) label->clear();
    hoverText_->setText(tr("Hover over a cell to see its two images."));
    QToolTip::hideText();
    return;
  }
  const std::array<int, 2> indices{row, col};
  QStringList names;
  for (int k = 0; k < 2; ++k) {
    const auto id = matrix->imageIds[static_cast<std::size_t>(indices[k])];
    const auto image = thumbnails_.value(id);
    hoverImages_[k]->setPixmap(image.isNull() ? QPixmap()
                                              : QPixmap::fromImage(image.scaled(kHoverImagePixels, kHoverImagePixels,
                                                                                Qt::KeepAspectRatio, Qt::FastTransformation)));
    const auto label = matrix->labels.empty() ? QString() : QString::fromStdString(matrix->labels[static_cast<std::size_t>(indices[k])]);
    names << QStringLiteral("image %1%2").arg(id).arg(label.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(label));
  }
  hoverText_->setText(QStringLiteral("<b>%1</b>[%2, %3] = <b>%4</b><br>row: %5<br>column: %6")
                          .arg(slotName(slot)).arg(row).arg(col).arg(formatNumber(value, 4), names[0], names[1]));
  // Also at the cursor, where the eye is; the side panel keeps it, with the two images.
  QToolTip::showText(QCursor::pos(), hoverText_->text());
}

QString SimilarityPanel::hoverText() const { return hoverText_->text(); }

void SimilarityPanel::updateDifference() {
  const auto a = workspace_.similarity(Workspace::A).matrix;
  const auto b = workspace_.similarity(Workspace::B).matrix;
  if (!a || !b || a->size != b->size || a->imageIds != b->imageIds) {
    difference_->clear();
    difference_->setTitle(tr("A − B needs two matrices over the same images in the same order"));
    return;
  }
  // Up to 10,000^2 values: subtract on a worker, not in the event loop.
  jobs_.run<QVector<float>>(
      tr("Computing A − B"),
      [a, b](const bp::Job& job) {
        QVector<float> difference(static_cast<int>(a->values.size()));
        const auto rows = a->size;
        for (std::int64_t r = 0; r < rows; ++r) {
          if (r % 256 == 0) job.throwIfCancelled();
          for (std::int64_t c = 0; c < rows; ++c) {
            const auto i = static_cast<std::size_t>(r * rows + c);
            difference[static_cast<int>(i)] = a->values[i] - b->values[i];
          }
        }
        return difference;
      },
      [this, a, b](QVector<float>& difference) {
        // A newer matrix replaced one of them meanwhile.
        if (workspace_.similarity(Workspace::A).matrix != a || workspace_.similarity(Workspace::B).matrix != b) return;
        difference_->setMatrix(difference, static_cast<int>(a->size), static_cast<int>(a->size));
        difference_->setColormap(bp::widgets::Colormap::RedBlue);
        difference_->setAutoColorRange();
        difference_->setTitle(tr("A − B"));
        nameClassBlocks(difference_, *a);
      });
}

void SimilarityPanel::followZoom(const bp::widgets::HeatmapView* source, const QRectF& cells) {
  if (!linkZoom_->isChecked()) return;
  for (bp::widgets::HeatmapView* view : {heatmaps_[Workspace::A], heatmaps_[Workspace::B], difference_})
    if (view != source && view->rows() == source->rows() && view->cols() == source->cols()) view->showCells(cells);
}

void SimilarityPanel::compareAWithB() {
  const auto a = workspace_.similarity(Workspace::A).matrix;
  const auto b = workspace_.similarity(Workspace::B).matrix;
  if (!a || !b) {
    bp::logWarning("Compute or open both matrices A and B first.");
    return;
  }
  jobs_.run<bp::ComparisonResult>(
      tr("Comparing A with B"),
      [a, b](const bp::Job& job) {
        bp::ComparisonConfig config;
        config.bootstrapSamples = 200;
        config.permutations = 200;
        return bp::compareWithStatistics(*a, *b, config, job);
      },
      [this](bp::ComparisonResult& result) {
        comparison_->setRowCount(static_cast<int>(result.rows.size()));
        // No permutation reached the observed value: p is only known to be at most 1/(permutations + 1).
        const double pFloor = 1.0 / (result.permutations + 1.0);
        for (int r = 0; r < static_cast<int>(result.rows.size()); ++r) {
          const auto& row = result.rows[static_cast<std::size_t>(r)];
          comparison_->setItem(r, 0, new QTableWidgetItem(comparisonMethodLabel(row.method)));
          comparison_->setItem(r, 1, new QTableWidgetItem(formatNumber(row.value)));
          comparison_->setItem(r, 2, new QTableWidgetItem(QStringLiteral("%1–%2").arg(formatNumber(row.ciLow, 2), formatNumber(row.ciHigh, 2))));
          auto* p = new QTableWidgetItem(formatNumber(row.pValue, 4));
          if (result.permutations > 0 && row.pValue <= pFloor * (1.0 + 1e-9)) {
            p->setText(QStringLiteral("≤ 1/%1").arg(result.permutations + 1));
            p->setToolTip(tr("None of the %1 permutations reached the observed value: p is at most 1/%2, the "
                             "smallest p this many permutations can show")
                              .arg(result.permutations)
                              .arg(result.permutations + 1));
          }
          comparison_->setItem(r, 3, p);
        }
        comparison_->setToolTip(tr("%1 images, %2 pairs; %3 bootstrap samples, %4 permutations")
                                    .arg(result.images).arg(result.pairs).arg(result.bootstrapSamples).arg(result.permutations));
        Q_EMIT comparisonFinished();
      });
}

void SimilarityPanel::computeNoiseCeiling() {
  if (!dataset_) {
    bp::logWarning("Load a neural dataset before computing its noise ceiling.");
    return;
  }
  const auto dataset = dataset_;
  const auto selection = selectionFromForm();
  const auto similarity = configFromForm();
  struct Ceiling {
    bp::SplitHalfResult splitHalf;
    bp::SingleTrialResult otherRepeats;  // reference without the trial itself: no shared noise
    bp::SingleTrialResult allRepeats;    // the plain repeat average, as the paper reports it
  };
  jobs_.run<Ceiling>(
      tr("Computing the noise ceiling"),
      [dataset, selection, similarity](const bp::Job& job) {
        bp::SplitHalfConfig splitHalf;
        splitHalf.source = selection.source;
        splitHalf.tier = selection.tier;
        splitHalf.similarity = similarity;
        bp::SingleTrialConfig singleTrial;
        singleTrial.source = selection.source;
        singleTrial.tier = selection.tier;
        singleTrial.similarity = similarity;
        Ceiling ceiling;
        ceiling.splitHalf = bp::splitHalfReliability(*dataset, splitHalf, job.subJob(0.0, 0.6));
        ceiling.otherRepeats = bp::singleTrialAgreement(*dataset, singleTrial, job.subJob(0.6, 0.8));
        singleTrial.reference = bp::SingleTrialReference::AllRepeats;
        ceiling.allRepeats = bp::singleTrialAgreement(*dataset, singleTrial, job.subJob(0.8, 1.0));
        return ceiling;
      },
      [this](Ceiling& result) {
        ceiling_->setText(tr("<b>Noise ceiling</b> (split-half, Spearman–Brown): <b>%1</b> ± %2 over %3 splits, "
                             "%4 images.<br><b>Single trial vs repeat average</b>: <b>%5</b> against all repeats, "
                             "%6 against the other repeats (mean over %7 repeats).")
                              .arg(formatNumber(result.splitHalf.meanCorrected), formatNumber(result.splitHalf.stdCorrected))
                              .arg(result.splitHalf.splits)
                              .arg(result.splitHalf.images)
                              .arg(formatNumber(result.allRepeats.mean), formatNumber(result.otherRepeats.mean))
                              .arg(result.otherRepeats.repeats));
      });
}

void SimilarityPanel::computeMds() {
  const auto a = workspace_.similarity(Workspace::A).matrix;
  if (!a) {
    bp::logWarning("Compute or open matrix A first.");
    return;
  }
  jobs_.run<bp::Embedding2D>(
      tr("Embedding A with MDS"), [a](const bp::Job& job) { return bp::classicalMds(*a, job); },
      [this, a](bp::Embedding2D& embedding) {
        mds_->clear();
        // One series per label so the legend reads as classes; each image on its point where it fits.
        QMap<QString, QVector<std::size_t>> byLabel;
        for (std::size_t i = 0; i < embedding.x.size(); ++i)
          byLabel[a->labels.empty() ? tr("images") : QString::fromStdString(a->labels[i])].push_back(i);
        const bool withImages = static_cast<int>(embedding.x.size()) <= kMaxMdsThumbnails;
        for (auto it = byLabel.cbegin(); it != byLabel.cend(); ++it) {
          QVector<double> x;
          QVector<double> y;
          QVector<QImage> images;
          for (const std::size_t i : *it) {
            x.push_back(embedding.x[i]);
            y.push_back(embedding.y[i]);
            if (withImages) images.push_back(thumbnails_.value(a->imageIds[i]));
          }
          const int series = mds_->addScatter(it.key(), x, y, {}, 7);
          mds_->setPointImages(series, images);
        }
        mds_->setLegendVisible(byLabel.size() <= 12);
        mds_->rescale();
        // Beyond 100% the dissimilarities are not Euclidean (B has negative eigenvalues): a share of
        // variance then means nothing, and the plane is only an approximation.
        const double share = embedding.explainedVariance;
        const QString title = !std::isfinite(share) ? tr("MDS embedding of A")
                              : share <= 1.0 + 1e-6
                                  ? tr("MDS embedding of A (%1% of variance in 2-D)").arg(formatNumber(100.0 * share, 1))
                                  : tr("MDS embedding of A (dissimilarities not Euclidean: distances approximate)");
        mds_->setLabels(title, tr("dimension 1"), tr("dimension 2"));
        views_->setCurrentIndex(2);
      });
}

void SimilarityPanel::saveMatrix(Slot slot) {
  const auto matrix = workspace_.similarity(slot).matrix;
  if (!matrix) {
    bp::logWarning("There is no matrix " + slotName(slot).toStdString() + " to save.");
    return;
  }
  const QString brainPrior = tr("BrainPrior matrix, HDF5 (*.h5)");
  const QString rsatoolbox = tr("rsatoolbox RDM, HDF5 (*.hdf5)");
  QString chosenFilter = brainPrior;
  const auto path = QFileDialog::getSaveFileName(this, tr("Save similarity matrix %1").arg(slotName(slot)),
                                                 QStringLiteral("similarity-%1.h5").arg(slotName(slot).toLower()),
                                                 QStringList{brainPrior, rsatoolbox, tr("CSV (*.csv)")}.join(";;"),
                                                 &chosenFilter);
  if (path.isEmpty()) return;
  saveMatrixTo(slot, path,
               path.endsWith(QStringLiteral(".csv"), Qt::CaseInsensitive) ? MatrixFileKind::Csv
               : chosenFilter == rsatoolbox                                ? MatrixFileKind::Rsatoolbox
                                                                           : MatrixFileKind::BrainPrior);
}

void SimilarityPanel::saveMatrixTo(Slot slot, const QString& path, MatrixFileKind kind) {
  const auto matrix = workspace_.similarity(slot).matrix;
  if (!matrix) {
    bp::logWarning("There is no matrix " + slotName(slot).toStdString() + " to save.");
    return;
  }
  jobs_.run<bool>(
      tr("Saving %1").arg(QFileInfo(path).fileName()),
      [matrix, path, kind](const bp::Job& job) {
        switch (kind) {
          case MatrixFileKind::Csv: bp::exportSimilarityCsv(*matrix, path.toStdString()); break;
          case MatrixFileKind::Rsatoolbox: bp::writeRsatoolboxFile(*matrix, path.toStdString(), job); break;
          case MatrixFileKind::BrainPrior: bp::writeSimilarityMatrix(*matrix, path.toStdString(), job); break;
        }
        return true;
      },
      [this, slot, matrix, path, kind](bool&) {
        bp::logInfo("Saved " + path.toStdString());
        // Saved as a BrainPrior matrix file, the matrix now lives there: a project refers to it.
        if (kind == MatrixFileKind::BrainPrior && workspace_.similarity(slot).matrix == matrix)
          workspace_.setSimilarityFile(slot, path);
      });
}

void SimilarityPanel::exportFigure() {
  const auto path = QFileDialog::getSaveFileName(this, tr("Export figure"), QStringLiteral("similarity.pdf"),
                                                 tr("PDF (*.pdf);;SVG (*.svg);;PNG (*.png)"));
  if (path.isEmpty()) return;
  QCustomPlot* plot = nullptr;
  switch (views_->currentIndex()) {
    case 0: plot = heatmaps_[workspace_.similarity(Workspace::A).matrix || !workspace_.similarity(Workspace::B).matrix ? Workspace::A : Workspace::B]->plot(); break;
    case 1: plot = difference_->plot(); break;
    default: plot = mds_->plot(); break;
  }
  QString error;
  if (bp::widgets::exportPlot(plot, path, &error)) {
    bp::logInfo("Exported figure " + path.toStdString());
  } else {
    bp::log(bp::LogLevel::Error, "Could not export " + path.toStdString() + ": " + error.toStdString());
  }
}

void SimilarityPanel::showDrawnColormap() {
  // The box names what A and B are drawn in: presentation mode draws magma whatever was chosen,
  // and the box says so rather than naming the choice it keeps underneath.
  const bp::widgets::HeatmapView* view = heatmaps_[Workspace::A];
  const bool overridden = view->shownColormap() != view->colormap();
  colormap_->setEnabled(!overridden);
  colormap_->setToolTip(overridden ? tr("Presentation mode draws sequential matrices in magma, for a projector; "
                                        "leaving it draws %1 again")
                                         .arg(colormap_->currentText())
                                   : QString());
  colormap_->setItemText(colormap_->findData(static_cast<int>(bp::widgets::Colormap::Magma)),
                         overridden ? tr("Magma (presentation mode)") : QStringLiteral("Magma"));
  if (overridden) {
    overriddenChoice_ = colormap_->currentIndex();
    const QSignalBlocker blocker(colormap_);
    colormap_->setCurrentIndex(colormap_->findData(static_cast<int>(view->shownColormap())));
  } else if (overriddenChoice_ >= 0) {
    const QSignalBlocker blocker(colormap_);
    colormap_->setCurrentIndex(overriddenChoice_);
    overriddenChoice_ = -1;
  }
}

void SimilarityPanel::applyColormap() {
  const auto colormap = static_cast<bp::widgets::Colormap>(colormap_->currentData().toInt());
  for (auto* view : heatmaps_) {
    view->setColormap(colormap);
    view->setAutoColorRange();
  }
}

}  // namespace bp::app
