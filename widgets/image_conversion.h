#pragma once
// Conversion of planar float images (channel-major, as produced by the engine) to QImage for display.
#include <QImage>

namespace bp::widgets {

// Converts `channels` planes of height x width floats to a QImage: 1 channel gives Grayscale8,
// 3 channels give RGB32. Values map linearly from [low, high] to [0, 255] (rounded, clamped);
// NaN becomes 0. If high <= low, values above low become 255 and the rest 0.
// Returns a null image for other channel counts, non-positive sizes or a null pointer.
QImage imageFromPlanes(const float* planar, int channels, int height, int width, float low, float high);

}  // namespace bp::widgets
