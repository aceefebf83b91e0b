// Reports: base64 against RFC 4648's vectors; the SVG charts (one polyline per series with data,
// NaN skipped, an empty chart says so, one bar per finite value, round ticks); every text escaped in
// the HTML; a report built from a small synthetic population, a matrix file, hand-written run
// folders and probe and predictivity reports has every section with the inputs' numbers and its
// figures; a truncated matrix or report names its file; a cancelled job stops; and what a path
// holds is recognised (a demo folder, a folder of runs, garbage refused by name).
#include <QtTest>
#include <regex>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "classifiers/run_registry.h"
#include "data/dataset_io.h"
#include "data/static_hdf5.h"
#include "data/synthetic_v1.h"
#include "report/base64.h"
#include "report/report.h"
#include "report/svg_chart.h"
#include "rsa/matrix_file.h"
#include "rsa/similarity.h"
#include "runtime/atomic_file.h"
#include "runtime/error.h"
#include "alpha_sweep_report.h"
#include "striped_images.h"
#include "test_registry.h"
#include "test_support.h"

using namespace bp;

namespace {

std::size_t count(const std::string& text, const std::string& part) {
  std::size_t found = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + part.size())) ++found;
  return found;
}

const ReportSection* findSection(const Report& report, const std::string& title) {
  for (const auto& section : report.sections)
    if (section.title == title) return &section;
  return nullptr;
}

bool sectionHasCell(const ReportSection& section, const std::string& cell) {
  for (const auto& table : section.tables)
    for (const auto& row : table.rows)
      if (std::find(row.begin(), row.end(), cell) != row.end()) return true;
  return false;
}

nlohmann::json epoch(int number, double testAccuracy, double loss) {
  return {{"epoch", number},
          {"learning_rate", 0.05},
          {"classification_loss", loss},
          {"regularization_loss", 0.0},
          {"total_loss", loss},
          {"train_accuracy", testAccuracy},
          {"validation_accuracy", nullptr},
          {"test_accuracy", testAccuracy},
          {"gamma", nlohmann::json::array()},
          {"seconds", 1.0},
          {"total_seconds", number * 1.0}};
}

// A finished run folder as run_folder.h leaves it (only what the registry reads).
void writeRun(const std::filesystem::path& runs, const std::string& launch, std::uint64_t seed,
              const std::string& regularizer, double alpha, double testAccuracy) {
  const nlohmann::json config = {
      {"name", launch}, {"seed", seed}, {"regularizer", {{"kind", regularizer}, {"alpha", alpha}}}};
  const nlohmann::json summary = {
      {"format", kRunSummaryFormat},
      {"version", 1},
      {"state", "finished"},
      {"seed", seed},
      {"regularizer", regularizer},
      {"epochs", 2},
      {"epochs_done", 2},
      {"test_accuracy", testAccuracy},
      {"config", config},
      {"runtime", {{"device", "cpu"}, {"threads", 2}, {"versions", {{"brainprior", "0.1.0"}, {"libtorch", "1.13.1"}}}}},
      {"history", {epoch(1, testAccuracy - 0.1, 1.2), epoch(2, testAccuracy, 0.7)}}};
  const auto folder = runs / (launch + "-seed" + std::to_string(seed));
  std::filesystem::create_directories(folder);
  writeFileAtomically(folder / "summary.json", summary.dump(2));
  writeFileAtomically(folder / "config.json", config.dump(2));
}

