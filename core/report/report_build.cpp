// buildReport: reads each input into its section; the Summary and Configs sections are made last
// from what the others found.
#include <algorithm>
#include <cmath>
#include <ctime>
#include <limits>
#include <map>
#include <set>

#include "classifiers/run_registry.h"
#include "data/dataset_io.h"
#include "data/default_data.h"
#include "measures/dataset_summary.h"
#include "measures/reliability.h"
#include "probing/alpha_trade_off.h"
#include "report/report_sections.h"
#include "report/svg_chart.h"
#include "runtime/number_format.h"
#include "runtime/atomic_file.h"
#include "runtime/config_reader.h"
#include "runtime/error.h"
#include "runtime/runtime.h"
#include "runtime/clock.h"

namespace bp {
namespace report_detail {

namespace fs = std::filesystem;

ReportFigure svgFigure(const std::string& svg, int width, int height, const std::string& caption) {
  ReportFigure figure;
  figure.svg = svg;
  figure.width = width;
  figure.height = height;
  figure.caption = caption;
  return figure;
}

namespace {

constexpr const char* kProbeFormat = "brainprior probe report";
constexpr const char* kPredictivityFormat = "brainprior predictivity report";
constexpr const char* kDemoFormat = "brainprior demo";


std::string joinedSeeds(const std::vector<std::uint64_t>& seeds) {
  std::string text;
  for (std::size_t i = 0; i < seeds.size(); ++i) text += (i > 0 ? ", " : "") + std::to_string(seeds[i]);
  return text;
}

std::string jsonText(const nlohmann::json& object, const char* key) {
  if (!object.is_object() || !object.contains(key)) return std::string();
  const nlohmann::json& value = object.at(key);
  return value.is_string() ? value.get<std::string>() : value.dump();
}

// A report file the engine wrote, checked for its format; FileError otherwise.
nlohmann::json readReportJson(const fs::path& file, const char* format, const char* what) {
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(readTextFile(file));
  } catch (const nlohmann::json::exception& error) {
    throw FileError(file.string(), std::string("corrupt or truncated JSON: ") + error.what());
  }
  if (!json.is_object() || json.value("format", std::string()) != format)
    throw FileError(file.string(), std::string("is not a ") + what);
  return json;
}

// Runs a section reader over a JSON file, turning a missing key or a wrong type into a FileError.
template <class Read>
auto readingJson(const fs::path& file, Read read) -> decltype(read()) {
  try {
    return read();
  } catch (const nlohmann::json::exception& error) {
    throw FileError(file.string(), std::string("unexpected content: ") + error.what());
  }
}

// ---- Neural data --------------------------------------------------------------------------------

std::vector<std::string> quantileRow(const std::string& measure, const Quantiles& q, int decimals) {
  return {measure,
          std::to_string(q.count),
          formatFixed(q.min, decimals),
          formatFixed(q.p05, decimals),
          formatFixed(q.p25, decimals),
          formatFixed(q.median, decimals),
          formatFixed(q.p75, decimals),
          formatFixed(q.p95, decimals),
          formatFixed(q.max, decimals)};
}

ReportSection neuralDataSection(const NeuralDataset& dataset, const Job& job) {
  const NeuronReliability reliability = computeReliability(dataset, {}, job.subJob(0.0, 0.7));
  const DatasetSummary summary = summarizeDataset(dataset, reliability, job.subJob(0.7, 1.0));
  ReportSection section;
  section.title = "Neural data";
  section.paragraphs.push_back(
      summary.name + (summary.sourcePath.empty() ? " (generated)" : " from " + summary.sourcePath) + ": " +
      std::to_string(summary.neurons) + " neurons, " + std::to_string(summary.presentTrials) + " trials of " +
      std::to_string(summary.allTiers.uniqueImages) + " images (" + std::to_string(summary.channels) + " \u00d7 " +
      std::to_string(summary.height) + " \u00d7 " + std::to_string(summary.width) + " pixels).");
  if (summary.missingTrials > 0)
    section.paragraphs.push_back(std::to_string(summary.missingTrials) + " of " +
                                 std::to_string(summary.declaredTrials) + " declared trials have no data.");

  ReportTable trials;
  trials.caption = "Trials and repeats by tier";
  trials.header = {"Tier", "Trials", "Images", "Repeated images", "Most repeats"};
  for (const auto& [tier, repeats] : summary.tiers)
    trials.rows.push_back({tierName(tier), std::to_string(repeats.trials), std::to_string(repeats.uniqueImages),
                           std::to_string(repeats.repeatedImages), std::to_string(repeats.maxRepeats)});
  const ImageRepeats& all = summary.allTiers;
  trials.rows.push_back({"all", std::to_string(all.trials), std::to_string(all.uniqueImages),
                         std::to_string(all.repeatedImages), std::to_string(all.maxRepeats)});
  section.tables.push_back(std::move(trials));

  ReportTable quality;
  quality.caption = "Reliability of the neurons over " + std::to_string(summary.repeatedTrials) +
                    " trials of repeated images (quantiles over neurons)";
  quality.header = {"Measure", "Neurons", "Min", "5%", "25%", "Median", "75%", "95%", "Max"};
  quality.rows.push_back(quantileRow("Oracle r", summary.oracleCorrelation, 3));
  quality.rows.push_back(quantileRow("Explainable variance fraction", summary.explainableVarianceFraction, 3));
  quality.rows.push_back(quantileRow("SNR", summary.snr, 2));
  if (summary.neuronNoiseFreeCorrelation)
    quality.rows.push_back(quantileRow("r with the noise-free rates", *summary.neuronNoiseFreeCorrelation, 3));
  section.tables.push_back(std::move(quality));
  section.paragraphs.push_back(
      "Oracle r: the jackknife correlation of each trial's response with the mean of the other repeats of its "
      "image (the neuralpredictors definition). Explainable variance fraction: the share of a neuron's variance "
      "that repeats of an image agree on.");

  if (summary.neuronsWithOracleCorrelation > 0) {
    BarChart oracle =
        histogramChart(reliability.oracleCorrelation, 20, "Oracle correlation of the neurons", "oracle r");
    oracle.yLabel = "neurons";
    section.figures.push_back(svgFigure(renderBarChartSvg(oracle), oracle.width, oracle.height,
                                        "Distribution of the oracle correlation over " +
                                            std::to_string(summary.neuronsWithOracleCorrelation) + " neurons."));
    BarChart explainable = histogramChart(reliability.explainableVarianceFraction, 20, "Explainable variance fraction",
                                          "explainable variance fraction");
    explainable.yLabel = "neurons";
    section.figures.push_back(svgFigure(renderBarChartSvg(explainable), explainable.width, explainable.height,
                                        "Distribution of the explainable variance fraction over the neurons."));
  } else {
    section.paragraphs.push_back("No image was shown twice, so the reliability of the neurons is unknown.");
  }
  return section;
}

// ---- Training -----------------------------------------------------------------------------------

std::vector<RunRecord> readRuns(const std::vector<fs::path>& folders) {
  std::vector<RunRecord> records;
  std::set<fs::path> seen;
  for (const auto& folder : folders) {
    std::vector<RunRecord> found;
    if (isRunFolder(folder)) {
      found.push_back(readRun(folder));
    } else {
      found = listRuns(folder);
      if (found.empty()) throw FileError(folder.string(), "holds no training run");
    }
    for (auto& record : found)
      if (seen.insert(fs::weakly_canonical(record.folder)).second) records.push_back(std::move(record));
  }
  return records;
}

// The regularizer's strength as its config says it: alpha, or the harmonization weight.
std::string regularizerStrength(const RunRecord& record) {
  const nlohmann::json config = record.summary.value("config", nlohmann::json::object());
  const nlohmann::json regularizer =
      config.is_object() ? config.value("regularizer", nlohmann::json::object()) : nlohmann::json::object();
  if (record.regularizer == "neural_similarity") return formatFixed(numberAt(regularizer, "alpha"), 3);
  if (record.regularizer == "harmonization" && regularizer.contains("harmonization"))
    return formatFixed(numberAt(regularizer.at("harmonization"), "weight"), 3);
  return "\u2014";
}

ReportSection trainingSection(const std::vector<RunRecord>& records, ReportContext& context) {
  ReportSection section;
  section.title = "Training";
  const std::vector<RunGroup> groups = compareRuns(records);
  std::map<std::string, std::size_t> launchIndex;
  for (std::size_t g = 0; g < groups.size(); ++g) launchIndex[groups[g].name] = g;

  ReportTable launches;
  launches.caption = "Launches (the runs of one config over seeds; statistics over finished runs)";
  launches.header = {"Launch", "Regularizer", "Target", "Runs",           "Finished", "Seeds", "Mean test accuracy",
                     "SD",     "Min",         "Max",    "Minutes per run"};
  for (const RunGroup& group : groups) {
    if (group.finished > 0)
      context.findings.push_back({"Training, " + group.name,
                                  "test accuracy " + formatFixed(group.meanTestAccuracy, 3) +
                                      (group.finished > 1 ? " (mean of " + std::to_string(group.finished) + " seeds)" : "")});
    launches.rows.push_back({group.name, group.regularizer, group.target.empty() ? "\u2014" : group.target,
                             std::to_string(group.runs), std::to_string(group.finished),
                             joinedSeeds(group.finishedSeeds), formatFixed(group.meanTestAccuracy, 4),
                             formatFixed(group.sdTestAccuracy, 4), formatFixed(group.minTestAccuracy, 4),
                             formatFixed(group.maxTestAccuracy, 4), formatFixed(group.meanSeconds / 60.0, 1)});
  }
  section.tables.push_back(std::move(launches));

  ReportTable runs;
  runs.caption = "Runs";
  runs.header = {"Run",
                 "Launch",
                 "State",
                 "Seed",
                 "Epochs",
                 "Regularizer",
                 "Alpha / weight",
                 "Test accuracy",
                 "Validation accuracy",
                 "Device",
                 "Minutes"};
  LineChart accuracy;
  accuracy.title = "Test accuracy per epoch";
  accuracy.xLabel = "epoch";
  accuracy.yLabel = "test accuracy";
  LineChart loss;
  loss.title = "Training loss per epoch";
  loss.xLabel = "epoch";
  loss.yLabel = "mean loss (classification + regularization)";
  std::map<std::string, int> seedsSeen;
  for (const RunRecord& record : records) {
    runs.rows.push_back({record.name, record.group, runStateName(record.state), std::to_string(record.seed),
                         std::to_string(record.epochsDone) + " / " + std::to_string(record.epochs), record.regularizer,
                         regularizerStrength(record), formatFixed(record.testAccuracy, 4),
                         formatFixed(record.validationAccuracy, 4), record.device.empty() ? "\u2014" : record.device,
                         formatFixed(record.seconds / 60.0, 1)});
    if (!record.error.empty()) section.paragraphs.push_back(record.name + ": " + record.error);
    if (!record.history.empty()) {
      ChartSeries accuracySeries;
      accuracySeries.name = record.name;
      accuracySeries.colour = static_cast<int>(launchIndex[record.group]);
      accuracySeries.dash = seedsSeen[record.group]++ % 3;
      ChartSeries lossSeries = accuracySeries;
      for (const auto& epoch : record.history) {
        accuracySeries.x.push_back(epoch.epoch);
        accuracySeries.y.push_back(epoch.testAccuracy);
        lossSeries.x.push_back(epoch.epoch);
        lossSeries.y.push_back(epoch.totalLoss);
      }
      accuracy.series.push_back(std::move(accuracySeries));
      loss.series.push_back(std::move(lossSeries));
    }
    if (record.summary.contains("config"))
      context.configs.push_back({"Run " + record.name, record.summary.at("config").dump(2)});
    if (record.summary.contains("runtime"))
      context.runtimes.emplace_back("run " + record.name, record.summary.at("runtime"));
  }
  section.tables.push_back(std::move(runs));
  if (!accuracy.series.empty()) {
    section.figures.push_back(svgFigure(renderLineChartSvg(accuracy), accuracy.width, accuracy.height,
                                        "Clean test accuracy after every epoch; one colour per launch, one line "
                                        "style per seed."));
    section.figures.push_back(svgFigure(renderLineChartSvg(loss), loss.width, loss.height,
                                        "Mean optimised loss over each epoch's batches (cross-entropy plus the "
                                        "weighted regularizer)."));
  }
  return section;
}

// ---- Robustness ---------------------------------------------------------------------------------

// The median smallest perturbation in the attack's own norm.
double medianInNorm(const nlohmann::json& attack, const char* prefix) {
  const std::string norm = attack.value("norm", std::string("linf"));
  return numberAt(attack, (std::string(prefix) + (norm == "l2" ? "l2" : "linf")).c_str());
}

ReportSection robustnessSection(const fs::path& file, ReportContext& context) {
  const nlohmann::json report = readReportJson(file, kProbeFormat, "probe report");
  return readingJson(file, [&] {
    ReportSection section;
    section.title = "Robustness";
    const nlohmann::json& launches = report.at("launches");
    const nlohmann::json& models = report.at("models");
    const nlohmann::json images = report.value("images", nlohmann::json::object());
    section.paragraphs.push_back(
        std::to_string(models.size()) + " models of " + std::to_string(launches.size()) + " launches, probed on " +
        jsonText(images, "count") + " test images of " + jsonText(images, "path") + " (" + jsonText(images, "split") +
        "). Launch values are the mean \u00b1 SEM over seeds; minimum-norm columns give the median smallest "
        "perturbation that changes the answer, averaged over seeds (\u221e: more than half of the images were never "
        "fooled).");
    for (const auto& warning : report.value("warnings", nlohmann::json::array())) {
      section.paragraphs.push_back("Warning: " + warning.get<std::string>());
      context.warnings.push_back("Robustness: " + warning.get<std::string>());
    }
    for (const auto& launch : launches) {
      std::string finding = "clean accuracy " + formatFixed(numberAt(launch, "mean_clean_accuracy"), 3);
      for (const auto& sweep : launch.value("corruptions", nlohmann::json::array()))
        finding += ", " + jsonText(sweep, "kind") + " area " + formatFixed(numberAt(sweep, "mean_area"), 3);
      context.findings.push_back({"Robustness, " + jsonText(launch, "name"), finding});
    }

    const nlohmann::json first = launches.empty() ? nlohmann::json::object() : launches.front();
    const nlohmann::json sweeps = first.value("corruptions", nlohmann::json::array());
    const nlohmann::json attacks = first.value("minimum_norms", nlohmann::json::array());
    bool alignment = false;
    for (const auto& launch : launches)
      alignment = alignment || std::isfinite(numberAt(launch, "mean_alignment_score"));

    std::vector<std::string> header = {"Launch", "Seeds", "Clean accuracy"};
    for (const auto& sweep : sweeps) header.push_back(jsonText(sweep, "kind") + " area");
    for (const auto& attack : attacks) header.push_back(jsonText(attack, "attack") + " " + jsonText(attack, "norm"));
    if (alignment) header.push_back("Alignment");

    ReportTable launchTable;
    launchTable.caption = "Robustness per launch";
    launchTable.header = header;
    for (const auto& launch : launches) {
      std::vector<std::string> row = {
          jsonText(launch, "name"), joinedSeeds(launch.value("seeds", std::vector<std::uint64_t>())),
          formatMeanSem(numberAt(launch, "mean_clean_accuracy"), numberAt(launch, "sem_clean_accuracy"), 3)};
      const nlohmann::json curves = launch.value("corruptions", nlohmann::json::array());
      for (std::size_t i = 0; i < sweeps.size(); ++i)
        row.push_back(i < curves.size()
                          ? formatMeanSem(numberAt(curves[i], "mean_area"), numberAt(curves[i], "sem_area"), 3)
                          : "\u2014");
      const nlohmann::json norms = launch.value("minimum_norms", nlohmann::json::array());
      for (std::size_t i = 0; i < attacks.size(); ++i)
        row.push_back(i < norms.size() ? formatFixed(medianInNorm(norms[i], "mean_median_"), 4) : "\u2014");
      if (alignment)
        row.push_back(
            formatMeanSem(numberAt(launch, "mean_alignment_score"), numberAt(launch, "sem_alignment_score"), 3));
      launchTable.rows.push_back(std::move(row));
    }
    section.tables.push_back(std::move(launchTable));

    ReportTable modelTable;
    modelTable.caption = "Robustness per model";
    modelTable.header = header;
    modelTable.header[0] = "Model";
    modelTable.header[1] = "Seed";
    modelTable.header.insert(modelTable.header.begin() + 1, "Launch");
    for (const auto& model : models) {
      std::vector<std::string> row = {jsonText(model, "name"), jsonText(model, "launch"), jsonText(model, "seed"),
                                      formatFixed(numberAt(model, "clean_accuracy"), 3)};
      const nlohmann::json curves = model.value("corruptions", nlohmann::json::array());
      for (std::size_t i = 0; i < sweeps.size(); ++i)
        row.push_back(i < curves.size() ? formatFixed(numberAt(curves[i], "area"), 3) : "\u2014");
      const nlohmann::json norms = model.value("minimum_norms", nlohmann::json::array());
      for (std::size_t i = 0; i < attacks.size(); ++i)
        row.push_back(i < norms.size() ? formatFixed(medianInNorm(norms[i], "median_"), 4) : "\u2014");
      if (alignment)
        row.push_back(formatFixed(numberAt(model.value("alignment", nlohmann::json::object()), "score"), 3));
      modelTable.rows.push_back(std::move(row));
    }
    section.tables.push_back(std::move(modelTable));

    for (std::size_t i = 0; i < sweeps.size(); ++i) {
      LineChart chart;
      chart.title = jsonText(sweeps[i], "kind");
      chart.xLabel = "severity";
      chart.yLabel = "accuracy";
      for (const auto& launch : launches) {
        const nlohmann::json curves = launch.value("corruptions", nlohmann::json::array());
        if (i >= curves.size()) continue;
        ChartSeries series;
        series.name = jsonText(launch, "name");
        for (const auto& value : curves[i].at("severities")) series.x.push_back(numberOrNaN(value));
        for (const auto& value : curves[i].at("mean_accuracies")) series.y.push_back(numberOrNaN(value));
        for (const auto& value : curves[i].value("sem_accuracies", nlohmann::json::array()))
          series.error.push_back(numberOrNaN(value));
        chart.series.push_back(std::move(series));
      }
      section.figures.push_back(svgFigure(
          renderLineChartSvg(chart), chart.width, chart.height,
          "Accuracy under " + chart.title + " of growing severity, mean \u00b1 SEM over each launch's seeds."));
    }
    // Over a sweep of alpha: clean accuracy against each robustness measure, one point per alpha.
    std::vector<std::pair<AlphaTradeOffMeasure, std::string>> measures;
    for (std::size_t i = 0; i < sweeps.size(); ++i)
      measures.push_back({{AlphaTradeOffMeasure::Kind::CorruptionArea, i}, jsonText(sweeps[i], "kind") + " area"});
    for (std::size_t i = 0; i < attacks.size(); ++i)
      measures.push_back({{AlphaTradeOffMeasure::Kind::MedianNorm, i},
                          std::string(jsonText(attacks[i], "norm") == "l2" ? "median L2" : "median L\u221e") + " of " +
                              jsonText(attacks[i], "attack")});
    for (const auto& [measure, label] : measures) {
      const std::vector<AlphaTradeOffSeries> tradeOff = alphaTradeOff(report, measure);
      if (tradeOff.empty()) break;
      LineChart chart;
      chart.title = "Clean accuracy and " + label + " over alpha";
      chart.xLabel = "clean accuracy";
      chart.yLabel = label;
      std::string alphas;
      for (const AlphaTradeOffSeries& one : tradeOff) {
        ChartSeries series;
        series.name = one.name;
        std::string values;
        for (const AlphaTradeOffPoint& point : one.points) {
          series.x.push_back(point.clean);
          series.y.push_back(point.robustness);
          series.error.push_back(point.robustnessSem);
          if (std::isfinite(point.alpha)) values += (values.empty() ? "" : ", ") + formatCompact(point.alpha);
        }
        if (!values.empty()) alphas += (alphas.empty() ? "" : "; ") + one.name + ": alpha " + values;
        chart.series.push_back(std::move(series));
      }
      section.figures.push_back(svgFigure(
          renderLineChartSvg(chart), chart.width, chart.height,
          "The trade-off over alpha: each line joins one target's launches in increasing alpha (" + alphas +
              "), single points are launches without one; " + label +
              " mean \u00b1 SEM over seeds (the clean accuracies' SEMs are in the table). Up and to the right is "
              "more robust at a higher accuracy."));
    }
    if (report.contains("config")) context.configs.push_back({"Probe config", report.at("config").dump(2)});
    if (report.contains("runtime")) context.runtimes.emplace_back("probe", report.at("runtime"));
    return section;
  });
}

// ---- Predictivity -------------------------------------------------------------------------------

ReportSection predictivitySection(const fs::path& file, ReportContext& context) {
  const nlohmann::json report = readReportJson(file, kPredictivityFormat, "predictivity report");
  return readingJson(file, [&] {
    ReportSection section;
    section.title = "Predictivity";
    const nlohmann::json neural = report.value("neural", nlohmann::json::object());
    const nlohmann::json config = report.value("config", nlohmann::json::object());
    const nlohmann::json& launches = report.at("launches");
    const nlohmann::json& models = report.at("models");
    section.paragraphs.push_back(
        "How well each layer's features predict " + jsonText(neural, "neurons") + " neurons' responses to " +
        jsonText(neural, "images") + " images of " + jsonText(neural, "path") + " (" + jsonText(config, "method") +
        ", " + jsonText(config, "folds") +
        "-fold cross-validation): the median over neurons of the correlation between prediction and response, "
        "and that median divided by the neurons' split-half ceilings (median ceiling " +
        formatFixed(numberAt(neural, "median_ceiling"), 3) + ").");

    ReportTable launchTable;
    launchTable.caption = "Predictivity per launch (mean \u00b1 SEM over seeds)";
    launchTable.header = {"Launch", "Seeds", "Test accuracy", "Best-layer median r"};
    ReportTable layerTable;
    layerTable.caption = "Predictivity per launch and layer (mean \u00b1 SEM over seeds)";
    layerTable.header = {"Launch", "Layer", "Median r", "Normalized median r"};
    BarChart chart;
    chart.title = "Median r per layer";
    chart.xLabel = "layer";
    chart.yLabel = "median r";
    if (!launches.empty())
      for (const auto& layer : launches.front().at("layers")) chart.categories.push_back(jsonText(layer, "tap"));
    for (const auto& launch : launches) {
      launchTable.rows.push_back(
          {jsonText(launch, "name"), joinedSeeds(launch.value("seeds", std::vector<std::uint64_t>())),
           formatMeanSem(numberAt(launch, "mean_test_accuracy"), numberAt(launch, "sem_test_accuracy"), 4),
           formatMeanSem(numberAt(launch, "mean_best_median_r"), numberAt(launch, "sem_best_median_r"), 3)});
      BarSeries series;
      series.name = jsonText(launch, "name");
      std::map<std::string, std::pair<double, double>> byTap;
      for (const auto& layer : launch.at("layers")) {
        layerTable.rows.push_back({jsonText(launch, "name"), jsonText(layer, "tap"),
                                   formatMeanSem(numberAt(layer, "mean_median_r"), numberAt(layer, "sem_median_r"), 3),
                                   formatMeanSem(numberAt(layer, "mean_normalized_median_r"),
                                                 numberAt(layer, "sem_normalized_median_r"), 3)});
        byTap[jsonText(layer, "tap")] = {numberAt(layer, "mean_median_r"), numberAt(layer, "sem_median_r")};
      }
      for (const auto& tap : chart.categories) {
        const auto found = byTap.find(tap);
        series.values.push_back(found == byTap.end() ? std::numeric_limits<double>::quiet_NaN() : found->second.first);
        series.errors.push_back(found == byTap.end() ? std::numeric_limits<double>::quiet_NaN() : found->second.second);
      }
      chart.series.push_back(std::move(series));
    }
    ReportTable modelTable;
    modelTable.caption = "Predictivity per model";
    modelTable.header = {"Model", "Launch", "Seed", "Test accuracy", "Best layer", "Best-layer median r"};
    for (const auto& model : models) {
      const std::string best = jsonText(model, "best_layer");
      double bestMedian = std::numeric_limits<double>::quiet_NaN();
      for (const auto& layer : model.at("layers"))
        if (jsonText(layer, "tap") == best) bestMedian = numberAt(layer, "median_r");
      modelTable.rows.push_back({jsonText(model, "name"), jsonText(model, "launch"), jsonText(model, "seed"),
                                 formatFixed(numberAt(model, "test_accuracy"), 4), best.empty() ? "\u2014" : best,
                                 formatFixed(bestMedian, 3)});
    }
    section.tables.push_back(std::move(launchTable));
    section.tables.push_back(std::move(layerTable));
    section.tables.push_back(std::move(modelTable));
    if (!chart.categories.empty())
      section.figures.push_back(svgFigure(renderBarChartSvg(chart), chart.width, chart.height,
                                          "Median correlation of each layer's cross-validated prediction with the "
                                          "neurons, mean \u00b1 SEM over each launch's seeds."));
    if (report.contains("config")) context.configs.push_back({"Predictivity config", config.dump(2)});
    if (report.contains("runtime")) context.runtimes.emplace_back("predictivity", report.at("runtime"));
    return section;
  });
}

// ---- Demo ---------------------------------------------------------------------------------------

ReportSection demoSection(const fs::path& folder, ReportContext& context) {
  const fs::path file = folder / "demo.json";
  if (!fs::exists(file)) throw FileError(folder.string(), "is not a demo folder (no demo.json)");
  const nlohmann::json demo = readReportJson(file, kDemoFormat, "demo summary");
  return readingJson(file, [&] {
    ReportSection section;
    section.title = "Demo";
    section.paragraphs.push_back(
        "The whole pipeline of Li et al. 2019 on the embedded data, in " +
        formatFixed(numberAt(demo, "seconds") / 60.0, 1) +
        " minutes: synthetic V1 neurons, a predictive model of them, the denoised neural similarity it predicts, "
        "baseline, neural-regularized and shuffled-control classifiers, and their robustness probe.");
    ReportTable steps;
    steps.caption = "The demo's steps";
    steps.header = {"#", "Step", "What it does", "What it found", "Seconds"};
    std::size_t number = 0;
    for (const auto& step : demo.at("steps")) {
      std::string finding = jsonText(step, "finding");
      context.findings.push_back({"Demo, " + jsonText(step, "title"), finding});
      for (const auto& warning : step.value("warnings", nlohmann::json::array())) {
        finding += " Warning: " + warning.get<std::string>() + ".";
        context.warnings.push_back("Demo, " + jsonText(step, "title") + ": " + warning.get<std::string>());
      }
      steps.rows.push_back({std::to_string(++number), jsonText(step, "title"), jsonText(step, "narration"), finding,
                            formatFixed(numberAt(step, "seconds"), 0)});
    }
    section.tables.push_back(std::move(steps));
    if (demo.contains("warning")) section.paragraphs.push_back("Warning: " + demo.at("warning").get<std::string>());
    if (demo.contains("config")) context.configs.push_back({"Demo config", demo.at("config").dump(2)});
    if (demo.contains("runtime")) context.runtimes.emplace_back("demo", demo.at("runtime"));
    return section;
  });
}

// ---- Summary ------------------------------------------------------------------------------------

std::string runtimeKey(const nlohmann::json& runtime) {
  const nlohmann::json versions = runtime.value("versions", nlohmann::json::object());
  const nlohmann::json blas = runtime.value("blas", nlohmann::json::object());
  return jsonText(runtime, "device") + "|" + jsonText(runtime, "threads") + "|" + jsonText(blas, "name") + "|" +
         jsonText(versions, "brainprior") + "|" + jsonText(versions, "libtorch");
}

ReportSection summarySection(const ReportInputs& inputs, const std::vector<RunRecord>& records,
                             const ReportContext& context, const Report& report) {
  ReportSection section;
  section.title = "Summary";
  const RuntimeInfo& runtime = runtimeInfo();
  std::string contents;
  for (const auto& other : report.sections) contents += (contents.empty() ? "" : ", ") + other.title;
  section.paragraphs.push_back("Made " + report.created + " by BrainPrior " + runtime.brainpriorVersion +
                               (contents.empty() ? "." : "; it shows: " + contents + "."));
  // What was found comes first, and what must not be read as a finding right beside it.
  for (const std::string& warning : context.warnings) section.paragraphs.push_back("Not a finding: " + warning);
  if (!context.findings.empty()) {
    ReportTable findings;
    findings.caption = "What was found (details in the sections below)";
    findings.header = {"Where", "Finding"};
    for (const auto& [where, finding] : context.findings) findings.rows.push_back({where, finding});
    section.tables.push_back(std::move(findings));
  }

  ReportTable sources;
  sources.caption = "Inputs";
  sources.header = {"What", "Path"};
  if (inputs.demo) sources.rows.push_back({"Demo", inputs.demo->string()});
  if (inputs.neuralDataset) {
    sources.rows.push_back({"Neural data", inputs.neuralDataset->string()});
  } else if (inputs.defaultNeuralDataset) {
    sources.rows.push_back({"Neural data", "the embedded synthetic V1 population"});
  }
  for (const auto& matrix : inputs.matrices) sources.rows.push_back({"Similarity matrix", matrix.string()});
  for (const auto& model : inputs.models) sources.rows.push_back({"Neural model", model.string()});
  for (const auto& runs : inputs.runs) sources.rows.push_back({"Training runs", runs.string()});
  if (inputs.probeReport) sources.rows.push_back({"Probe report", inputs.probeReport->string()});
  if (inputs.predictivityReport) sources.rows.push_back({"Predictivity report", inputs.predictivityReport->string()});
  if (!sources.rows.empty()) section.tables.push_back(std::move(sources));

  ReportTable made;
  made.caption = "This report was made with";
  made.header = {"Item", "Value"};
  made.rows = {{"BrainPrior", runtime.brainpriorVersion},
               {"LibTorch", runtime.libtorchVersion},
               {"OpenCV", runtime.opencvVersion},
               {"HDF5", runtime.hdf5Version},
               {"Compiler", runtime.compiler},
               {"Device", runtime.device},
               {"Threads", std::to_string(runtime.threads)},
               {"BLAS", runtime.blas.name}};
  section.tables.push_back(std::move(made));

  // Results computed the same way (device, threads, BLAS, versions) share one row.
  std::vector<std::pair<std::string, std::vector<std::string>>> groups;
  std::map<std::string, nlohmann::json> groupRuntime;
  for (const auto& [source, recorded] : context.runtimes) {
    const std::string key = runtimeKey(recorded);
    auto found = std::find_if(groups.begin(), groups.end(), [&](const auto& group) { return group.first == key; });
    if (found == groups.end()) {
      groups.push_back({key, {}});
      found = groups.end() - 1;
      groupRuntime[key] = recorded;
    }
    found->second.push_back(source);
  }
  if (!groups.empty()) {
    ReportTable computed;
    computed.caption = "Where the results were computed";
    computed.header = {"Results", "Device", "Threads", "BLAS", "BrainPrior", "LibTorch"};
    for (const auto& [key, names] : groups) {
      std::string list;
      for (std::size_t i = 0; i < names.size() && i < 6; ++i) list += (i > 0 ? ", " : "") + names[i];
      if (names.size() > 6) list += " and " + std::to_string(names.size() - 6) + " more";
      const nlohmann::json& recorded = groupRuntime[key];
      const nlohmann::json versions = recorded.value("versions", nlohmann::json::object());
      computed.rows.push_back({list, jsonText(recorded, "device"), jsonText(recorded, "threads"),
                               jsonText(recorded.value("blas", nlohmann::json::object()), "name"),
                               jsonText(versions, "brainprior"), jsonText(versions, "libtorch")});
    }
    section.tables.push_back(std::move(computed));
  }

  if (!records.empty()) {
    std::string seeds = "Training seeds: ";
    for (const RunGroup& group : compareRuns(records)) {
      std::vector<std::uint64_t> all;
      for (const RunRecord& record : records)
        if (record.group == group.name) all.push_back(record.seed);
      seeds += group.name + " " + joinedSeeds(all) + "; ";
    }
    seeds.resize(seeds.size() - 2);
    section.paragraphs.push_back(seeds +
                                 ". Every other seed (data splits, corruptions, attacks, folds) is in the "
                                 "configs at the end.");
  }
  return section;
}

}  // namespace
}  // namespace report_detail

