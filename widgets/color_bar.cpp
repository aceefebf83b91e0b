#include "widgets/color_bar.h"

#include "widgets/custom_plot.h"

#include <QPainter>
#include <algorithm>
#include <cmath>

#include "widgets/palette.h"

namespace bp::widgets {
namespace {

constexpr int kBarWidth = 10;
constexpr int kGap = 4;

}  // namespace

QString colorBarNumber(double value) {
  if (!std::isfinite(value)) return QStringLiteral("—");
  if (value == 0.0) return QStringLiteral("0");
  const double magnitude = std::abs(value);
  return magnitude >= 1e-3 && magnitude < 1e4 ? QString::number(value, 'g', 3) : QString::number(value, 'e', 1);
}

ColorBar::ColorBar(Colormap colormap, QWidget* parent) : QWidget(parent), colormap_(colormap) {
  setSizePolicy(QSizePolicy::Fixed, QSizePolicy::Preferred);
}

void ColorBar::setRange(double low, double high) {
  lowText_ = colorBarNumber(low);
  highText_ = colorBarNumber(high);
  updateGeometry();
  update();
}

void ColorBar::clearRange() {
  lowText_.clear();
  highText_.clear();
  update();
}

QSize ColorBar::sizeHint() const {
  const QFontMetrics metrics(font());
  const int text = std::max({metrics.horizontalAdvance(lowText_), metrics.horizontalAdvance(highText_),
                             metrics.horizontalAdvance(QStringLiteral("-0.000"))});
  return {kBarWidth + kGap + text, 4 * metrics.height()};
}

void ColorBar::paintEvent(QPaintEvent*) {
  QPainter painter(this);
  const QFontMetrics metrics(font());
  // The bar runs from the middle of the top label's line to the middle of the bottom one's.
  const int top = metrics.height() / 2;
  const int bottom = height() - metrics.height() / 2;
  QCPColorGradient gradient = colorGradient(colormap_);  // color() is not const: it caches its table
  const QCPRange unit(0.0, 1.0);
  for (int y = top; y < bottom; ++y) {
    const double position = bottom - top > 1 ? double(bottom - 1 - y) / double(bottom - top - 1) : 0.5;
    painter.setPen(QColor::fromRgb(gradient.color(position, unit)));
    painter.drawLine(0, y, kBarWidth - 1, y);
  }
  painter.setPen(palette::grid());
  painter.drawRect(0, top, kBarWidth - 1, bottom - top - 1);
  painter.setPen(palette::text());
  const int x = kBarWidth + kGap;
  painter.drawText(QRect(x, 0, width() - x, metrics.height()), Qt::AlignLeft | Qt::AlignVCenter, highText_);
  painter.drawText(QRect(x, height() - metrics.height(), width() - x, metrics.height()), Qt::AlignLeft | Qt::AlignVCenter,
                   lowText_);
}

}  // namespace bp::widgets
