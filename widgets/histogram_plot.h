#pragma once
// A histogram of a set of values (per-neuron reliabilities, correlations, losses) with a
// "n = …, median = …" summary in the corner. Non-finite values are left out and counted.
#include <QVector>
#include <QWidget>

class QCustomPlot;
class QCPBars;
class QCPItemText;

namespace bp::widgets {

class HistogramPlot : public QWidget {
  Q_OBJECT

public:
  explicit HistogramPlot(QWidget* parent = nullptr);

  // Bins the finite values into `bins` equal-width bins spanning their range (NaN/inf ignored).
  void setValues(const QVector<double>& values, int bins = 30);
  // Counts already binned where the values are (millions of matrix pairs): counts.size() equal bins
  // over [low, high]. `summary` replaces the "n = …, median = …" corner text.
  void setBinnedCounts(double low, double high, const QVector<double>& counts, const QString& summary);
  void setLabels(const QString& title, const QString& xLabel, const QString& yLabel = QStringLiteral("count"));
  void setColor(const QColor& color);

  int valueCount() const { return count_; }         // finite values shown
  int ignoredCount() const { return ignored_; }     // NaN/inf values left out
  double median() const { return median_; }         // NaN when there are no finite values (or binned counts)
  QString summaryText() const;

  QCustomPlot* plot() const { return plot_; }

private:
  QCustomPlot* plot_;
  QCPBars* bars_;
  QCPItemText* summary_;
  void showBins(double low, double high, const QVector<double>& counts);

  QString binnedSummary_;  // set by setBinnedCounts, empty after setValues
  int count_ = 0;
  int ignored_ = 0;
  double median_;
};

}  // namespace bp::widgets
