// The Model fit section: each neural model file, its metrics file beside it, and its test
// correlation on the report's neural data when the model fits it.
#include <algorithm>
#include <cmath>
#include <limits>

#include "models/neural_model.h"
#include "report/report_sections.h"
#include "report/svg_chart.h"
#include "runtime/config_reader.h"
#include "runtime/number_format.h"
#include "runtime/atomic_file.h"
#include "runtime/error.h"
#include "training/neural_trainer.h"
#include "runtime/undefined.h"

namespace bp::report_detail {
namespace {


std::string joined(const std::vector<int>& values, const char* separator) {
  std::string text;
  for (std::size_t i = 0; i < values.size(); ++i) text += (i > 0 ? separator : "") + std::to_string(values[i]);
  return text;
}

bool fitsDataset(const NeuralModelConfig& config, const NeuralDataset& dataset) {
  return dataset.neuronCount == config.neuronCount && dataset.channels == config.inputChannels &&
         dataset.height == config.inputHeight && dataset.width == config.inputWidth;
}

// <model>.metrics.json (model_commands.cpp and the GUI's saveModel write it); null when absent.
nlohmann::json readMetrics(const std::filesystem::path& model) {
  const std::filesystem::path file = model.string() + ".metrics.json";
  if (!std::filesystem::exists(file)) return nullptr;
  try {
    nlohmann::json metrics = nlohmann::json::parse(readTextFile(file));
    if (!metrics.is_object()) throw FileError(file.string(), "not a neural fit metrics file");
    return metrics;
  } catch (const nlohmann::json::exception& error) {
    throw FileError(file.string(), std::string("corrupt metrics file: ") + error.what());
  }
}

}  // namespace

ReportSection modelFitSection(const std::vector<std::filesystem::path>& files, const NeuralDataset* dataset,
                              ReportContext& context, const Job& job) {
  ReportSection section;
  section.title = "Model fit";
  ReportTable table;
  table.caption = "Predictive models of the neurons";
  table.header = {"Model",      "Core",          "Layers (kernel / channels)", "Readout", "Neurons",
                  "Parameters", "Epochs (best)", "Best validation r",          "Test r",  "Fraction of oracle",
                  "FEVE",       "Tested on"};
  LineChart curve;
  curve.title = "Validation correlation per epoch";
  curve.xLabel = "epoch";
  curve.yLabel = "mean validation r";
  for (std::size_t m = 0; m < files.size(); ++m) {
    job.throwIfCancelled();
    const std::filesystem::path& file = files[m];
    // A model of several recordings is reported by its first recording's model (the one its
    // metrics' test figures pool with the others); its name says so.
    const std::vector<FittedNeuralModel> recordings = loadNeuralModels(file);
    const FittedNeuralModel& fitted = recordings.front();
    const std::string name =
        file.filename().string() + (recordings.size() > 1 ? " (" + fitted.recording + ", first of " +
                                                                 std::to_string(recordings.size()) + " recordings)"
                                                           : std::string());
    const NeuralModelConfig& config = fitted.model->config();
    std::int64_t parameters = 0;
    for (const auto& parameter : fitted.model->parameters()) parameters += parameter.numel();
    const nlohmann::json metrics = readMetrics(file);

    const nlohmann::json fit =
        metrics.is_object() ? metrics.value("fit", nlohmann::json::object()) : nlohmann::json::object();
    ChartSeries series;
    series.name = name;
    std::string epochs = "\u2014";
    try {
      for (const auto& line : fit.value("history", nlohmann::json::array())) {
        const NeuralEpochReport report = neuralEpochReportFromJson(line);
        series.x.push_back(report.epoch);
        series.y.push_back(report.validationCorrelation);
      }
      if (!series.x.empty())
        epochs = std::to_string(series.x.size()) + " (" + std::to_string(fit.value("best_epoch", 0)) + ")";
    } catch (const nlohmann::json::exception& error) {
      throw FileError(file.string() + ".metrics.json", std::string("unexpected fit history: ") + error.what());
    }
    const double bestValidation = numberAt(fit, "best_validation_correlation");

    double testCorrelation = kUndefined;
    double fractionOfOracle = kUndefined;
    double feve = kUndefined;
    std::string testedOn = "\u2014";
    const Job modelJob = job.subJob(static_cast<double>(m) / static_cast<double>(files.size()),
                                    static_cast<double>(m + 1) / static_cast<double>(files.size()));
    if (dataset && fitsDataset(config, *dataset)) {
      const NeuralModelEvaluation evaluation = evaluateNeuralModel(fitted, *dataset, Tier::Test, modelJob);
      testCorrelation = evaluation.meanAverageCorrelation;
      fractionOfOracle = evaluation.fractionOfOracleSlope;
      feve = evaluation.meanFeve;
      testedOn = dataset->name + " (test tier)";
    } else if (metrics.is_object() && metrics.contains("test_evaluation")) {
      const nlohmann::json& evaluation = metrics.at("test_evaluation");
      testCorrelation = numberAt(evaluation, "mean_average_correlation");
      fractionOfOracle = numberAt(evaluation, "fraction_of_oracle_slope");
      feve = numberAt(evaluation, "mean_feve");
      testedOn = "its fit's data (metrics file)";
    }
    // A negative FEVe beside a positive correlation: predictions at the wrong level, not a finding.
    const bool negativeFeve = std::isfinite(feve) && feve < 0.0;
    if (negativeFeve)
      context.warnings.push_back("model " + name + ": FEVE " + formatFixed(feve, 3) + " is negative although its test r is " +
                                 formatFixed(testCorrelation, 3) +
                                 ": its predictions follow the responses at the wrong level; read the correlations");
    table.rows.push_back(
        {name, coreKindName(config.core), joined(config.kernelSizes, ", ") + " / " + joined(config.channels, ", "),
         readoutKindName(config.readout), std::to_string(config.neuronCount), std::to_string(parameters), epochs,
         formatFixed(bestValidation, 3), formatFixed(testCorrelation, 3), formatFixed(fractionOfOracle, 3),
         formatFixed(feve, 3) + (negativeFeve ? " \u26a0" : ""), testedOn});
    if (!series.x.empty()) curve.series.push_back(std::move(series));

    nlohmann::json listing = {{"model", toJson(config)}};
    if (metrics.is_object() && metrics.contains("trainer")) listing["trainer"] = metrics.at("trainer");
    context.configs.push_back({"Model " + name, listing.dump(2)});
    if (metrics.is_object() && metrics.contains("runtime"))
      context.runtimes.emplace_back("model " + name, metrics.at("runtime"));
  }
  section.paragraphs.push_back(
      "Test r: the mean over neurons of the correlation between the prediction and the repeat-averaged "
      "response on the test images; fraction of oracle: the slope of single-trial r against the oracle r "
      "through the origin; FEVE: the fraction of explainable variance explained.");
  section.tables.push_back(std::move(table));
  if (!curve.series.empty())
    section.figures.push_back(svgFigure(renderLineChartSvg(curve), curve.width, curve.height,
                                        "Mean validation correlation of each model after every epoch of its fit."));
  return section;
}

}  // namespace bp::report_detail
