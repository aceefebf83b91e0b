#pragma once
// Saving any BrainPrior plot as a figure file: PNG (raster, scaled for print resolution), PDF and
// SVG (vector; colour maps are embedded as images).
#include <QString>

class QCustomPlot;

namespace bp::widgets {

// Writes the plot to `path`; the format follows the extension (.png, .pdf, .svg; case-insensitive).
// widthPx/heightPx give the figure's size in logical pixels (0: the plot's current size). A PNG is
// rendered at `scale` times that size (3.0: 288 dpi for a figure designed at 96 dpi) and tagged
// with the matching resolution. The file is written to a temporary name and renamed into place,
// so an existing file is never left half-written. Returns false and sets *error (when given) on
// failure.
bool exportPlot(QCustomPlot* plot, const QString& path, QString* error, int widthPx = 0, int heightPx = 0,
                double scale = 3.0);

}  // namespace bp::widgets
