#include "widgets/series_plot.h"

#include "widgets/custom_plot.h"

#include <QVBoxLayout>
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <utility>

#include "widgets/palette.h"
#include "widgets/plot_style.h"

namespace bp::widgets {
namespace {

bool isAscending(const QVector<double>& x) { return std::is_sorted(x.cbegin(), x.cend()); }

// Widens a range by `fraction` on both sides; a degenerate range gets a sensible width.
QCPRange padded(const QCPRange& range, double fraction) {
  if (range.size() <= 0) {
    const double half = range.lower != 0 ? std::abs(range.lower) * 0.1 : 1.0;
    return {range.lower - half, range.upper + half};
  }
  const double pad = range.size() * fraction;
  return {range.lower - pad, range.upper + pad};
}

}  // namespace

SeriesPlot::SeriesPlot(QWidget* parent)
    : QWidget(parent), plot_(new QCustomPlot(this)), legendColumn_(new QCPLayoutGrid) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(plot_);
  applyPlotStyle(plot_);
  plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  // Outside the axes the legend needs no box of its own.
  QCPLegend* legend = plot_->legend;
  plot_->axisRect()->insetLayout()->take(legend);
  legend->setBorderPen(Qt::NoPen);
  legend->setBrush(Qt::NoBrush);
  legend->setVisible(true);
  legendColumn_->setParent(plot_);  // owned by the plot while no layout holds it
  legendColumn_->addElement(1, 0, new QCPLayoutElement(plot_));
  legendColumn_->setRowStretchFactors({0.001, 1.0});
  connect(plot_, &QCustomPlot::beforeReplot, this, &SeriesPlot::placeLegend);
  connect(plot_, &QCustomPlot::afterReplot, this, &SeriesPlot::layOutPointImages);
  connect(plot_, &QCustomPlot::mouseDoubleClick, this, [this](QMouseEvent*) { rescale(); });
  connect(plot_, &QCustomPlot::plottableClick, this, [this](QCPAbstractPlottable* plottable, int dataIndex, QMouseEvent*) {
    const auto series = static_cast<int>(series_.indexOf(plottable));
    const auto* graph = qobject_cast<QCPGraph*>(plottable);
    if (series < 0 || graph == nullptr || dataIndex < 0 || dataIndex >= graph->dataCount()) return;
    const auto point = graph->data()->at(dataIndex);
    Q_EMIT pointClicked(series, point->key, point->value);
  });
}

void SeriesPlot::clear() {
  for (const PointImage& pointImage : std::as_const(pointImages_)) {
    plot_->removeItem(pointImage.image);
    plot_->removeItem(pointImage.point);
  }
  pointImages_.clear();
  pointImagePixels_ = 0;
  plot_->clearPlottables();
  series_.clear();
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

int SeriesPlot::addLine(const QString& name, const QVector<double>& x, const QVector<double>& y, QColor color) {
  if (!color.isValid()) color = palette::seriesColor(seriesCount());
  const qsizetype n = std::min(x.size(), y.size());
  const QVector<double> keys = x.mid(0, n);
  const QVector<double> values = y.mid(0, n);
  const QPen pen(color, 2.0, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin);
  if (isAscending(keys)) {
    auto* graph = new QCPGraph(plot_->xAxis, plot_->yAxis);
    graph->setData(keys, values, true);
    graph->setPen(pen);
    // A line of one point draws nothing (a single epoch's curve): mark it.
    if (n == 1) graph->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, color, 7.0));
    return addSeries(graph, name);
  }
  auto* curve = new QCPCurve(plot_->xAxis, plot_->yAxis);
  curve->setData(keys, values);
  curve->setPen(pen);
  return addSeries(curve, name);
}

int SeriesPlot::addScatter(const QString& name, const QVector<double>& x, const QVector<double>& y, QColor color,
                           double size) {
  if (!color.isValid()) color = palette::seriesColor(seriesCount());
  const qsizetype n = std::min(x.size(), y.size());
  auto* graph = new QCPGraph(plot_->xAxis, plot_->yAxis);
  graph->setData(x.mid(0, n), y.mid(0, n));
  graph->setLineStyle(QCPGraph::lsNone);
  QColor edge = color.darker(125);
  edge.setAlpha(color.alpha());
  graph->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, QPen(edge, 0.8), QBrush(color), size));
  graph->setPen(QPen(color));
  return addSeries(graph, name);
}

int SeriesPlot::addSeries(QCPAbstractPlottable* plottable, const QString& name) {
  plottable->setName(name);
  if (name.isEmpty()) plottable->removeFromLegend();
  series_.push_back(plottable);
  plot_->replot(QCustomPlot::rpQueuedReplot);
  return seriesCount() - 1;
}

