#pragma once
// Conversion of planar float images (channel-major, as produced by the engine) to QImage for display.
#include <QImage>

#include "widgets/colormaps.h"

namespace bp::widgets {

// Converts `channels` planes of height x width floats to a QImage: 1 channel gives Grayscale8,
// 3 channels give RGB32. Values map linearly from [low, high] to [0, 255] (rounded, clamped);
// NaN becomes 0. If high <= low, values above low become 255 and the rest 0.
// Returns a null image for other channel counts, non-positive sizes or a null pointer.
QImage imageFromPlanes(const float* planar, int channels, int height, int width, float low, float high);

// Colours a height x width map of floats (row-major) with `colormap` over [low, high] (values
// outside clamp to the ends; NaN takes palette::missing()). Returns a null image for non-positive
// sizes or a null pointer. Saliency maps and perturbations are shown this way.
QImage colorizedMap(const float* values, int height, int width, Colormap colormap, float low, float high);

}  // namespace bp::widgets
