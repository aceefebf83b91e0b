#include "report/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "report/base64.h"
#include "report/text_format.h"
#include "runtime/number_format.h"

namespace bp {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr int kMaxMarkedPoints = 40;
constexpr double kCharWidth = 6.5;  // of the 11 px sans-serif labels, for layout estimates

// Coordinates to a tenth of a pixel, locale-independent.
std::string px(double value) {
  return formatFixed(value, 1);
}

std::string shortened(const std::string& text, std::size_t maxChars) {
  if (text.size() <= maxChars) return text;
  // Cut on a UTF-8 character boundary.
  std::size_t cut = maxChars - 1;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return text.substr(0, cut) + "\u2026";
}

const char* dashArray(int dash) {
  switch (dash) {
    case 1:
      return " stroke-dasharray=\"6 3\"";
    case 2:
      return " stroke-dasharray=\"2 3\"";
    default:
      return "";
  }
}

struct Range {
  double min = kInf;
  double max = -kInf;
  void add(double value) {
    if (!std::isfinite(value)) return;
    min = std::min(min, value);
    max = std::max(max, value);
  }
  bool empty() const { return min > max; }
};

// The frame every chart shares: title, plot area, grid, axes and tick labels, axis labels, legend.
struct Frame {
  double left = 64.0;
  double top = 34.0;
  double right = 0.0;   // x of the plot's right edge
  double bottom = 0.0;  // y of the plot's bottom edge
  AxisTicks yTicks;

  double yPixel(double value) const {
    return bottom - (value - yTicks.low) / (yTicks.high - yTicks.low) * (bottom - top);
  }
};

struct LegendEntry {
  std::string name;
  std::string colour;
  int dash = 0;
  bool bar = false;
};

double legendWidth(const std::vector<LegendEntry>& entries) {
  std::size_t longest = 0;
  for (const auto& entry : entries) longest = std::max(longest, shortened(entry.name, 26).size());
  return entries.empty() ? 0.0 : std::min(200.0, 34.0 + kCharWidth * static_cast<double>(longest));
}

std::string svgOpen(int width, int height) {
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" width=\"" + std::to_string(width) + "\" height=\"" +
         std::to_string(height) + "\" viewBox=\"0 0 " + std::to_string(width) + " " + std::to_string(height) +
         "\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" "
         "fill=\"#ffffff\"/>\n";
}

std::string text(double x, double y, const std::string& content, const char* anchor, const std::string& extra = "") {
  return "<text x=\"" + px(x) + "\" y=\"" + px(y) + "\" text-anchor=\"" + anchor + "\"" + extra + ">" +
         escapeHtml(content) + "</text>\n";
}

// Title, y grid and axis, axis labels; the caller draws the x ticks.
std::string drawFrame(const Frame& frame, int width, int height, const std::string& title, const std::string& xLabel,
                      const std::string& yLabel) {
  std::string svg;
  if (!title.empty()) svg += text(width / 2.0, 20.0, title, "middle", " font-size=\"13\" font-weight=\"bold\"");
  for (const double value : frame.yTicks.values) {
    const double y = frame.yPixel(value);
    svg += "<line class=\"grid\" x1=\"" + px(frame.left) + "\" y1=\"" + px(y) + "\" x2=\"" + px(frame.right) +
           "\" y2=\"" + px(y) + "\" stroke=\"#e3e3e3\"/>\n";
    svg += text(frame.left - 6.0, y + 4.0, formatFixed(value, frame.yTicks.decimals), "end", " class=\"tick\"");
  }
  svg += "<line class=\"axis\" x1=\"" + px(frame.left) + "\" y1=\"" + px(frame.top) + "\" x2=\"" + px(frame.left) +
         "\" y2=\"" + px(frame.bottom) + "\" stroke=\"#333333\"/>\n";
  svg += "<line class=\"axis\" x1=\"" + px(frame.left) + "\" y1=\"" + px(frame.bottom) + "\" x2=\"" + px(frame.right) +
         "\" y2=\"" + px(frame.bottom) + "\" stroke=\"#333333\"/>\n";
  if (!xLabel.empty())
    svg += text((frame.left + frame.right) / 2.0, height - 8.0, xLabel, "middle", " class=\"axis-label\"");
  if (!yLabel.empty()) {
    const double y = (frame.top + frame.bottom) / 2.0;
    svg += text(14.0, y, yLabel, "middle", " class=\"axis-label\" transform=\"rotate(-90 14 " + px(y) + ")\"");
  }
  return svg;
}

std::string drawLegend(const std::vector<LegendEntry>& entries, double x, double top) {
  std::string svg;
  double y = top + 8.0;
  for (const auto& entry : entries) {
    if (entry.bar) {
      svg += "<rect x=\"" + px(x) + "\" y=\"" + px(y - 5.0) + "\" width=\"18\" height=\"10\" fill=\"" + entry.colour +
             "\"/>\n";
    } else {
      svg += "<line x1=\"" + px(x) + "\" y1=\"" + px(y) + "\" x2=\"" + px(x + 18.0) + "\" y2=\"" + px(y) +
             "\" stroke=\"" + entry.colour + "\" stroke-width=\"2\"" + dashArray(entry.dash) + "/>\n";
    }
    svg += text(x + 24.0, y + 4.0, shortened(entry.name, 26), "start", " class=\"legend\"");
    y += 16.0;
  }
  return svg;
}

Frame makeFrame(int width, int height, double legend, const AxisTicks& yTicks) {
  Frame frame;
  frame.right = width - 16.0 - (legend > 0.0 ? legend + 8.0 : 0.0);
  frame.bottom = height - 46.0;
  frame.yTicks = yTicks;
  return frame;
}

}  // namespace

