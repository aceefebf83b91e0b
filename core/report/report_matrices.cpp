// The Similarity matrices section: each matrix file as a viridis heatmap in the file's image order,
// with a colour bar that gives the values of its colours.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "report/report_sections.h"
#include "report/svg_chart.h"
#include "runtime/number_format.h"
#include "rsa/matrix_file.h"
#include "rsa/similarity_distribution.h"
#include "runtime/error.h"

namespace bp::report_detail {
namespace {

constexpr std::int64_t kMaxSide = 512;
// Small matrices are enlarged by whole pixels to at least this side, so that cells stay sharp.
constexpr int kMinShownSide = 256;

struct ValueRange {
  double min = std::numeric_limits<double>::infinity();
  double max = -std::numeric_limits<double>::infinity();
};

ValueRange valueRange(const std::vector<float>& values, std::int64_t side) {
  ValueRange range;
  for (std::int64_t i = 0; i < side; ++i)
    for (std::int64_t j = 0; j < side; ++j) {
      const double value = values[static_cast<std::size_t>(i * side + j)];
      if (!std::isfinite(value)) continue;
      range.min = std::min(range.min, value);
      range.max = std::max(range.max, value);
    }
  return range;
}

// Viridis over [min, max]; cells that are not finite are grey.
std::vector<std::uint8_t> heatmapPng(const std::vector<float>& values, std::int64_t side, const ValueRange& range,
                                     int* shownSide) {
  const int n = static_cast<int>(side);
  cv::Mat levels(n, n, CV_8UC1);
  cv::Mat missing(n, n, CV_8UC1, cv::Scalar(0));
  const double span = range.max > range.min ? range.max - range.min : 1.0;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      const double value =
          values[static_cast<std::size_t>(i) * static_cast<std::size_t>(n) + static_cast<std::size_t>(j)];
      if (!std::isfinite(value)) {
        levels.at<std::uint8_t>(i, j) = 0;
        missing.at<std::uint8_t>(i, j) = 255;
      } else {
        levels.at<std::uint8_t>(i, j) = cv::saturate_cast<std::uint8_t>((value - range.min) / span * 255.0);
      }
    }
  cv::Mat coloured;
  cv::applyColorMap(levels, coloured, cv::COLORMAP_VIRIDIS);
  coloured.setTo(cv::Scalar(160, 160, 160), missing);
  const int scale = std::max(1, kMinShownSide / std::max(1, n));
  if (scale > 1) cv::resize(coloured, coloured, cv::Size(n * scale, n * scale), 0, 0, cv::INTER_NEAREST);
  *shownSide = n * scale;
  std::vector<std::uint8_t> png;
  if (!cv::imencode(".png", coloured, png)) throw Error("report: could not encode a heatmap as PNG");
  return png;
}

// OpenCV's viridis, which colours the heatmaps, at `count` evenly spaced levels: the colour bar's stops.
std::vector<std::string> viridisStops(int count) {
  cv::Mat ramp(1, 256, CV_8UC1);
  for (int i = 0; i < 256; ++i) ramp.at<std::uint8_t>(0, i) = static_cast<std::uint8_t>(i);
  cv::Mat colours;
  cv::applyColorMap(ramp, colours, cv::COLORMAP_VIRIDIS);
  std::vector<std::string> stops;
  for (int k = 0; k < count; ++k) {
    const cv::Vec3b bgr = colours.at<cv::Vec3b>(0, k * 255 / (count - 1));
    char colour[8];
    std::snprintf(colour, sizeof colour, "#%02x%02x%02x", bgr[2], bgr[1], bgr[0]);
    stops.emplace_back(colour);
  }
  return stops;
}

// The histogram of a matrix's values over every pair, as its distribution binned them.
ReportFigure valueHistogramFigure(const std::string& name, const SimilarityDistribution& distribution) {
  BarChart chart;
  chart.title = "Values of " + name;
  chart.xLabel = "value of a pair (bins from their lower edge)";
  chart.yLabel = "pairs";
  chart.width = 420;
  chart.height = 300;
  BarSeries series;
  series.name = name;
  const double width = (distribution.histogramHigh - distribution.histogramLow) / kDistributionBins;
  for (std::size_t bin = 0; bin < distribution.histogram.size(); ++bin) {
    chart.categories.push_back(formatFixed(distribution.histogramLow + static_cast<double>(bin) * width, 2));
    series.values.push_back(static_cast<double>(distribution.histogram[bin]));
  }
  chart.series.push_back(series);
  std::string caption = name + ": " + summarize(distribution) + ".";
  if (!distribution.degenerate.empty()) caption += " Not a structure to train towards: " + distribution.degenerate + ".";
  return svgFigure(renderBarChartSvg(chart), chart.width, chart.height, caption);
}

}  // namespace

