#pragma once
// The shared colours of every BrainPrior view: a qualitative, colour-blind-safe series palette
// (Okabe & Ito, 2008) and the neutral colours used for text, axes, grids and missing values.
#include <QColor>
#include <QVector>

namespace bp::widgets::palette {

// The eight Okabe–Ito colours, ordered for plotting: strong, mutually distinct hues first,
// yellow (weak on white) and black last.
const QVector<QColor>& qualitativeColors();

// Colour for the index-th series; cycles through qualitativeColors().
QColor seriesColor(int index);

QColor text();        // titles, labels, tick labels
QColor axis();        // axis lines and ticks
QColor grid();        // major grid lines
QColor background();  // plot and view background
QColor accent();      // selection and focus highlights
QColor missing();     // NaN cells in colour maps
QColor warning();     // flags on figures that are not findings (Okabe–Ito vermillion)

}  // namespace bp::widgets::palette