Report buildReport(const ReportInputs& inputs, const Job& job) {
  using namespace report_detail;
  Report report;
  report.title = inputs.title.empty() ? "BrainPrior report" : inputs.title;
  report.created = utcTimestamp();
  ReportContext context;
  job.throwIfCancelled();

  std::optional<NeuralDataset> dataset;
  if (inputs.neuralDataset) {
    job.progress(0.0, "Reading " + inputs.neuralDataset->filename().string());
    dataset = loadNeuralDataset(*inputs.neuralDataset, job.subJob(0.0, 0.1));
  } else if (inputs.defaultNeuralDataset) {
    job.progress(0.0, "Generating the embedded population");
    dataset = generateDefaultDataset({}, job.subJob(0.0, 0.1)).dataset;
  }
  job.throwIfCancelled();
  if (inputs.demo) report.sections.push_back(demoSection(*inputs.demo, context));
  if (dataset) {
    job.progress(0.1, "Summarizing the neural data");
    report.sections.push_back(neuralDataSection(*dataset, job.subJob(0.1, 0.2)));
  }
  job.throwIfCancelled();
  if (!inputs.matrices.empty()) {
    job.progress(0.2, "Drawing the similarity matrices");
    report.sections.push_back(similarityMatricesSection(inputs.matrices, context, job.subJob(0.2, 0.4)));
  }
  job.throwIfCancelled();
  if (!inputs.models.empty()) {
    job.progress(0.4, "Reading the models");
    report.sections.push_back(
        modelFitSection(inputs.models, dataset ? &*dataset : nullptr, context, job.subJob(0.4, 0.8)));
  }
  job.throwIfCancelled();
  std::vector<RunRecord> records;
  if (!inputs.runs.empty()) {
    job.progress(0.8, "Reading the training runs");
    records = readRuns(inputs.runs);
    report.sections.push_back(trainingSection(records, context));
  }
  job.throwIfCancelled();
  if (inputs.probeReport) report.sections.push_back(robustnessSection(*inputs.probeReport, context));
  if (inputs.predictivityReport) report.sections.push_back(predictivitySection(*inputs.predictivityReport, context));
  job.throwIfCancelled();

  if (!inputs.project.is_null()) context.configs.push_back({"Project", inputs.project.dump(2)});
  if (!context.configs.empty()) {
    ReportSection configs;
    configs.title = "Configs";
    configs.paragraphs.push_back("Every config the results above were made with, as the engine reads them back.");
    configs.listings = std::move(context.configs);
    report.sections.push_back(std::move(configs));
  }
  report.sections.insert(report.sections.begin(), summarySection(inputs, records, context, report));
  job.progress(1.0, "Report ready");
  return report;
}

}  // namespace bp