nlohmann::json probeReport() {
  const nlohmann::json noise = {{"kind", "gaussian_noise"},
                                {"severities", {0.0, 0.1, 0.3}},
                                {"mean_accuracies", {0.9, 0.7, nullptr}},
                                {"sem_accuracies", {0.01, 0.02, nullptr}},
                                {"mean_area", 0.6543},
                                {"sem_area", 0.0123}};
  const nlohmann::json pgd = {
      {"attack", "pgd"}, {"norm", "linf"}, {"mean_median_linf", 0.0321}, {"mean_median_l2", 0.5}};
  return {{"format", "brainprior probe report"},
          {"version", 1},
          {"config", {{"max_images", 30}}},
          {"runtime", {{"device", "cpu"}, {"threads", 2}}},
          {"images", {{"path", "/data/stripes"}, {"split", "test"}, {"count", 30}}},
          {"models",
           {{{"name", "baseline-seed1"},
             {"launch", "baseline"},
             {"seed", 1},
             {"clean_accuracy", 0.9},
             {"corruptions", {{{"kind", "gaussian_noise"}, {"area", 0.65}}}},
             {"minimum_norms", {{{"attack", "pgd"}, {"norm", "linf"}, {"median_linf", 0.03}}}}}}},
          {"launches",
           {{{"name", "baseline"},
             {"seeds", {1, 2}},
             {"mean_clean_accuracy", 0.9},
             {"sem_clean_accuracy", 0.01},
             {"corruptions", {noise}},
             {"minimum_norms", {pgd}},
             {"mean_alignment_score", nullptr}}}},
          {"warnings", {"<b>classes missing</b>"}}};
}

nlohmann::json predictivityReport() {
  const nlohmann::json layers = {
      {{"tap", "stem"}, {"mean_median_r", 0.2}, {"sem_median_r", 0.01}, {"mean_normalized_median_r", 0.3}},
      {{"tap", "stage1"}, {"mean_median_r", 0.4567}, {"sem_median_r", 0.02}, {"mean_normalized_median_r", 0.6}}};
  return {{"format", "brainprior predictivity report"},
          {"version", 1},
          {"config", {{"method", "ridge"}, {"folds", 3}}},
          {"neural", {{"path", "population.h5"}, {"images", 75}, {"neurons", 12}, {"median_ceiling", 0.7}}},
          {"models",
           {{{"name", "baseline-seed1"},
             {"launch", "baseline"},
             {"seed", 1},
             {"test_accuracy", 0.9},
             {"best_layer", "stage1"},
             {"layers", {{{"tap", "stem"}, {"median_r", 0.2}}, {{"tap", "stage1"}, {"median_r", 0.45}}}}}}},
          {"launches",
           {{{"name", "baseline"},
             {"seeds", {1}},
             {"mean_test_accuracy", 0.9},
             {"mean_best_median_r", 0.45},
             {"layers", layers}}}}};
}

SimilarityMatrix smallMatrix(std::int64_t size) {
  FeatureMatrix features;
  features.rows = size;
  features.cols = 4;
  for (std::int64_t i = 0; i < size * 4; ++i) features.values.push_back(static_cast<float>((i * 7) % 11) / 11.0f);
  for (std::int64_t r = 0; r < size; ++r) features.imageIds.push_back(r);
  features.source = "test";
  return computeSimilarity(features);
}

// A small synthetic population over striped 16 x 16 images, saved as static HDF5.
std::filesystem::path writePopulation(const std::filesystem::path& dir) {
  test::writeStripedIdxSplit(dir / "stripes", "train", 90, 1, 16);
  const ImageDataset images = loadImageDataset(dir / "stripes");
  SyntheticV1Config config;
  config.neuronCount = 16;
  config.trainImages = 50;
  config.validationImages = 10;
  config.testImages = 10;
  config.testRepeats = 4;
  const auto file = dir / "population.h5";
  writeStaticHdf5(generateSyntheticV1(images, config).dataset, file);
  return file;
}

}  // namespace

