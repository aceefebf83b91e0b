#pragma once
// Perceptual colour maps for matrices and images: matplotlib's viridis and magma (sampled at 17
// stops from the published tables), a linear gray ramp and a blue–white–red diverging map.
class QCPColorGradient;

namespace bp::widgets {

enum class Colormap {
  Viridis,  // sequential, the default
  Magma,    // sequential, dark to light
  Gray,     // black to white
  RedBlue,  // diverging: low values blue, the midpoint white, high values red
};

QCPColorGradient colorGradient(Colormap colormap);
bool isDiverging(Colormap colormap);

}  // namespace bp::widgets