const char* okabeItoColour(std::size_t index) {
  static constexpr const char* kColours[] = {"#0072B2", "#D55E00", "#009E73", "#E69F00",
                                             "#CC79A7", "#56B4E9", "#F0E442", "#000000"};
  return kColours[index % 8];
}

AxisTicks niceTicks(double min, double max, int target) {
  if (!std::isfinite(min) || !std::isfinite(max) || min > max) {
    min = 0.0;
    max = 1.0;
  }
  if (min == max) {
    const double pad = min == 0.0 ? 0.5 : std::abs(min) * 0.1;
    min -= pad;
    max += pad;
  }
  const double rough = (max - min) / std::max(1, target);
  const double magnitude = std::pow(10.0, std::floor(std::log10(rough)));
  const double normalized = rough / magnitude;
  const double factor = normalized < 1.5 ? 1.0 : normalized < 3.0 ? 2.0 : normalized < 7.0 ? 5.0 : 10.0;
  AxisTicks ticks;
  ticks.step = factor * magnitude;
  ticks.low = std::floor(min / ticks.step + 1e-9) * ticks.step;
  ticks.high = std::ceil(max / ticks.step - 1e-9) * ticks.step;
  if (ticks.high <= ticks.low) ticks.high = ticks.low + ticks.step;
  ticks.decimals = 0;
  while (ticks.decimals < 8) {
    const double scaled = ticks.step * std::pow(10.0, ticks.decimals);
    if (std::abs(scaled - std::round(scaled)) < 1e-6 * std::max(1.0, scaled)) break;
    ++ticks.decimals;
  }
  const auto count = static_cast<int>(std::lround((ticks.high - ticks.low) / ticks.step));
  for (int i = 0; i <= count; ++i) ticks.values.push_back(ticks.low + i * ticks.step);
  return ticks;
}

