#pragma once
// Small SVG charts for reports: line charts (curves over epochs or severities, with optional error
// bars) and grouped bar charts (per layer, per launch; histograms). Axes with "nice" ticks (1, 2 or
// 5 times a power of ten), a legend, and the Okabe–Ito palette, which stays distinguishable for the
// common colour-vision deficiencies. The output is a standalone <svg> element (XML-escaped text),
// readable by browsers and by Qt's QSvgRenderer.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace bp {

// Okabe & Ito's eight colours, reordered so that the first ones read well on white (yellow last
// but one); `index` wraps around.
const char* okabeItoColour(std::size_t index);

struct AxisTicks {
  double low = 0.0;  // the axis range, a whole number of steps
  double high = 1.0;
  double step = 0.25;
  int decimals = 2;  // enough to tell the ticks apart
  std::vector<double> values;
};

// About `target` ticks covering [min, max]; an empty or non-finite range gets a unit one around it.
AxisTicks niceTicks(double min, double max, int target = 5);

struct ChartSeries {
  std::string name;  // in the legend; empty: not listed
  std::vector<double> x;
  std::vector<double> y;      // points where x or y is not finite are skipped
  std::vector<double> error;  // +/- per point (e.g. SEM over seeds); empty: no error bars
  int colour = -1;            // okabeItoColour index; -1: the series' own index
  int dash = 0;               // 0 solid, 1 dashed, 2 dotted (tells apart series of one colour)
};

struct LineChart {
  std::string title;
  std::string xLabel;
  std::string yLabel;
  std::vector<ChartSeries> series;
  int width = 600;
  int height = 340;
};

// One <polyline> per series that has at least one finite point (and a marker per point up to 40
// points); a chart without any finite point says "no data".
std::string renderLineChartSvg(const LineChart& chart);

struct BarSeries {
  std::string name;
  std::vector<double> values;  // one per category; NaN: no bar
  std::vector<double> errors;  // +/- per category; empty: no error bars
};

struct BarChart {
  std::string title;
  std::string xLabel;
  std::string yLabel;
  std::vector<std::string> categories;
  std::vector<BarSeries> series;  // bars side by side within each category
  int width = 600;
  int height = 340;
};

// One <rect class="bar"> per finite value; the y axis always includes 0.
std::string renderBarChartSvg(const BarChart& chart);

// A histogram of the finite values in about `bins` equal bins with round edges (niceTicks over
// their range), as a one-series bar chart whose categories are the bins' lower edges.
BarChart histogramChart(const std::vector<double>& values, int bins, const std::string& title,
                        const std::string& xLabel);

// A heatmap already coloured into a PNG, drawn `side` pixels square, with a vertical colour bar on
// its right: the colormap's colours (`stops`, "#rrggbb" from the lowest value to the highest, evenly
// spaced) from `low` at the bottom to `high` at the top, and ticks at round values between them.
struct HeatmapChart {
  std::vector<std::uint8_t> png;
  int side = 256;
  double low = 0.0;
  double high = 1.0;
  std::vector<std::string> stops;
};

// The SVG is heatmapChartWidth(side) x heatmapChartHeight(side) pixels.
int heatmapChartWidth(int side);
int heatmapChartHeight(int side);
std::string renderHeatmapSvg(const HeatmapChart& chart);

}  // namespace bp
