#include "widgets/heatmap_view.h"

#include "widgets/custom_plot.h"

#include <QVBoxLayout>
#include <algorithm>
#include <cmath>
#include <limits>

#include "widgets/plot_style.h"

namespace bp::widgets {
namespace {

constexpr const char* kHoverLayer = "hover";

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kMinVisibleCells = 2.0;

// Ticks on whole cell indices only. Rows are plotted at y = -row (so that row 0 is on top without
// a reversed axis, which would make QCustomPlot mirror the colour-map image on every repaint);
// the row axis therefore shows negated tick values.
class CellIndexTicker : public QCPAxisTicker {
public:
  explicit CellIndexTicker(bool negated) : negated_(negated) {}

protected:
  double getTickStep(const QCPRange& range) override {
    return std::max(1.0, std::ceil(QCPAxisTicker::getTickStep(range) - 1e-9));
  }
  QString getTickLabel(double tick, const QLocale&, QChar, int) override {
    return QString::number(std::llround(negated_ ? -tick : tick));
  }

private:
  bool negated_;
};

// The window to load around the visible cells: twice their extent, so that panning and zooming
// stay inside it for a while, but no more than kMaxDetailCellsPerSide per side.
constexpr int kMaxDetailCellsPerSide = HeatmapView::kMaxDisplayCellsPerSide * 5 / 4;

QRect grownForPanning(const QRect& visible) {
  const auto grownExtent = [](int extent) { return std::max(extent, std::min(2 * extent, kMaxDetailCellsPerSide)); };
  QRect window(0, 0, grownExtent(visible.width()), grownExtent(visible.height()));
  window.moveCenter(visible.center());
  return window;
}

// Keeps an axis range inside [lowest, highest] and at least `minSize` wide.
QCPRange limitedRange(const QCPRange& range, double lowest, double highest, double minSize) {
  const double full = highest - lowest;
  const double size = std::clamp(range.size(), std::min(minSize, full), full);
  const double lower = std::clamp(range.center() - size / 2, lowest, highest - size);
  return {lower, lower + size};
}

}  // namespace

HeatmapView::HeatmapView(QWidget* parent) : QWidget(parent), plot_(new QCustomPlot(this)) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(plot_);
  applyPlotStyle(plot_);
  plot_->setMouseTracking(true);
  plot_->installEventFilter(this);
  plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  plot_->axisRect()->setRangeZoomFactor(0.8);

  // Cell-index ticks come with clear(), at the end.
  for (QCPAxis* axis : {plot_->xAxis, plot_->yAxis}) axis->grid()->setVisible(false);

  // The hover frame on a buffered layer of its own: moving it redraws that layer, not the matrix.
  plot_->addLayer(QString::fromLatin1(kHoverLayer), plot_->layer(QStringLiteral("main")), QCustomPlot::limAbove);
  plot_->layer(QString::fromLatin1(kHoverLayer))->setMode(QCPLayer::lmBuffered);
  const std::array<QPen, 2> framePens{QPen(QColor(0, 0, 0), 3.0), QPen(QColor(255, 255, 255), 1.2)};
  for (std::size_t i = 0; i < hoverFrame_.size(); ++i) {
    hoverFrame_[i] = new QCPItemRect(plot_);
    hoverFrame_[i]->setLayer(QString::fromLatin1(kHoverLayer));
    hoverFrame_[i]->setPen(framePens[i]);
    hoverFrame_[i]->setSelectable(false);
    hoverFrame_[i]->setVisible(false);
  }

  colorScale_ = new QCPColorScale(plot_);
  plot_->plotLayout()->addElement(0, 1, colorScale_);
  colorScale_->setType(QCPAxis::atRight);
  colorScale_->setBarWidth(14);
  colorScale_->setRangeDrag(false);  // the colour range changes only through the API
  colorScale_->setRangeZoom(false);
  applyAxisStyle(colorScale_->axis());
  auto* margins = new QCPMarginGroup(plot_);
  plot_->axisRect()->setMarginGroup(QCP::msTop | QCP::msBottom, margins);
  colorScale_->setMarginGroup(QCP::msTop | QCP::msBottom, margins);