std::string renderLineChartSvg(const LineChart& chart) {
  Range xRange;
  Range yRange;
  std::vector<LegendEntry> legend;
  for (std::size_t s = 0; s < chart.series.size(); ++s) {
    const ChartSeries& series = chart.series[s];
    for (std::size_t i = 0; i < std::min(series.x.size(), series.y.size()); ++i) {
      if (!std::isfinite(series.x[i]) || !std::isfinite(series.y[i])) continue;
      xRange.add(series.x[i]);
      const double error = i < series.error.size() && std::isfinite(series.error[i]) ? series.error[i] : 0.0;
      yRange.add(series.y[i] - error);
      yRange.add(series.y[i] + error);
    }
    if (!series.name.empty())
      legend.push_back({series.name, okabeItoColour(series.colour < 0 ? s : static_cast<std::size_t>(series.colour)),
                        series.dash, false});
  }
  const bool noData = xRange.empty();
  const AxisTicks xTicks = niceTicks(noData ? 0.0 : xRange.min, noData ? 1.0 : xRange.max, 6);
  const double legendSpace = legendWidth(legend);
  const Frame frame = makeFrame(chart.width, chart.height, legendSpace,
                                niceTicks(noData ? 0.0 : yRange.min, noData ? 1.0 : yRange.max));
  auto xPixel = [&](double value) {
    return frame.left + (value - xTicks.low) / (xTicks.high - xTicks.low) * (frame.right - frame.left);
  };

  std::string svg = svgOpen(chart.width, chart.height);
  svg += drawFrame(frame, chart.width, chart.height, chart.title, chart.xLabel, chart.yLabel);
  for (const double value : xTicks.values) {
    const double x = xPixel(value);
    svg += "<line x1=\"" + px(x) + "\" y1=\"" + px(frame.bottom) + "\" x2=\"" + px(x) + "\" y2=\"" +
           px(frame.bottom + 4.0) + "\" stroke=\"#333333\"/>\n";
    svg += text(x, frame.bottom + 16.0, formatFixed(value, xTicks.decimals), "middle", " class=\"tick\"");
  }
  if (noData) svg += text((frame.left + frame.right) / 2.0, (frame.top + frame.bottom) / 2.0, "no data", "middle");

  for (std::size_t s = 0; s < chart.series.size(); ++s) {
    const ChartSeries& series = chart.series[s];
    const std::string colour = okabeItoColour(series.colour < 0 ? s : static_cast<std::size_t>(series.colour));
    std::string points;
    std::string marks;
    std::size_t finite = 0;
    for (std::size_t i = 0; i < std::min(series.x.size(), series.y.size()); ++i)
      if (std::isfinite(series.x[i]) && std::isfinite(series.y[i])) ++finite;
    for (std::size_t i = 0; i < std::min(series.x.size(), series.y.size()); ++i) {
      if (!std::isfinite(series.x[i]) || !std::isfinite(series.y[i])) continue;
      const double x = xPixel(series.x[i]);
      const double y = frame.yPixel(series.y[i]);
      points += (points.empty() ? "" : " ") + px(x) + "," + px(y);
      if (i < series.error.size() && std::isfinite(series.error[i]) && series.error[i] > 0.0) {
        const double low = frame.yPixel(series.y[i] - series.error[i]);
        const double high = frame.yPixel(series.y[i] + series.error[i]);
        marks += "<path class=\"error-bar\" d=\"M" + px(x) + " " + px(low) + "V" + px(high) + "M" + px(x - 3.0) + " " +
                 px(low) + "h6M" + px(x - 3.0) + " " + px(high) + "h6\" stroke=\"" + colour + "\" fill=\"none\"/>\n";
      }
      if (finite <= kMaxMarkedPoints)
        marks += "<circle cx=\"" + px(x) + "\" cy=\"" + px(y) + "\" r=\"2.5\" fill=\"" + colour + "\"/>\n";
    }
    if (points.empty()) continue;
    svg += "<polyline class=\"series\" points=\"" + points + "\" fill=\"none\" stroke=\"" + colour +
           "\" stroke-width=\"1.8\"" + dashArray(series.dash) + "/>\n" + marks;
  }
  svg += drawLegend(legend, frame.right + 16.0, frame.top);
  return svg + "</svg>\n";
}