void SeriesPlot::addErrorBars(int series, const QVector<double>& errors) {
  if (series < 0 || series >= seriesCount()) return;
  auto* graph = qobject_cast<QCPGraph*>(series_[series]);
  if (graph == nullptr) return;
  auto* bars = new QCPErrorBars(plot_->xAxis, plot_->yAxis);
  bars->removeFromLegend();
  bars->setDataPlottable(graph);
  QVector<double> drawn = errors.mid(0, graph->dataCount());
  // QCustomPlot skips a NaN error; a zero-length bar would still draw its whiskers.
  for (double& error : drawn)
    if (!std::isfinite(error)) error = std::numeric_limits<double>::quiet_NaN();
  bars->setData(drawn);
  bars->setPen(QPen(graph->pen().color(), 1.2));
  bars->setWhiskerWidth(6);
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

void SeriesPlot::setPointImages(int series, const QVector<QImage>& images, int pixels) {
  if (series < 0 || series >= seriesCount()) return;
  auto* graph = qobject_cast<QCPGraph*>(series_[series]);
  if (graph == nullptr) return;
  const QColor frame = graph->pen().color().darker(115);
  const double half = pixels / 2.0;
  pointImagePixels_ = std::max(pointImagePixels_, pixels);
  for (int i = 0; i < std::min(static_cast<int>(images.size()), graph->dataCount()); ++i) {
    if (images[i].isNull()) continue;
    const auto data = graph->data()->at(i);
    auto* point = new QCPItemTracer(plot_);
    point->setVisible(false);
    point->setSelectable(false);
    point->position->setCoords(data->key, data->value);
    auto* image = new QCPItemPixmap(plot_);
    image->setSelectable(false);
    image->setPixmap(QPixmap::fromImage(images[i]));
    image->setScaled(true, Qt::KeepAspectRatio, Qt::SmoothTransformation);
    image->setPen(QPen(frame, 2.0));
    for (QCPItemPosition* corner : {image->topLeft, image->bottomRight}) {
      corner->setType(QCPItemPosition::ptAbsolute);
      corner->setParentAnchor(point->position);
    }
    image->topLeft->setCoords(-half, -half);
    image->bottomRight->setCoords(half, half);
    image->setVisible(false);
    pointImages_.push_back({point, image});
  }
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

QVector<QRect> SeriesPlot::shownPointImages() const {
  QVector<QRect> shown;
  for (const PointImage& pointImage : pointImages_)
    if (pointImage.image->visible())
      shown.push_back(QRectF(pointImage.image->topLeft->pixelPosition(), pointImage.image->bottomRight->pixelPosition())
                          .toAlignedRect());
  return shown;
}

void SeriesPlot::layOutPointImages() {
  if (pointImages_.isEmpty()) return;
  const QRect axes = plot_->axisRect()->rect();
  if (rescaledFor_) {
    const QSize assumed = *std::exchange(rescaledFor_, std::nullopt);
    if (assumed != axes.size()) {
      rescale();
      return;
    }
  }
  struct Candidate {
    int index;
    QRectF rect;
    double distance;
  };
  QVector<Candidate> candidates;
  QPointF centroid;
  for (int i = 0; i < pointImages_.size(); ++i) {
    const QCPItemPixmap* image = pointImages_[i].image;
    const QRectF rect(image->topLeft->pixelPosition(), image->bottomRight->pixelPosition());
    if (!QRectF(axes).contains(rect)) continue;
    candidates.push_back({i, rect, 0.0});
    centroid += rect.center();
  }
  // Outliers first: the edges of an embedding are where its structure shows.
  if (!candidates.isEmpty()) centroid /= static_cast<double>(candidates.size());
  for (Candidate& candidate : candidates) {
    const QPointF offset = candidate.rect.center() - centroid;
    candidate.distance = offset.x() * offset.x() + offset.y() * offset.y();
  }
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const Candidate& a, const Candidate& b) { return a.distance > b.distance; });
  QVector<bool> show(pointImages_.size(), false);
  QVector<QRectF> taken;
  for (const Candidate& candidate : std::as_const(candidates)) {
    const bool overlaps = std::any_of(taken.cbegin(), taken.cend(),
                                      [&](const QRectF& other) { return other.intersects(candidate.rect); });
    if (overlaps) continue;
    taken.push_back(candidate.rect);
    show[candidate.index] = true;
  }
  bool changed = false;
  for (int i = 0; i < pointImages_.size(); ++i) {
    if (pointImages_[i].image->visible() == show[i]) continue;
    pointImages_[i].image->setVisible(show[i]);
    changed = true;
  }
  if (changed) plot_->replot(QCustomPlot::rpQueuedReplot);
}

