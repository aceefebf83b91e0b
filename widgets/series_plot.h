#pragma once
// Lines and scatters on shared axes: learning curves, noise and attack sweeps, predicted versus
// measured responses, MDS embeddings. Mouse wheel zooms, drag pans, double-click rescales.
// The legend sits outside the data: beside the axes while that leaves them most of the width,
// otherwise in rows above them.
#include <QColor>
#include <QImage>
#include <QRect>
#include <QVector>
#include <QWidget>
#include <optional>

class QCustomPlot;
class QCPAbstractPlottable;
class QCPItemPixmap;
class QCPItemTracer;
class QCPLayoutGrid;

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
  // Draws images[i] centred on point i of series `series`, framed in the series' colour (a null
  // image leaves the point a dot), `pixels` on a side. Images never overlap one another: after each
  // replot the points are visited from the outside of the cloud inwards and an image is shown only
  // where it fits, so the others stay dots until zooming in makes room. clear() removes them.
  void setPointImages(int series, const QVector<QImage>& images, int pixels = 28);
  // Where point images are drawn now, in the plot's pixels (tests read it).
  QVector<QRect> shownPointImages() const;

  void setLabels(const QString& title, const QString& xLabel, const QString& yLabel);
  void setLegendVisible(bool visible);
  // Fits the axes to all series with a small margin (wide enough for a point image at the edge).
  void rescale();

  enum class LegendPlace { None, Beside, Above };
  // Where the legend is now (None while it is hidden or empty); tests read it.
  LegendPlace legendPlace() const { return legendPlace_; }

  QCustomPlot* plot() const { return plot_; }

Q_SIGNALS:
  // A click on a point of series `series` (its index as addLine/addScatter returned it) at data
  // coordinates (x, y).
  void pointClicked(int series, double x, double y);

private:
  int addSeries(QCPAbstractPlottable* plottable, const QString& name);
  // Chooses the legend's place for the plot's size, before each replot.
  void placeLegend();
  // `wrap`: rows per column beside the axes, entries per row above them.
  void moveLegend(LegendPlace place, int wrap);
  // Shows the point images that fit without overlap, after each replot.
  void layOutPointImages();

  QCustomPlot* plot_;
  QVector<QCPAbstractPlottable*> series_;
  // Beside the axes the legend sits at the top of this column, above an empty stretch, so that
  // it keeps its own height rather than the axes'.
  QCPLayoutGrid* legendColumn_;
  // Each image hangs on an invisible tracer at its point, so that it follows panning and zooming.
  struct PointImage {
    QCPItemTracer* point;
    QCPItemPixmap* image;
  };
  QVector<PointImage> pointImages_;
  int pointImagePixels_ = 0;  // the largest side set
  // The axes' size that rescale() made room for point images with; until the next replot has laid
  // the axes out, that size may be stale, and rescale() runs again if it was.
  std::optional<QSize> rescaledFor_;
  LegendPlace legendPlace_ = LegendPlace::None;
  int legendWrap_ = 0;
};

}  // namespace bp::widgets