std::string renderBarChartSvg(const BarChart& chart) {
  Range yRange;
  yRange.add(0.0);
  std::vector<LegendEntry> legend;
  for (std::size_t s = 0; s < chart.series.size(); ++s) {
    const BarSeries& series = chart.series[s];
    for (std::size_t i = 0; i < series.values.size(); ++i) {
      const double error = i < series.errors.size() && std::isfinite(series.errors[i]) ? series.errors[i] : 0.0;
      yRange.add(series.values[i] + error);
      yRange.add(series.values[i] - error);
    }
    if (!series.name.empty() && chart.series.size() > 1) legend.push_back({series.name, okabeItoColour(s), 0, true});
  }
  const Frame frame = makeFrame(chart.width, chart.height, legendWidth(legend), niceTicks(yRange.min, yRange.max));
  std::string svg = svgOpen(chart.width, chart.height);
  svg += drawFrame(frame, chart.width, chart.height, chart.title, chart.xLabel, chart.yLabel);

  const std::size_t categories = std::max<std::size_t>(1, chart.categories.size());
  const double groupWidth = (frame.right - frame.left) / static_cast<double>(categories);
  const double barWidth = groupWidth * 0.8 / static_cast<double>(std::max<std::size_t>(1, chart.series.size()));
  std::size_t longestLabel = 1;
  for (const auto& category : chart.categories) longestLabel = std::max(longestLabel, shortened(category, 14).size());
  // Label every k-th category so that the labels never overlap.
  const auto labelEvery = static_cast<std::size_t>(
      std::max(1.0, std::ceil((kCharWidth * static_cast<double>(longestLabel) + 6.0) / groupWidth)));
  const double zero = frame.yPixel(0.0);
  for (std::size_t c = 0; c < chart.categories.size(); ++c) {
    const double groupLeft = frame.left + groupWidth * static_cast<double>(c);
    if (c % labelEvery == 0)
      svg += text(groupLeft + groupWidth / 2.0, frame.bottom + 16.0, shortened(chart.categories[c], 14), "middle",
                  " class=\"tick\"");
    for (std::size_t s = 0; s < chart.series.size(); ++s) {
      const BarSeries& series = chart.series[s];
      if (c >= series.values.size() || !std::isfinite(series.values[c])) continue;
      const double x = groupLeft + groupWidth * 0.1 + barWidth * static_cast<double>(s);
      const double y = frame.yPixel(series.values[c]);
      svg += "<rect class=\"bar\" x=\"" + px(x) + "\" y=\"" + px(std::min(y, zero)) + "\" width=\"" + px(barWidth) +
             "\" height=\"" + px(std::abs(zero - y)) + "\" fill=\"" + okabeItoColour(s) + "\"/>\n";
      if (c < series.errors.size() && std::isfinite(series.errors[c]) && series.errors[c] > 0.0) {
        const double middle = x + barWidth / 2.0;
        const double low = frame.yPixel(series.values[c] - series.errors[c]);
        const double high = frame.yPixel(series.values[c] + series.errors[c]);
        svg += "<path class=\"error-bar\" d=\"M" + px(middle) + " " + px(low) + "V" + px(high) + "M" +
               px(middle - 3.0) + " " + px(low) + "h6M" + px(middle - 3.0) + " " + px(high) +
               "h6\" stroke=\"#333333\" fill=\"none\"/>\n";
      }
    }
  }
  svg += drawLegend(legend, frame.right + 16.0, frame.top);
  return svg + "</svg>\n";
}

