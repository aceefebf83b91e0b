#pragma once
// The house look of every QCustomPlot in BrainPrior: fonts scaled from the application font,
// the shared palette, light grid, outward ticks, and an optional title row.
#include <QString>

class QCustomPlot;
class QCPAxis;

namespace bp::widgets {

// Applies fonts, colours, ticks, grid and antialiasing to all four axes of the plot's main
// axis rect. Call once, right after creating the plot.
void applyPlotStyle(QCustomPlot* plot);

// Fonts, colours, outward ticks and grid pen for one axis (also used for colour-scale axes).
void applyAxisStyle(QCPAxis* axis);

// Shows `title` in a text element above the axis rect; an empty title removes the row.
void setPlotTitle(QCustomPlot* plot, const QString& title);

}  // namespace bp::widgets