class ReportTest : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void encodesBase64LikeRfc4648() {
    QCOMPARE(encodeBase64(""), std::string());
    QCOMPARE(encodeBase64("f"), std::string("Zg=="));
    QCOMPARE(encodeBase64("fo"), std::string("Zm8="));
    QCOMPARE(encodeBase64("foo"), std::string("Zm9v"));
    QCOMPARE(encodeBase64("foob"), std::string("Zm9vYg=="));
    QCOMPARE(encodeBase64("fooba"), std::string("Zm9vYmE="));
    QCOMPARE(encodeBase64("foobar"), std::string("Zm9vYmFy"));
    const std::uint8_t high[] = {0xFF, 0xFE, 0x00};
    QCOMPARE(encodeBase64(high, 3), std::string("//4A"));
  }

  void niceTicksCoverTheRangeInRoundSteps() {
    const AxisTicks ticks = niceTicks(0.13, 0.87, 5);
    QVERIFY(ticks.low <= 0.13 && ticks.high >= 0.87);
    QCOMPARE(ticks.step, 0.1);
    QCOMPARE(ticks.decimals, 1);
    QCOMPARE(ticks.values.size(), std::size_t{9});  // 0.1 .. 0.9
    QCOMPARE(niceTicks(0.0, 100.0, 5).step, 20.0);
    const AxisTicks flat = niceTicks(3.0, 3.0);
    QVERIFY(flat.low < 3.0 && flat.high > 3.0);
    const AxisTicks none = niceTicks(std::nan(""), std::nan(""));
    QCOMPARE(none.low, 0.0);
    QCOMPARE(none.high, 1.0);
  }

  void lineChartDrawsEachSeriesWithDataAndSkipsNaN() {
    LineChart chart;
    chart.title = "Accuracy & loss";
    chart.xLabel = "epoch";
    chart.yLabel = "test accuracy";
    const double nan = std::nan("");
    chart.series.push_back({"<script>", {1, 2, 3}, {0.5, nan, 0.7}, {0.01, 0.02, 0.03}, -1, 0});
    chart.series.push_back({"second", {1, 2}, {0.4, 0.6}, {}, -1, 1});
    chart.series.push_back({"empty", {1, 2}, {nan, nan}, {}, -1, 0});
    const std::string svg = renderLineChartSvg(chart);
    QVERIFY(svg.rfind("<svg ", 0) == 0);
    QVERIFY(svg.size() > 7 && svg.compare(svg.size() - 7, 7, "</svg>\n") == 0);
    QCOMPARE(count(svg, "<polyline"), std::size_t{2});
    QCOMPARE(count(svg, "<circle"), std::size_t{4});  // 2 + 2 finite points
    QCOMPARE(count(svg, "class=\"error-bar\""), std::size_t{2});
    QVERIFY(svg.find(">epoch</text>") != std::string::npos);
    QVERIFY(svg.find(">test accuracy</text>") != std::string::npos);
    QVERIFY(svg.find("Accuracy &amp; loss") != std::string::npos);
    QVERIFY(svg.find("&lt;script&gt;") != std::string::npos);  // the legend, escaped
    QVERIFY(svg.find("<script>") == std::string::npos);
    QVERIFY(svg.find("nan") == std::string::npos);
    QVERIFY(svg.find("stroke-dasharray") != std::string::npos);
    // Every opened element is closed or self-closed: as many '<' as '>'.
    QCOMPARE(count(svg, "<"), count(svg, ">"));
  }

  void emptyChartSaysNoData() {
    LineChart chart;
    const std::string svg = renderLineChartSvg(chart);
    QVERIFY(svg.find("no data") != std::string::npos);
    QCOMPARE(count(svg, "<polyline"), std::size_t{0});
    QCOMPARE(count(svg, "<"), count(svg, ">"));
  }

  void barChartDrawsOneBarPerFiniteValue() {
    BarChart chart;
    chart.categories = {"stem", "stage1", "stage2"};
    chart.series.push_back({"baseline", {0.2, 0.4, std::nan("")}, {0.01, 0.02, 0.0}});
    chart.series.push_back({"neural", {-0.1, 0.5, 0.3}, {}});
    const std::string svg = renderBarChartSvg(chart);
    QCOMPARE(count(svg, "class=\"bar\""), std::size_t{5});
    QCOMPARE(count(svg, "class=\"error-bar\""), std::size_t{2});
    QVERIFY(svg.find(">stage2</text>") != std::string::npos);
    QVERIFY(svg.find(">neural</text>") != std::string::npos);  // a legend for two series

    const BarChart histogram = histogramChart({0.05, 0.15, 0.15, 0.95, std::nan("")}, 10, "r", "oracle r");
    QCOMPARE(histogram.series.size(), std::size_t{1});
    double total = 0.0;
    for (const double value : histogram.series[0].values) total += value;
    QCOMPARE(total, 4.0);
  }

  void htmlEscapesEveryText() {
    Report report;
    report.title = "A & B";
    ReportSection section;
    section.title = "Runs <b>";
    section.paragraphs.push_back("run \"x\" <script>alert(1)</script>");
    section.tables.push_back({"caption <i>", {"Run", "Accuracy"}, {{"<script>", "0.5"}, {"b", "0.25"}}});
    ReportFigure figure;
    figure.svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"></svg>";
    figure.caption = "a <figure>";
    section.figures.push_back(figure);
    section.listings.push_back({"config <1>", "{\"a\": \"<b>\"}"});
    report.sections.push_back(section);
    const std::string html = renderReportHtml(report);
    QVERIFY(html.rfind("<!DOCTYPE html>", 0) == 0);
    QVERIFY(html.find("<script>") == std::string::npos);
    QVERIFY(html.find("&lt;script&gt;") != std::string::npos);
    QVERIFY(html.find("A &amp; B") != std::string::npos);
    QVERIFY(html.find("Runs &lt;b&gt;") != std::string::npos);
    QVERIFY(html.find("&quot;&lt;b&gt;&quot;") != std::string::npos);
    QVERIFY(html.find("src=\"data:image/svg+xml;base64,") != std::string::npos);
    QVERIFY(html.find("class=\"num\" align=\"right\">0.5<") != std::string::npos);
    QVERIFY(html.find("bgcolor=") != std::string::npos);  // zebra rows Qt's rich text draws too

    const std::string named = renderReportHtml(
        report, [](const ReportFigure&, std::size_t index) { return "figure:" + std::to_string(index); });
    QVERIFY(named.find("src=\"figure:0\"") != std::string::npos);
  }

  void buildsEverySectionFromItsInputs() {
    test::ScratchDir dir;
    ReportInputs inputs;
    inputs.title = "Stripes <comparison>";
    inputs.neuralDataset = writePopulation(dir.path());
    writeSimilarityMatrix(smallMatrix(6), dir / "matrix.h5");
    inputs.matrices = {dir / "matrix.h5"};
    writeRun(dir / "runs", "baseline", 1, "none", 0.0, 0.8125);
    writeRun(dir / "runs", "baseline", 2, "none", 0.0, 0.7875);
    writeRun(dir / "runs", "<script>", 1, "neural_similarity", 2.0, 0.84);
    inputs.runs = {dir / "runs"};
    writeFileAtomically(dir / "probe.json", probeReport().dump());
    inputs.probeReport = dir / "probe.json";
    writeFileAtomically(dir / "predictivity.json", predictivityReport().dump());
    inputs.predictivityReport = dir / "predictivity.json";
    inputs.project = {{"name", "stripes project"}};

    std::vector<double> fractions;
    const Job job([&](double fraction, const std::string&) { fractions.push_back(fraction); }, nullptr);
    const Report report = buildReport(inputs, job);
    QVERIFY(!fractions.empty());
    QCOMPARE(fractions.back(), 1.0);
    QCOMPARE(report.title, std::string("Stripes <comparison>"));
    std::vector<std::string> titles;
    for (const auto& section : report.sections) titles.push_back(section.title);
    const std::vector<std::string> expected = {
        "Summary", "Neural data", "Similarity matrices", "Training", "Robustness", "Predictivity", "Configs"};
    QCOMPARE(titles, expected);

    // The summary starts with what was found, and with what must not be read as a finding.
    const ReportSection* summary = findSection(report, "Summary");
    QVERIFY(sectionHasCell(*summary, "Training, baseline"));
    QVERIFY(sectionHasCell(*summary, "test accuracy 0.800 (mean of 2 seeds)"));
    QVERIFY(sectionHasCell(*summary, "Robustness, baseline"));
    QVERIFY(sectionHasCell(*summary, "clean accuracy 0.900, gaussian_noise area 0.654"));
    QVERIFY(std::any_of(summary->paragraphs.begin(), summary->paragraphs.end(), [](const std::string& paragraph) {
      return paragraph == "Not a finding: Robustness: <b>classes missing</b>";
    }));
    const ReportSection* neural = findSection(report, "Neural data");
    QVERIFY(sectionHasCell(*neural, "Oracle r"));
    QVERIFY(sectionHasCell(*neural, "40"));  // test trials: 10 images shown 4 times
    QCOMPARE(neural->figures.size(), std::size_t{2});
    const ReportSection* matrices = findSection(report, "Similarity matrices");
    QVERIFY(sectionHasCell(*matrices, "matrix.h5"));
    QCOMPARE(matrices->figures.size(), std::size_t{2});  // the heatmap, then the histogram of its values
    // The histogram holds every one of the 15 pairs, and its caption describes them.
    const std::regex bar("<rect class=\"bar\"");
    const std::string& histogram = matrices->figures[1].svg;
    QVERIFY(std::distance(std::sregex_iterator(histogram.begin(), histogram.end(), bar), std::sregex_iterator()) > 0);
    QVERIFY2(matrices->figures[1].caption.rfind("matrix.h5: median ", 0) == 0, matrices->figures[1].caption.c_str());
    // The heatmap comes with its colour bar: the viridis gradient and ticks within the values' range.
    const std::string& heatmap = matrices->figures[0].svg;
    QVERIFY(heatmap.find("data:image/png;base64,") != std::string::npos);
    QVERIFY(heatmap.find("<linearGradient id=\"colourbar\"") != std::string::npos);
    // SVG clamps a falling stop offset to the one before it: the offsets must rise.
    const std::regex stopOffset("<stop offset=\"([0-9.]+)\"");
    double previousOffset = -1.0;
    for (auto it = std::sregex_iterator(heatmap.begin(), heatmap.end(), stopOffset); it != std::sregex_iterator(); ++it) {
      const double offset = std::stod((*it)[1].str());
      QVERIFY(offset > previousOffset);
      previousOffset = offset;
    }
    QCOMPARE(previousOffset, 1.0);
    const auto drawn = smallMatrix(6);
    const auto [low, high] = std::minmax_element(drawn.values.begin(), drawn.values.end());
    const std::regex tickLabel(">(-?[0-9.]+)</text>");
    int ticks = 0;
    for (auto it = std::sregex_iterator(heatmap.begin(), heatmap.end(), tickLabel); it != std::sregex_iterator(); ++it) {
      const double tick = std::stod((*it)[1].str());
      QVERIFY2(tick >= *low - 1e-6 && tick <= *high + 1e-6, (*it)[1].str().c_str());
      ++ticks;
    }
    QVERIFY(ticks >= 2);
    QVERIFY(matrices->figures[0].caption.find("6 \u00d7 6 centred-cosine similarity") != std::string::npos);
    const ReportSection* training = findSection(report, "Training");
    QVERIFY(sectionHasCell(*training, "0.8125"));
    QVERIFY(sectionHasCell(*training, "0.8000"));  // the baseline's mean over seeds 1 and 2
    QVERIFY(sectionHasCell(*training, "2.000"));   // the neural launch's alpha
    QCOMPARE(training->figures.size(), std::size_t{2});
    const ReportSection* robustness = findSection(report, "Robustness");
    QVERIFY(sectionHasCell(*robustness, "0.654 \u00b1 0.012"));
    QVERIFY(sectionHasCell(*robustness, "0.0321"));
    QCOMPARE(robustness->figures.size(), std::size_t{1});
    const ReportSection* predictivity = findSection(report, "Predictivity");
    QVERIFY(sectionHasCell(*predictivity, "0.457 \u00b1 0.020"));
    QVERIFY(sectionHasCell(*predictivity, "stage1"));
    QCOMPARE(figureCount(report), std::size_t{8});
    const ReportSection* configs = findSection(report, "Configs");
    QCOMPARE(configs->listings.size(), std::size_t{3 + 2 + 1});  // runs, probe and predictivity, project

    const auto file = dir / "out" / "report.html";
    std::filesystem::create_directories(file.parent_path());
    writeReportHtml(report, file);
    const std::string html = readTextFile(file);
    QVERIFY(html.find("<script>") == std::string::npos);
    QVERIFY(html.find("&lt;script&gt;-seed1") != std::string::npos);
    // Every figure is SVG; the heatmap's cells are a PNG inside its SVG, beside the colour bar.
    QCOMPARE(count(html, "<img src=\"data:image/png;base64,"), std::size_t{0});
    QCOMPARE(count(html, "<img src=\"data:image/svg+xml;base64,"), std::size_t{8});
    QVERIFY(html.find("stripes project") != std::string::npos);
    QCOMPARE(count(html, "<details><summary>"), configs->listings.size());  // configs folded away
  }

  void aSweepOverAlphaDrawsItsTradeOff() {
    test::ScratchDir dir;
    writeFileAtomically(dir / "probe.json", test::alphaSweepProbeReport().dump());
    ReportInputs inputs;
    inputs.probeReport = dir / "probe.json";
    const Report report = buildReport(inputs);
    const ReportSection* robustness = findSection(report, "Robustness");
    QVERIFY(robustness);
    // The noise curves, then clean accuracy against the noise area and against the median L2.
    QCOMPARE(robustness->figures.size(), std::size_t{3});
    const std::string& caption = robustness->figures[1].caption;
    QVERIFY2(caption.find("neural_similarity: alpha 0.5, 2; shuffled control: alpha 0.5, 2") !=
                 std::string::npos,
             caption.c_str());
    QVERIFY(robustness->figures[2].caption.find("median L2 of pgd_l2_search") != std::string::npos);
    // Three series: the baseline's point and the two targets' lines.
    QCOMPARE(count(robustness->figures[1].svg, "<polyline"), std::size_t{3});
  }

  void brokenInputsNameTheirFile() {
    test::ScratchDir dir;
    writeSimilarityMatrix(smallMatrix(40), dir / "matrix.h5");
    const std::string bytes = test::readBytes(dir / "matrix.h5");
    test::writeBytes(dir / "truncated.h5", bytes.substr(0, bytes.size() / 2));
    ReportInputs inputs;
    inputs.matrices = {dir / "truncated.h5"};
    try {
      buildReport(inputs);
      QFAIL("a truncated matrix file was read");
    } catch (const Error& error) {
      QVERIFY2(std::string(error.what()).find("truncated.h5") != std::string::npos, error.what());
    }

    const std::string probe = probeReport().dump();
    test::writeBytes(dir / "cut.json", probe.substr(0, probe.size() / 2));
    ReportInputs cut;
    cut.probeReport = dir / "cut.json";
    QVERIFY_THROWS_EXCEPTION(FileError, buildReport(cut));
    ReportInputs wrong;
    wrong.predictivityReport = dir / "cut.json";
    test::writeBytes(dir / "cut.json", probe);  // a probe report where a predictivity report belongs
    try {
      buildReport(wrong);
      QFAIL("a probe report was read as a predictivity report");
    } catch (const FileError& error) {
      QVERIFY2(std::string(error.what()).find("cut.json") != std::string::npos, error.what());
    }

    test::writeBytes(dir / "model.pt", "not a model");
    ReportInputs model;
    model.models = {dir / "model.pt"};
    try {
      buildReport(model);
      QFAIL("a garbage model was read");
    } catch (const FileError& error) {
      QVERIFY2(std::string(error.what()).find("model.pt") != std::string::npos, error.what());
    }
  }

  void cancelledJobStops() {
    test::ScratchDir dir;
    writeSimilarityMatrix(smallMatrix(6), dir / "matrix.h5");
    ReportInputs inputs;
    inputs.matrices = {dir / "matrix.h5"};
    auto token = std::make_shared<CancelToken>();
    token->cancel();
    QVERIFY_THROWS_EXCEPTION(CancelledError, buildReport(inputs, Job({}, token)));
  }

  void recognisesWhatAPathHolds() {
    test::ScratchDir dir;
    const auto demo = dir / "demo";
    std::filesystem::create_directories(demo / "runs");
    writeFileAtomically(demo / "demo.json", nlohmann::json({{"format", "brainprior demo"}}).dump());
    test::writeBytes(demo / "v1-model.pt", "weights");
    test::writeBytes(demo / "target.h5", "matrix");
    std::filesystem::create_directories(demo / "probe");
    writeFileAtomically(demo / "probe" / "report.json", probeReport().dump());
    const ReportInputs fromDemo = reportInputsFromFolder(demo);
    QCOMPARE(fromDemo.demo.value(), demo);
    QVERIFY(fromDemo.defaultNeuralDataset);
    QCOMPARE(fromDemo.models, std::vector<std::filesystem::path>{demo / "v1-model.pt"});
    QCOMPARE(fromDemo.matrices, std::vector<std::filesystem::path>{demo / "target.h5"});
    QCOMPARE(fromDemo.runs, std::vector<std::filesystem::path>{demo / "runs"});
    QCOMPARE(fromDemo.probeReport.value(), demo / "probe" / "report.json");
    QCOMPARE(reportInputsFromFolder(demo / "demo.json").demo.value(), demo);

    writeRun(dir / "runs", "baseline", 1, "none", 0.0, 0.8);
    std::filesystem::create_directories(dir / "runs" / "predictivity-report");
    writeFileAtomically(dir / "runs" / "predictivity-report" / "report.json", predictivityReport().dump());
    const ReportInputs fromRuns = reportInputsFromFolder(dir / "runs");
    QCOMPARE(fromRuns.runs, std::vector<std::filesystem::path>{dir / "runs"});
    QVERIFY(!fromRuns.probeReport);
    QCOMPARE(fromRuns.predictivityReport.value(), dir / "runs" / "predictivity-report" / "report.json");
    QCOMPARE(reportInputsFromFolder(dir / "runs" / "baseline-seed1").runs.size(), std::size_t{1});
    QCOMPARE(reportInputsFromFolder(dir / "runs" / "predictivity-report").predictivityReport.value(),
             dir / "runs" / "predictivity-report" / "report.json");

    writeSimilarityMatrix(smallMatrix(6), dir / "matrix.h5");
    QCOMPARE(reportInputsFromFolder(dir / "matrix.h5").matrices.size(), std::size_t{1});
    const auto population = writePopulation(dir.path());
    QCOMPARE(reportInputsFromFolder(population).neuralDataset.value(), population);

    ReportInputs merged = fromDemo;
    mergeReportInputs(merged, fromRuns);
    QCOMPARE(merged.runs.size(), std::size_t{2});
    QVERIFY(merged.predictivityReport.has_value());
    ReportInputs otherProbe;
    otherProbe.probeReport = dir / "other.json";
    QVERIFY_THROWS_EXCEPTION(Error, mergeReportInputs(merged, otherProbe));

    test::writeBytes(dir / "notes.txt", "garbage");
    for (const auto& bad : {dir / "notes.txt", dir / "missing-folder"}) {
      try {
        reportInputsFromFolder(bad);
        QFAIL("garbage was recognised");
      } catch (const FileError& error) {
        QVERIFY2(std::string(error.what()).find(bad.filename().string()) != std::string::npos, error.what());
      }
    }
  }
};

BRAINPRIOR_TEST_CLASS(ReportTest)
#include "test_report.moc"