BarChart histogramChart(const std::vector<double>& values, int bins, const std::string& title,
                        const std::string& xLabel) {
  Range range;
  for (const double value : values) range.add(value);
  BarChart chart;
  chart.title = title;
  chart.xLabel = xLabel;
  chart.yLabel = "count";
  if (range.empty() || bins < 1) return chart;
  const AxisTicks ticks = niceTicks(range.min, range.max, bins);
  const auto count = static_cast<std::size_t>(ticks.values.size() > 1 ? ticks.values.size() - 1 : 1);
  BarSeries series;
  series.values.assign(count, 0.0);
  for (const double value : values) {
    if (!std::isfinite(value)) continue;
    const auto bin = static_cast<std::size_t>(std::max(0.0, std::floor((value - ticks.low) / ticks.step)));
    series.values[std::min(bin, count - 1)] += 1.0;
  }
  for (std::size_t i = 0; i < count; ++i) chart.categories.push_back(formatFixed(ticks.values[i], ticks.decimals));
  chart.series.push_back(series);
  return chart;
}

namespace {

constexpr int kHeatmapMargin = 8;  // above and below, for the end ticks' labels
constexpr int kHeatmapGap = 14;
constexpr int kColourBarWidth = 16;
constexpr int kColourBarLabels = 64;

}  // namespace

int heatmapChartWidth(int side) { return side + kHeatmapGap + kColourBarWidth + kColourBarLabels; }
int heatmapChartHeight(int side) { return side + 2 * kHeatmapMargin; }

std::string renderHeatmapSvg(const HeatmapChart& chart) {
  const int side = chart.side;
  std::string svg = svgOpen(heatmapChartWidth(side), heatmapChartHeight(side));
  // The gradient runs top to bottom, so its offsets (which must rise) start at the highest colour.
  std::string stops;
  const std::size_t count = chart.stops.size();
  for (std::size_t k = 0; k < count; ++k)
    stops += "<stop offset=\"" + formatFixed(count > 1 ? double(k) / double(count - 1) : 0.0, 4) + "\" stop-color=\"" +
             chart.stops[count - 1 - k] + "\"/>";
  svg += "<defs><linearGradient id=\"colourbar\" x1=\"0\" y1=\"0\" x2=\"0\" y2=\"1\">" + stops +
         "</linearGradient></defs>\n";
  svg += "<image x=\"0\" y=\"" + std::to_string(kHeatmapMargin) + "\" width=\"" + std::to_string(side) + "\" height=\"" +
         std::to_string(side) +
         "\" preserveAspectRatio=\"none\" style=\"image-rendering:pixelated\" xlink:href=\"data:image/png;base64," +
         encodeBase64(chart.png.data(), chart.png.size()) + "\"/>\n";
  const int barX = side + kHeatmapGap;
  svg += "<rect x=\"" + std::to_string(barX) + "\" y=\"" + std::to_string(kHeatmapMargin) + "\" width=\"" +
         std::to_string(kColourBarWidth) + "\" height=\"" + std::to_string(side) +
         "\" fill=\"url(#colourbar)\" stroke=\"#888888\"/>\n";
  if (std::isfinite(chart.low) && std::isfinite(chart.high)) {
    const double span = chart.high > chart.low ? chart.high - chart.low : 1.0;
    const AxisTicks ticks = niceTicks(chart.low, chart.high, 5);
    for (const double tick : ticks.values) {
      if (tick < chart.low - 1e-9 * span || tick > chart.high + 1e-9 * span) continue;
      const double y = kHeatmapMargin + (1.0 - (tick - chart.low) / span) * side;
      svg += "<line x1=\"" + px(barX + kColourBarWidth) + "\" x2=\"" + px(barX + kColourBarWidth + 4) + "\" y1=\"" +
             px(y) + "\" y2=\"" + px(y) + "\" stroke=\"#333333\"/>\n";
      svg += text(barX + kColourBarWidth + 7, y + 4.0, formatFixed(tick, ticks.decimals), "start", " fill=\"#333333\"");
    }
  }
  return svg + "</svg>\n";
}

}  // namespace bp
