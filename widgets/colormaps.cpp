#include "widgets/colormaps.h"

#include "widgets/custom_plot.h"

#include "widgets/palette.h"

namespace bp::widgets {
namespace {

struct Stop {
  double position;
  QRgb color;
};

// matplotlib's 256-entry tables (van der Walt & Smith) at entries 0, 16, ..., 240, 255.
constexpr Stop kViridis[] = {
    {0.0000, 0x440154}, {0.0627, 0x48186a}, {0.1255, 0x472d7b}, {0.1882, 0x424086},
    {0.2510, 0x3b528b}, {0.3137, 0x33638d}, {0.3765, 0x2c728e}, {0.4392, 0x26828e},
    {0.5020, 0x21918c}, {0.5647, 0x1fa088}, {0.6275, 0x28ae80}, {0.6902, 0x3fbc73},
    {0.7529, 0x5ec962}, {0.8157, 0x84d44b}, {0.8784, 0xaddc30}, {0.9412, 0xd8e219},
    {1.0000, 0xfde725},
};

constexpr Stop kMagma[] = {
    {0.0000, 0x000004}, {0.0627, 0x0a0822}, {0.1255, 0x1d1147}, {0.1882, 0x36106b},
    {0.2510, 0x51127c}, {0.3137, 0x6a1c81}, {0.3765, 0x832681}, {0.4392, 0x9c2e7f},
    {0.5020, 0xb73779}, {0.5647, 0xd0416f}, {0.6275, 0xe75263}, {0.6902, 0xf56b5c},
    {0.7529, 0xfc8961}, {0.8157, 0xfea772}, {0.8784, 0xfec488}, {0.9412, 0xfde2a3},
    {1.0000, 0xfcfdbf},
};

// ColorBrewer RdBu (11 classes), reversed so that low values are blue.
constexpr Stop kRedBlue[] = {
    {0.0, 0x053061}, {0.1, 0x2166ac}, {0.2, 0x4393c3}, {0.3, 0x92c5de},
    {0.4, 0xd1e5f0}, {0.5, 0xf7f7f7}, {0.6, 0xfddbc7}, {0.7, 0xf4a582},
    {0.8, 0xd6604d}, {0.9, 0xb2182b}, {1.0, 0x67001f},
};

constexpr Stop kGray[] = {{0.0, 0x000000}, {1.0, 0xffffff}};

template <std::size_t N>
QCPColorGradient gradientFrom(const Stop (&stops)[N]) {
  QMap<double, QColor> map;
  for (const Stop& stop : stops) map.insert(stop.position, QColor(stop.color));
  QCPColorGradient gradient;
  gradient.setColorStops(map);
  gradient.setColorInterpolation(QCPColorGradient::ciRGB);
  gradient.setLevelCount(256);
  gradient.setNanHandling(QCPColorGradient::nhNanColor);
  gradient.setNanColor(palette::missing());
  return gradient;
}

}  // namespace

QCPColorGradient colorGradient(Colormap colormap) {
  switch (colormap) {
    case Colormap::Viridis: return gradientFrom(kViridis);
    case Colormap::Magma: return gradientFrom(kMagma);
    case Colormap::Gray: return gradientFrom(kGray);
    case Colormap::RedBlue: return gradientFrom(kRedBlue);
  }
  return gradientFrom(kViridis);
}

bool isDiverging(Colormap colormap) { return colormap == Colormap::RedBlue; }

}  // namespace bp::widgets
