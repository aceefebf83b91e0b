#include "widgets/series_plot.h"

#include "widgets/custom_plot.h"

#include <QVBoxLayout>
#include <algorithm>
#include <cmath>
#include <limits>

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

SeriesPlot::SeriesPlot(QWidget* parent) : QWidget(parent), plot_(new QCustomPlot(this)) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(plot_);
  applyPlotStyle(plot_);
  plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  plot_->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);
  plot_->legend->setVisible(true);
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

void SeriesPlot::rescale() {
  if (series_.isEmpty()) {
    plot_->xAxis->setRange(0, 1);
    plot_->yAxis->setRange(0, 1);
  } else {
    plot_->rescaleAxes(true);
    plot_->xAxis->setRange(padded(plot_->xAxis->range(), 0.05));
    plot_->yAxis->setRange(padded(plot_->yAxis->range(), 0.06));
  }
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace bp::widgets