  overviewMap_ = new QCPColorMap(plot_->xAxis, plot_->yAxis);
  detailMap_ = new QCPColorMap(plot_->xAxis, plot_->yAxis);
  for (QCPColorMap* map : {overviewMap_, detailMap_}) {
    map->setInterpolate(false);
    map->setTightBoundary(false);
    map->setAntialiased(false);
    map->setColorScale(colorScale_);
  }
  detailMap_->setVisible(false);
  setColormap(Colormap::Viridis);

  connect(plot_->xAxis, qOverload<const QCPRange&>(&QCPAxis::rangeChanged), this,
          &HeatmapView::onAxisRangeChanged);
  connect(plot_->yAxis, qOverload<const QCPRange&>(&QCPAxis::rangeChanged), this,
          &HeatmapView::onAxisRangeChanged);
  connect(plot_, &QCustomPlot::mouseMove, this, [this](QMouseEvent* event) {
    const QPointF local = event->position();
    updateHover(plot_->mapTo(this, QPoint(qFloor(local.x()), qFloor(local.y()))));
  });
  connect(plot_, &QCustomPlot::mouseDoubleClick, this, [this](QMouseEvent*) { resetZoom(); });
  clear();
}

void HeatmapView::setMatrix(const QVector<float>& values, int rows, int cols) {
  if (rows <= 0 || cols <= 0 || values.size() != static_cast<qsizetype>(rows) * cols) {
    if (rows != 0 || cols != 0 || !values.isEmpty())
      qWarning("HeatmapView::setMatrix: %lld values do not make a %d x %d matrix",
               static_cast<long long>(values.size()), rows, cols);
    clear();
    return;
  }
  values_ = values;
  rows_ = rows;
  cols_ = cols;

  finiteMin_ = std::numeric_limits<double>::infinity();
  finiteMax_ = -std::numeric_limits<double>::infinity();
  for (float value : std::as_const(values_)) {  // const: never detach from the caller's data
    if (!std::isfinite(value)) continue;
    finiteMin_ = std::min(finiteMin_, double(value));
    finiteMax_ = std::max(finiteMax_, double(value));
  }
  if (finiteMin_ > finiteMax_) finiteMin_ = finiteMax_ = 0.0;

  overview_ = downsampleBlockMean(values_.constData(), rows_, cols_, kMaxDisplayCellsPerSide);
  loadTile(overviewMap_, overview_);
  detailWindow_ = QRect();
  detailMap_->data()->clear();
  showOverview();
  if (autoColorRange_) setAutoColorRange();
  hoveredCell_ = {-1, -1};
  setGroups({});
  resetZoom();
}