ReportSection similarityMatricesSection(const std::vector<std::filesystem::path>& files, ReportContext& context,
                                        const Job& job) {
  ReportSection section;
  section.title = "Similarity matrices";
  section.paragraphs.push_back(
      "Each matrix is drawn in the order of its file's images (row i, column j: images i and j), on the "
      "viridis scale from its smallest value (dark blue) to its largest (yellow); the bar beside it gives the "
      "values. Matrices of more than " +
      std::to_string(kMaxSide) + " images are shown as means of square blocks. Beside each, the histogram of "
      "its values over every pair of images. A regularizer compares similarities through atanh, which grows "
      "steeply near \u00b11: pairs beyond \u00b10.9 weigh most in its loss, and a matrix where they carry half of "
      "it or more is flagged as saturated.");
  ReportTable table;
  table.caption = "Matrix files: values over every pair of images (percentiles within 0.0005 for similarities)";
  table.header = {"File", "Images", "Measure", "Form", "Unit weights", "Min", "Max", "Median (5th\u201395th)",
                  "Beyond \u00b10.9 (share of atanh loss)"};
  for (std::size_t m = 0; m < files.size(); ++m) {
    job.throwIfCancelled();
    const Job matrixJob = job.subJob(static_cast<double>(m) / static_cast<double>(files.size()),
                                     static_cast<double>(m + 1) / static_cast<double>(files.size()));
    const SimilarityMatrixFile file = SimilarityMatrixFile::open(files[m]);
    const SimilarityDistribution distribution = describeSimilarity(file, matrixJob.subJob(0.0, 0.5));
    std::int64_t side = 0;
    const std::vector<float> shown = file.readDownsampled(kMaxSide, &side, matrixJob.subJob(0.5, 1.0));
    const ValueRange range = valueRange(shown, side);
    const bool blocks = side < file.size();
    const std::string form = isDissimilarity(file.config()) ? "dissimilarity" : "similarity";
    const std::string measure = similarityMeasureName(file.config().measure);
    const std::string name = files[m].filename().string();
    const auto& p = distribution.percentiles;
    table.rows.push_back({name, std::to_string(file.size()), measure, form,
                          file.config().unitWeights.empty() ? "equal" : "weighted", formatFixed(distribution.lowest, 3),
                          formatFixed(distribution.highest, 3),
                          formatFixed(p[2], 3) + " (" + formatFixed(p[0], 2) + " to " + formatFixed(p[4], 2) + ")",
                          distribution.bounded ? formatFixed(100.0 * distribution.nearOneShare, 1) + "% (" +
                                                     formatFixed(100.0 * distribution.nearOneLossShare, 0) + "%)"
                                               : "\u2014"});
    if (!distribution.degenerate.empty())
      context.warnings.push_back("Similarity matrices, " + name + ": " + distribution.degenerate);

    int shownSide = 0;
    HeatmapChart chart;
    chart.png = heatmapPng(shown, side, range, &shownSide);
    chart.side = std::min(shownSide, 480);
    chart.low = range.min;
    chart.high = range.max;
    chart.stops = viridisStops(9);
    ReportFigure figure;
    figure.svg = renderHeatmapSvg(chart);
    figure.width = heatmapChartWidth(chart.side);
    figure.height = heatmapChartHeight(chart.side);
    figure.caption =
        name + ": " + std::to_string(file.size()) + " \u00d7 " + std::to_string(file.size()) + " " + measure + " " +
        form + ", values " + formatFixed(range.min, 3) + " (dark) to " + formatFixed(range.max, 3) + " (yellow)" +
        (blocks ? ", shown as " + std::to_string(side) + " \u00d7 " + std::to_string(side) + " block means" : "") + ".";
    section.figures.push_back(std::move(figure));
    section.figures.push_back(valueHistogramFigure(name, distribution));
  }
  if (!table.rows.empty()) section.tables.push_back(std::move(table));
  return section;
}

}  // namespace bp::report_detail
