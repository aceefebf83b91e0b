#include "widgets/bar_plot.h"

#include "widgets/custom_plot.h"

#include <QFontMetrics>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

#include "widgets/palette.h"
#include "widgets/plot_style.h"

namespace bp::widgets {

BarPlot::BarPlot(QWidget* parent) : QWidget(parent), plot_(new QCustomPlot(this)) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(plot_);
  applyPlotStyle(plot_);
  plot_->legend->setVisible(false);
  plot_->xAxis->grid()->setVisible(false);
}

void BarPlot::setBars(const QStringList& categories, const QVector<double>& values, const QVector<QColor>& colors,
                      double low, double high) {
  plot_->clearPlottables();
  values_ = values;
  auto ticker = QSharedPointer<QCPAxisTickerText>::create();
  // One QCPBars per bar: QCustomPlot colours a whole QCPBars alike.
  for (int i = 0; i < values.size(); ++i) {
    auto* bars = new QCPBars(plot_->xAxis, plot_->yAxis);
    const QColor color = i < colors.size() && colors[i].isValid() ? colors[i] : palette::seriesColor(0);
    bars->setPen(QPen(color.darker(120)));
    bars->setBrush(color);
    bars->setWidth(0.75);
    bars->addData(i, values[i]);
    bars->removeFromLegend();
    ticker->addTick(i, i < categories.size() ? categories[i] : QString::number(i));
  }
  plot_->xAxis->setTicker(ticker);
  const bool slanted = categories.size() > 6;
  plot_->xAxis->setTickLabelRotation(slanted ? 45 : 0);
  // A slanted label runs right of its bar, and QCustomPlot drops a label that would leave the
  // widget: the last one (often the true class) vanished. Room on the right keeps every label.
  QCPAxisRect* rect = plot_->axisRect();
  if (slanted && !categories.isEmpty()) {
    const int labelWidth = QFontMetrics(plot_->xAxis->tickLabelFont()).horizontalAdvance(categories.back());
    rect->setAutoMargins(QCP::msLeft | QCP::msTop | QCP::msBottom);
    rect->setMargins(QMargins(0, 0, static_cast<int>(std::ceil(labelWidth * 0.71)) + 6, 0));
  } else {
    rect->setAutoMargins(QCP::msAll);
  }
  plot_->xAxis->setRange(-0.6, std::max<double>(values.size(), 1) - 0.4);
  if (high > low) {
    plot_->yAxis->setRange(low, high);
  } else if (!values.isEmpty()) {
    const auto [minimum, maximum] = std::minmax_element(values.cbegin(), values.cend());
    const double span = std::max(*maximum - std::min(*minimum, 0.0), 1e-12);
    plot_->yAxis->setRange(std::min(*minimum, 0.0), *maximum + 0.08 * span);
  }
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

void BarPlot::setLabels(const QString& title, const QString& valueLabel) {
  setPlotTitle(plot_, title);
  plot_->yAxis->setLabel(valueLabel);
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace bp::widgets