void HeatmapView::clear() {
  values_.clear();
  rows_ = cols_ = 0;
  overview_ = MatrixTile();
  detailWindow_ = QRect();
  overviewMap_->data()->clear();
  detailMap_->data()->clear();
  clearHover();
  setGroups({});
  limitingRanges_ = true;
  plot_->xAxis->setRange(-0.5, 0.5);
  plot_->yAxis->setRange(-0.5, 0.5);
  limitingRanges_ = false;
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

double HeatmapView::valueAt(int row, int col) const {
  if (row < 0 || col < 0 || row >= rows_ || col >= cols_) return kNaN;
  return values_[static_cast<qsizetype>(row) * cols_ + col];
}

void HeatmapView::setColorRange(double low, double high) {
  autoColorRange_ = false;
  applyColorRange(low, high);
}

void HeatmapView::setAutoColorRange() {
  autoColorRange_ = true;
  if (isDiverging(colormap_)) {
    const double extent = std::max(std::abs(finiteMin_), std::abs(finiteMax_));
    applyColorRange(-extent, extent);
  } else {
    applyColorRange(finiteMin_, finiteMax_);
  }
}

std::pair<double, double> HeatmapView::colorRange() const {
  const QCPRange range = colorScale_->dataRange();
  return {range.lower, range.upper};
}

void HeatmapView::applyColorRange(double low, double high) {
  if (!std::isfinite(low) || !std::isfinite(high)) return;
  if (high < low) std::swap(low, high);
  if (high - low < 1e-12 * std::max(1.0, std::abs(high))) {  // a constant matrix still gets a scale
    const double half = std::max(std::abs(high) * 0.05, 0.5);
    low -= half;
    high += half;
  }
  colorScale_->setDataRange(QCPRange(low, high));
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

void HeatmapView::setColormap(Colormap colormap) {
  const Colormap shownBefore = shownColormap();
  colormap_ = colormap;
  redrawColormap(shownBefore);
}

void HeatmapView::redrawColormap(Colormap shownBefore) {
  colorScale_->setGradient(colorGradient(shownColormap()));
  if (autoColorRange_) setAutoColorRange();
  plot_->replot(QCustomPlot::rpQueuedReplot);
  if (shownColormap() != shownBefore) Q_EMIT shownColormapChanged();
}

void HeatmapView::setHighContrast(bool highContrast) {
  const Colormap shownBefore = shownColormap();
  highContrast_ = highContrast;
  redrawColormap(shownBefore);
}

Colormap HeatmapView::shownColormap() const {
  return highContrast_ && !isDiverging(colormap_) ? Colormap::Magma : colormap_;
}

void HeatmapView::setTitle(const QString& title) {
  setPlotTitle(plot_, title);
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

void HeatmapView::setAxisTitles(const QString& columnTitle, const QString& rowTitle, const QString& colorTitle) {
  plot_->xAxis->setLabel(columnTitle);
  plot_->yAxis->setLabel(rowTitle);
  colorScale_->axis()->setLabel(colorTitle);
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

std::optional<std::pair<int, int>> HeatmapView::cellAt(const QPoint& widgetPos) const {
  if (rows_ == 0 || cols_ == 0) return std::nullopt;
  const QPoint pos = plot_->mapFrom(this, widgetPos);
  if (!plot_->axisRect()->rect().contains(pos)) return std::nullopt;
  // Sample at the pixel's centre with the axes' own mapping: the colour map image is drawn with the
  // same mapping, so this is the cell whose colour the pixel shows.
  const double x = plot_->xAxis->pixelToCoord(pos.x() + 0.5);
  const double y = plot_->yAxis->pixelToCoord(pos.y() + 0.5);
  const int col = static_cast<int>(std::floor(x + 0.5));
  const int row = static_cast<int>(std::floor(-y + 0.5));
  if (row < 0 || col < 0 || row >= rows_ || col >= cols_) return std::nullopt;
  return std::make_pair(row, col);
}

void HeatmapView::resetZoom() {
  if (rows_ == 0) return;
  limitingRanges_ = true;
  plot_->xAxis->setRange(-0.5, cols_ - 0.5);
  plot_->yAxis->setRange(-(rows_ - 0.5), 0.5);
  limitingRanges_ = false;
  onAxisRangeChanged();
}

QRectF HeatmapView::visibleCells() const {
  const QCPRange x = plot_->xAxis->range();
  const QCPRange y = plot_->yAxis->range();
  return {x.lower, -y.upper, x.size(), y.size()};
}

void HeatmapView::showCells(const QRectF& cells) {
  if (rows_ == 0 || !cells.isValid()) return;
  followingLink_ = true;
  limitingRanges_ = true;
  plot_->xAxis->setRange(cells.left(), cells.right());
  plot_->yAxis->setRange(-cells.bottom(), -cells.top());
  limitingRanges_ = false;
  onAxisRangeChanged();
  followingLink_ = false;
}

void HeatmapView::setGroups(const QVector<Group>& groups) {
  groups_ = groups;
  for (QCPItemLine* line : std::as_const(groupBoundaries_)) plot_->removeItem(line);
  groupBoundaries_.clear();
  if (groups_.isEmpty()) {
    for (QCPAxis* axis : {plot_->xAxis, plot_->yAxis}) {
      axis->setTicker(QSharedPointer<QCPAxisTicker>(new CellIndexTicker(axis == plot_->yAxis)));
      axis->setTickLabelRotation(0);
    }
    plot_->replot(QCustomPlot::rpQueuedReplot);
    return;
  }
  auto columnTicks = QSharedPointer<QCPAxisTickerText>::create();
  auto rowTicks = QSharedPointer<QCPAxisTickerText>::create();
  for (const Group& group : groups_) {
    const double middle = group.first + (group.count - 1) / 2.0;
    columnTicks->addTick(middle, group.name);
    rowTicks->addTick(-middle, group.name);
    if (group.first == 0) continue;
    // A light, slightly transparent line across the matrix in each direction.
    const double edge = group.first - 0.5;
    for (const auto& [start, end] : {std::pair{QPointF(edge, 0.5), QPointF(edge, -(rows_ - 0.5))},
                                     std::pair{QPointF(-0.5, -edge), QPointF(cols_ - 0.5, -edge)}}) {
      auto* line = new QCPItemLine(plot_);
      line->setPen(QPen(QColor(255, 255, 255, 200), 1.0));
      line->setSelectable(false);
      line->start->setCoords(start);
      line->end->setCoords(end);
      groupBoundaries_.push_back(line);
    }
  }
  plot_->xAxis->setTicker(columnTicks);
  plot_->yAxis->setTicker(rowTicks);
  // Names side by side under the columns would overlap; slanted they do not.
  plot_->xAxis->setTickLabelRotation(-40);
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

bool HeatmapView::isShowingFullResolution() const {
  if (rows_ == 0) return false;
  return detailMap_->visible() || (overview_.rowFactor == 1 && overview_.colFactor == 1);
}

void HeatmapView::onAxisRangeChanged() {
  if (limitingRanges_ || rows_ == 0) return;
  limitingRanges_ = true;
  plot_->xAxis->setRange(limitedRange(plot_->xAxis->range(), -0.5, cols_ - 0.5, kMinVisibleCells));
  plot_->yAxis->setRange(limitedRange(plot_->yAxis->range(), -(rows_ - 0.5), 0.5, kMinVisibleCells));
  limitingRanges_ = false;
  updateDetailForVisibleRange();
  plot_->replot(QCustomPlot::rpQueuedReplot);
  if (!followingLink_) Q_EMIT visibleCellsChanged(visibleCells());
}

// Chooses the level of detail: the overview while much of the matrix is visible, an exact window
// once the visible region is small. A window is reused while the view stays inside it.
void HeatmapView::updateDetailForVisibleRange() {
  const bool overviewIsExact = overview_.rowFactor == 1 && overview_.colFactor == 1;
  const QRect visible = visibleCellWindow();
  const bool visibleRegionIsSmall =
      visible.width() <= kMaxDisplayCellsPerSide && visible.height() <= kMaxDisplayCellsPerSide;
  if (overviewIsExact || !visibleRegionIsSmall) {
    showOverview();
    return;
  }
  if (!detailWindow_.contains(visible)) showFullResolution(grownForPanning(visible));
  detailMap_->setVisible(true);
  overviewMap_->setVisible(false);
}

QRect HeatmapView::visibleCellWindow() const {
  const QCPRange x = plot_->xAxis->range();
  const QCPRange y = plot_->yAxis->range();
  const int firstCol = std::clamp(static_cast<int>(std::floor(x.lower + 0.5)), 0, cols_ - 1);
  const int lastCol = std::clamp(static_cast<int>(std::ceil(x.upper - 0.5)), 0, cols_ - 1);
  const int firstRow = std::clamp(static_cast<int>(std::floor(-y.upper + 0.5)), 0, rows_ - 1);
  const int lastRow = std::clamp(static_cast<int>(std::ceil(-y.lower - 0.5)), 0, rows_ - 1);
  return QRect(QPoint(firstCol, firstRow), QPoint(lastCol, lastRow));
}

void HeatmapView::showOverview() {
  overviewMap_->setVisible(true);
  detailMap_->setVisible(false);
}

void HeatmapView::showFullResolution(const QRect& window) {
  const MatrixTile tile = blockMeanTile(values_.constData(), rows_, cols_, window,
                                        std::max(window.width(), window.height()));
  loadTile(detailMap_, tile);
  detailWindow_ = tile.sourceWindow(rows_, cols_);
}

// Puts a tile into a colour map. Cell centres sit at x = column and y = -row of the source matrix;
// QCPColorMapData's value index grows upwards, so tile row r goes to value index rows - 1 - r.
// A side of one cell is stored twice, because QCPColorMap derives the cell size from the spacing.
void HeatmapView::loadTile(QCPColorMap* map, const MatrixTile& tile) const {
  if (tile.isEmpty()) {
    map->data()->clear();
    return;
  }
  const auto centreCol = [&](int c) { return tile.firstCol + c * tile.colFactor + (tile.colFactor - 1) / 2.0; };
  const auto centreRow = [&](int r) { return tile.firstRow + r * tile.rowFactor + (tile.rowFactor - 1) / 2.0; };
  const int keySize = std::max(2, tile.cols);
  const int valueSize = std::max(2, tile.rows);
  const QCPRange keyRange = tile.cols > 1 ? QCPRange(centreCol(0), centreCol(tile.cols - 1))
                                          : QCPRange(centreCol(0) - tile.colFactor / 4.0,
                                                     centreCol(0) + tile.colFactor / 4.0);
  const QCPRange valueRange = tile.rows > 1 ? QCPRange(-centreRow(tile.rows - 1), -centreRow(0))
                                            : QCPRange(-centreRow(0) - tile.rowFactor / 4.0,
                                                       -centreRow(0) + tile.rowFactor / 4.0);
  auto* data = new QCPColorMapData(keySize, valueSize, keyRange, valueRange);
  for (int v = 0; v < valueSize; ++v) {
    const int row = std::min(tile.rows - 1, valueSize - 1 - v);
    for (int k = 0; k < keySize; ++k) data->setCell(k, v, tile.at(row, std::min(tile.cols - 1, k)));
  }
  map->setData(data);  // takes ownership
}

void HeatmapView::updateHover(const QPoint& widgetPos) {
  const auto cell = cellAt(widgetPos);
  if (!cell) {
    clearHover();
    return;
  }
  if (*cell == hoveredCell_) return;
  hoveredCell_ = *cell;
  frameHoveredCell();
  Q_EMIT cellHovered(cell->first, cell->second, valueAt(cell->first, cell->second));
}

void HeatmapView::clearHover() {
  if (hoveredCell_.first < 0) return;
  hoveredCell_ = {-1, -1};
  frameHoveredCell();
  Q_EMIT cellHovered(-1, -1, kNaN);
}

void HeatmapView::frameHoveredCell() {
  const auto [row, col] = hoveredCell_;
  for (QCPItemRect* frame : hoverFrame_) {
    frame->setVisible(row >= 0);
    // Cell (row, col) spans col +- 0.5 across and -row +- 0.5 down (row 0 at the top).
    frame->topLeft->setCoords(col - 0.5, -row + 0.5);
    frame->bottomRight->setCoords(col + 0.5, -row - 0.5);
  }
  plot_->layer(QString::fromLatin1(kHoverLayer))->replot();
}

std::optional<std::pair<int, int>> HeatmapView::framedCell() const {
  if (!hoverFrame_[0]->visible()) return std::nullopt;
  // Read back from where the frame is drawn.
  const QPointF centre = (hoverFrame_[0]->topLeft->coords() + hoverFrame_[0]->bottomRight->coords()) / 2.0;
  return std::make_pair(static_cast<int>(std::lround(-centre.y())), static_cast<int>(std::lround(centre.x())));
}

bool HeatmapView::eventFilter(QObject* watched, QEvent* event) {
  if (watched == plot_ && event->type() == QEvent::Leave) clearHover();
  return QWidget::eventFilter(watched, event);
}

}  // namespace bp::widgets