void SeriesPlot::setLabels(const QString& title, const QString& xLabel, const QString& yLabel) {
  setPlotTitle(plot_, title);
  plot_->xAxis->setLabel(xLabel);
  plot_->yAxis->setLabel(yLabel);
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

void SeriesPlot::setLegendVisible(bool visible) {
  plot_->legend->setVisible(visible);
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

void SeriesPlot::placeLegend() {
  QCPLegend* legend = plot_->legend;
  // A wrapped legend's grid has empty cells: itemCount() counts cells, not entries.
  QVector<int> widths;
  int entryHeight = 0;
  for (int i = 0; i < legend->itemCount(); ++i) {
    if (QCPAbstractLegendItem* entry = legend->item(i)) {
      const QSize size = entry->minimumOuterSizeHint();
      widths.push_back(size.width());
      entryHeight = std::max(entryHeight, size.height());
    }
  }
  const auto entries = static_cast<int>(widths.size());
  if (!legend->visible() || entries == 0) {
    moveLegend(LegendPlace::None, 0);
    return;
  }
  const QMargins margins = legend->margins();
  // Each column of the legend's grid is as wide as its widest entry.
  const auto legendWidth = [&](int wrap, bool rowsFirst) {
    const int columns = rowsFirst ? (entries + wrap - 1) / wrap : std::min(wrap, entries);
    QVector<int> columnWidths(columns, 0);
    for (int i = 0; i < entries; ++i) {
      int& width = columnWidths[rowsFirst ? i / wrap : i % wrap];
      width = std::max(width, widths[i]);
    }
    return std::accumulate(columnWidths.cbegin(), columnWidths.cend(), 0) + (columns - 1) * legend->columnSpacing() +
           margins.left() + margins.right();
  };
  const QRect viewport = plot_->viewport();
  // The height the axes and a legend above them share (the axes' own while the legend is beside).
  const QRect axes = plot_->axisRect()->outerRect();
  const int aboveNow = legendPlace_ == LegendPlace::Above ? legend->outerRect().height() : 0;
  const int sharedHeight = axes.height() > 0 ? axes.height() + aboveNow : viewport.height() * 4 / 5;
  // Beside: as many rows as the axes' height holds, then further columns.
  const int rows = std::max(1, (sharedHeight - margins.top() - margins.bottom()) / std::max(1, entryHeight + legend->rowSpacing()));
  const int besideWidth = legendWidth(rows, true);
  // Above: as many entries to a row as fit the width.
  int perRow = entries;
  while (perRow > 1 && legendWidth(perRow, false) > viewport.width()) --perRow;
  const int aboveRows = (entries + perRow - 1) / perRow;
  const int aboveHeight = aboveRows * (entryHeight + legend->rowSpacing()) + margins.top() + margins.bottom();
  // Beside while the data keeps 70% of the width; otherwise wherever the legend takes the smaller
  // share of the room (a short plot keeps its height, a narrow one its width).
  const double besideShare = double(besideWidth) / std::max(1, viewport.width());
  const double aboveShare = double(aboveHeight) / std::max(1, sharedHeight);
  if (besideShare <= 0.3 || besideShare <= aboveShare)
    moveLegend(LegendPlace::Beside, rows);
  else
    moveLegend(LegendPlace::Above, perRow);
}

void SeriesPlot::moveLegend(LegendPlace place, int wrap) {
  if (place == legendPlace_ && wrap == legendWrap_) return;
  QCPLegend* legend = plot_->legend;
  QCPLayoutGrid* layout = plot_->plotLayout();
  if (legend->layout() != nullptr) legend->layout()->take(legend);
  if (legendColumn_->layout() != nullptr) legendColumn_->layout()->take(legendColumn_);
  layout->simplify();
  legendPlace_ = place;
  legendWrap_ = wrap;
  if (place == LegendPlace::None) {
    // Kept by the column, which the plot owns; hidden or empty, it draws nothing.
    legendColumn_->addElement(0, 0, legend);
    return;
  }
  int axesRow = 0;
  while (axesRow < layout->rowCount() && layout->element(axesRow, 0) != plot_->axisRect()) ++axesRow;
  legend->setWrap(wrap);
  if (place == LegendPlace::Beside) {
    legend->setFillOrder(QCPLayoutGrid::foRowsFirst, true);
    legendColumn_->addElement(0, 0, legend);
    layout->addElement(axesRow, 1, legendColumn_);
    layout->setColumnStretchFactor(1, 0.001);
  } else {
    legend->setFillOrder(QCPLayoutGrid::foColumnsFirst, true);
    layout->insertRow(axesRow);
    layout->addElement(axesRow, 0, legend);
    layout->setRowStretchFactor(axesRow, 0.001);
  }
}

void SeriesPlot::rescale() {
  if (series_.isEmpty()) {
    plot_->xAxis->setRange(0, 1);
    plot_->yAxis->setRange(0, 1);
  } else {
    plot_->rescaleAxes(true);
    // Room for half a point image (and its frame) beyond the outermost points.
    const QRect axes = plot_->axisRect()->rect();
    const auto margin = [this](int pixels, double fraction) {
      const double needed = pointImagePixels_ / 2.0 + 4.0;  // padding f shows f / (1 + 2f) of the axis
      return pointImagePixels_ > 0 && pixels > 3 * needed ? std::max(fraction, needed / (pixels - 2.0 * needed)) : fraction;
    };
    plot_->xAxis->setRange(padded(plot_->xAxis->range(), margin(axes.width(), 0.05)));
    plot_->yAxis->setRange(padded(plot_->yAxis->range(), margin(axes.height(), 0.06)));
    if (pointImagePixels_ > 0) rescaledFor_ = axes.size();
  }
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace bp::widgets
