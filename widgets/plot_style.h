#pragma once
// The house look of every QCustomPlot in BrainPrior: fonts scaled from the application font,
// the shared palette, light grid, outward ticks, and an optional title row.
#include <QString>

class QCustomPlot;
class QCPAxis;
class QWidget;

namespace bp::widgets {

// Applies fonts, colours, ticks, grid and antialiasing to all four axes of the plot's main
// axis rect. Call once, right after creating the plot.
void applyPlotStyle(QCustomPlot* plot);

// Fonts, colours, outward ticks and grid pen for one axis (also used for colour-scale axes).
void applyAxisStyle(QCPAxis* axis);

// Shows `title` in a text element above the axis rect; an empty title removes the row.
void setPlotTitle(QCustomPlot* plot, const QString& title);

// Multiplies the fonts of every plot inside `root` (axis and tick labels, colour scales, legends
// and their items, titles) by `factor`, for presentation mode. Plots styled in the meantime take
// the application font, which presentation mode enlarges by the same factor, so scaling back by
// 1 / factor returns every plot to its usual size.
void scalePlotFonts(QWidget* root, double factor);

// While the plot draws nothing (no plottable holds data), `message` stands in its middle instead
// of blank 0-5 axes: what the plot will show and which button fills it. Calling it again replaces
// the message.
void setEmptyMessage(QCustomPlot* plot, const QString& message);
// The message shown now, or empty when the plot draws something (tests read it).
QString shownEmptyMessage(const QCustomPlot* plot);

}  // namespace bp::widgets
