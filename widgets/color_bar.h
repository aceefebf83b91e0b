#pragma once
// A vertical colour bar for an image drawn with a colormap (a saliency map, a perturbation): the
// colours from the low value at the bottom to the high value at the top, both ends labelled, so
// that a reader knows what the brightest pixel means.
#include <QString>
#include <QWidget>

#include "widgets/colormaps.h"

namespace bp::widgets {

class ColorBar : public QWidget {
  Q_OBJECT

public:
  explicit ColorBar(Colormap colormap, QWidget* parent = nullptr);

  // The values of the colormap's two ends.
  void setRange(double low, double high);
  // No range: the bar stays, its labels say nothing.
  void clearRange();
  QString lowText() const { return lowText_; }
  QString highText() const { return highText_; }

  QSize sizeHint() const override;
  QSize minimumSizeHint() const override { return sizeHint(); }

protected:
  void paintEvent(QPaintEvent* event) override;

private:
  Colormap colormap_;
  QString lowText_;
  QString highText_;
};

// A value for a colour bar's label: three significant digits, without a needless exponent.
QString colorBarNumber(double value);

}  // namespace bp::widgets
