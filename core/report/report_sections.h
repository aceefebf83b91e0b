#pragma once
// Inside the report room: what the section builders share. Each builder reads its inputs and
// returns its section; what it learns about configs and runtimes goes into the ReportContext, from
// which the Summary and Configs sections are made last.
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/neural_dataset.h"
#include "report/report.h"
#include "runtime/job.h"

namespace bp::report_detail {

struct ReportContext {
  std::vector<ReportListing> configs;
  // What the sections found, for the summary at the top: {where, the figure in words}.
  std::vector<std::pair<std::string, std::string>> findings;
  // Figures that are not findings (chance-level accuracy, a failed check, censored medians),
  // gathered where a reader starts.
  std::vector<std::string> warnings;
  // Where each result was computed: {source, the runtime JSON it recorded (runtime.h's toJson)}.
  std::vector<std::pair<std::string, nlohmann::json>> runtimes;
};

// A chart as a figure of its natural size.
ReportFigure svgFigure(const std::string& svg, int width, int height, const std::string& caption);

// One heatmap per matrix file (viridis, at most 512 px a side) with the histogram of its values,
// and a table of their sizes, forms and distributions; degenerate matrices go to the warnings.
ReportSection similarityMatricesSection(const std::vector<std::filesystem::path>& files, ReportContext& context,
                                        const Job& job);

// Per model file: its architecture, fit and test correlation (evaluated on `dataset` when the model
// fits it, else from the metrics file), and the validation correlation per epoch.
ReportSection modelFitSection(const std::vector<std::filesystem::path>& files, const NeuralDataset* dataset,
                              ReportContext& context, const Job& job);

}  // namespace bp::report_detail
