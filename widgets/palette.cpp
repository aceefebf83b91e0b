#include "widgets/palette.h"

namespace bp::widgets::palette {

const QVector<QColor>& qualitativeColors() {
  static const QVector<QColor> colors{
      QColor(0x00, 0x72, 0xB2),  // blue
      QColor(0xE6, 0x9F, 0x00),  // orange
      QColor(0x00, 0x9E, 0x73),  // bluish green
      QColor(0xD5, 0x5E, 0x00),  // vermillion
      QColor(0xCC, 0x79, 0xA7),  // reddish purple
      QColor(0x56, 0xB4, 0xE9),  // sky blue
      QColor(0xF0, 0xE4, 0x42),  // yellow
      QColor(0x00, 0x00, 0x00),  // black
  };
  return colors;
}

QColor seriesColor(int index) {
  const auto& colors = qualitativeColors();
  const int n = static_cast<int>(colors.size());
  return colors[((index % n) + n) % n];
}

QColor text() { return QColor(0x26, 0x26, 0x26); }
QColor axis() { return QColor(0x59, 0x59, 0x59); }
QColor grid() { return QColor(0xE3, 0xE3, 0xE3); }
QColor background() { return QColor(0xFF, 0xFF, 0xFF); }
QColor accent() { return QColor(0x00, 0x72, 0xB2); }
QColor missing() { return QColor(0xD9, 0xD9, 0xD9); }
QColor warning() { return QColor(0xD5, 0x5E, 0x00); }

}  // namespace bp::widgets::palette
