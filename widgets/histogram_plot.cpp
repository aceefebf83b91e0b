#include "widgets/histogram_plot.h"

#include "widgets/custom_plot.h"

#include <QVBoxLayout>
#include <algorithm>
#include <cmath>
#include <limits>

#include "widgets/palette.h"
#include "widgets/plot_style.h"

namespace bp::widgets {
namespace {

double medianOf(QVector<double> values) {
  if (values.isEmpty()) return std::numeric_limits<double>::quiet_NaN();
  const auto middle = values.begin() + values.size() / 2;
  std::nth_element(values.begin(), middle, values.end());
  if (values.size() % 2 == 1) return *middle;
  const double upper = *middle;
  const double lower = *std::max_element(values.begin(), middle);
  return 0.5 * (lower + upper);
}

QString formatNumber(double value) {
  return QLocale().toString(value, 'g', 4);
}

}  // namespace

HistogramPlot::HistogramPlot(QWidget* parent)
    : QWidget(parent), plot_(new QCustomPlot(this)), median_(std::numeric_limits<double>::quiet_NaN()) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(plot_);
  applyPlotStyle(plot_);
  plot_->xAxis->grid()->setVisible(false);

  bars_ = new QCPBars(plot_->xAxis, plot_->yAxis);
  bars_->setWidthType(QCPBars::wtPlotCoords);
  bars_->setAntialiased(false);
  setColor(palette::seriesColor(0));

  summary_ = new QCPItemText(plot_);
  summary_->setClipToAxisRect(true);
  summary_->position->setType(QCPItemPosition::ptAxisRectRatio);
  summary_->position->setCoords(0.98, 0.03);
  summary_->setPositionAlignment(Qt::AlignRight | Qt::AlignTop);
  summary_->setTextAlignment(Qt::AlignRight);
  summary_->setColor(palette::text());
  summary_->setFont(plot_->font());
  summary_->setBrush(QColor(255, 255, 255, 210));
  summary_->setPadding(QMargins(6, 3, 6, 3));

  plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  plot_->axisRect()->setRangeDrag(Qt::Horizontal);
  plot_->axisRect()->setRangeZoom(Qt::Horizontal);
  setLabels(QString(), QString());
  setValues({});
}

void HistogramPlot::setValues(const QVector<double>& values, int bins) {
  bins = std::clamp(bins, 1, 10000);
  QVector<double> finite;
  finite.reserve(values.size());
  for (double value : values)
    if (std::isfinite(value)) finite.push_back(value);
  count_ = static_cast<int>(finite.size());
  ignored_ = static_cast<int>(values.size() - finite.size());
  median_ = medianOf(finite);
  binnedSummary_.clear();

  if (finite.isEmpty()) {
    showBins(0, 1, {});
  } else {
    const auto [minIt, maxIt] = std::minmax_element(finite.cbegin(), finite.cend());
    double low = *minIt;
    double high = *maxIt;
    if (high - low <= std::abs(high) * 1e-12) {  // all values (nearly) equal: one centred bin
      const double half = std::abs(high) > 0 ? std::abs(high) * 0.05 : 0.5;
      low -= half;
      high += half;
    }
    const double width = (high - low) / bins;
    QVector<double> counts(bins, 0.0);
    for (double value : finite) {
      const int bin = std::min(bins - 1, static_cast<int>((value - low) / width));
      counts[std::max(0, bin)] += 1.0;
    }
    showBins(low, high, counts);
  }
}

void HistogramPlot::setBinnedCounts(double low, double high, const QVector<double>& counts, const QString& summary) {
  double total = 0.0;
  for (const double count : counts) total += count;
  count_ = static_cast<int>(std::min<double>(total, std::numeric_limits<int>::max()));
  ignored_ = 0;
  median_ = std::numeric_limits<double>::quiet_NaN();
  binnedSummary_ = summary;
  showBins(low, high, counts);
}

void HistogramPlot::showBins(double low, double high, const QVector<double>& counts) {
  if (counts.isEmpty() || !(high > low)) {
    bars_->data()->clear();
    plot_->xAxis->setRange(0, 1);
    plot_->yAxis->setRange(0, 1);
  } else {
    const int bins = static_cast<int>(counts.size());
    const double width = (high - low) / bins;
    QVector<double> centres(bins);
    for (int i = 0; i < bins; ++i) centres[i] = low + (i + 0.5) * width;
    bars_->setWidth(width);
    bars_->setData(centres, counts, true);
    const double padding = 0.02 * (high - low);
    plot_->xAxis->setRange(low - padding, high + padding);
    // Headroom above the highest bar for the corner text, a fifth of it per line, so that it never
    // hides the bars.
    const double lines = static_cast<double>(summaryText().count(QLatin1Char('\n')) + 1);
    plot_->yAxis->setRange(0, std::max(1.0, *std::max_element(counts.cbegin(), counts.cend())) * (1.0 + 0.2 * lines));
  }
  summary_->setText(summaryText());
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

void HistogramPlot::setLabels(const QString& title, const QString& xLabel, const QString& yLabel) {
  setPlotTitle(plot_, title);
  plot_->xAxis->setLabel(xLabel);
  plot_->yAxis->setLabel(yLabel);
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

void HistogramPlot::setColor(const QColor& color) {
  QColor fill = color;
  fill.setAlpha(200);
  bars_->setBrush(fill);
  bars_->setPen(QPen(palette::background(), 1));
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

QString HistogramPlot::summaryText() const {
  if (!binnedSummary_.isEmpty()) return binnedSummary_;
  QString text = QStringLiteral("n = %1").arg(QLocale().toString(count_));
  if (count_ > 0) text += QStringLiteral(", median = %1").arg(formatNumber(median_));
  if (ignored_ > 0) text += QStringLiteral("\n%1 non-finite ignored").arg(QLocale().toString(ignored_));
  return text;
}

}  // namespace bp::widgets
