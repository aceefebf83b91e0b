#include "widgets/image_conversion.h"

#include "widgets/custom_plot.h"

#include <cmath>
#include <vector>

#include "widgets/palette.h"

namespace bp::widgets {
namespace {

// Maps values to bytes with one multiply per pixel.
class ByteMapping {
public:
  ByteMapping(float low, float high)
      : low_(low), scale_(high > low ? 255.0f / (high - low) : 0.0f), step_(!(high > low)) {}

  uchar operator()(float value) const {
    if (std::isnan(value)) return 0;
    if (step_) return value > low_ ? 255 : 0;
    const float scaled = (value - low_) * scale_ + 0.5f;
    if (scaled <= 0.0f) return 0;
    if (scaled >= 255.0f) return 255;
    return static_cast<uchar>(scaled);
  }

private:
  float low_;
  float scale_;
  bool step_;
};

}  // namespace

QImage imageFromPlanes(const float* planar, int channels, int height, int width, float low, float high) {
  if (!planar || height <= 0 || width <= 0 || (channels != 1 && channels != 3)) return {};
  const ByteMapping toByte(low, high);
  const qsizetype plane = static_cast<qsizetype>(height) * width;

  if (channels == 1) {
    QImage image(width, height, QImage::Format_Grayscale8);
    for (int y = 0; y < height; ++y) {
      uchar* line = image.scanLine(y);
      const float* source = planar + static_cast<qsizetype>(y) * width;
      for (int x = 0; x < width; ++x) line[x] = toByte(source[x]);
    }
    return image;
  }

  QImage image(width, height, QImage::Format_RGB32);
  for (int y = 0; y < height; ++y) {
    auto* line = reinterpret_cast<QRgb*>(image.scanLine(y));
    const float* red = planar + static_cast<qsizetype>(y) * width;
    const float* green = red + plane;
    const float* blue = green + plane;
    for (int x = 0; x < width; ++x) line[x] = qRgb(toByte(red[x]), toByte(green[x]), toByte(blue[x]));
  }
  return image;
}

QImage colorizedMap(const float* values, int height, int width, Colormap colormap, float low, float high) {
  if (values == nullptr || height <= 0 || width <= 0) return {};
  QImage image(width, height, QImage::Format_ARGB32);
  QCPColorGradient gradient = colorGradient(colormap);  // colorize() caches its lookup table
  const QCPRange range(low, high > low ? high : low + 1.0f);
  const QRgb missing = palette::missing().rgba();
  std::vector<double> row(static_cast<std::size_t>(width));
  for (int y = 0; y < height; ++y) {
    const float* source = values + static_cast<std::ptrdiff_t>(y) * width;
    for (int x = 0; x < width; ++x) row[static_cast<std::size_t>(x)] = source[x];
    auto* line = reinterpret_cast<QRgb*>(image.scanLine(y));
    gradient.colorize(row.data(), range, line, width);
    for (int x = 0; x < width; ++x)
      if (std::isnan(source[x])) line[x] = missing;
  }
  return image;
}

}  // namespace bp::widgets
