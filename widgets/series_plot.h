#pragma once
// Lines and scatters on shared axes: learning curves, noise and attack sweeps, predicted versus
// measured responses, MDS embeddings. Mouse wheel zooms, drag pans, double-click rescales.
#include <QColor>
#include <QVector>
#include <QWidget>

class QCustomPlot;
class QCPAbstractPlottable;

namespace bp::widgets {

class SeriesPlot : public QWidget {
  Q_OBJECT

public:
  explicit SeriesPlot(QWidget* parent = nullptr);

  void clear();
  // Each add returns the series index (0, 1, ...). An invalid colour takes the next palette colour.
  // Lines whose x is not ascending keep their point order (drawn as a parametric curve).
  int addLine(const QString& name, const QVector<double>& x, const QVector<double>& y, QColor color = {});
  int addScatter(const QString& name, const QVector<double>& x, const QVector<double>& y, QColor color = {},
                 double size = 5);
  // Vertical error bars of +/- errors[i] on series `series`'s points (a line with ascending x or a
  // scatter); NaN errors draw no bar. Ignored for a parametric curve or an unknown series.
  void addErrorBars(int series, const QVector<double>& errors);
  int seriesCount() const { return static_cast<int>(series_.size()); }

  void setLabels(const QString& title, const QString& xLabel, const QString& yLabel);
  void setLegendVisible(bool visible);
  // Fits the axes to all series with a small margin.
  void rescale();

  QCustomPlot* plot() const { return plot_; }

Q_SIGNALS:
  // A click on a point of series `series` (its index as addLine/addScatter returned it) at data
  // coordinates (x, y).
  void pointClicked(int series, double x, double y);

private:
  int addSeries(QCPAbstractPlottable* plottable, const QString& name);

  QCustomPlot* plot_;
  QVector<QCPAbstractPlottable*> series_;
};

}  // namespace bp::widgets
