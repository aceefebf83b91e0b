#pragma once
// Reports of a project or a comparison: one self-contained HTML file (and, through the GUI, a PDF)
// that says what was done and what came out: the neural data and its reliability, similarity
// matrices, model fits, training runs and their curves, the robustness probe and the neural
// predictivity, a demo's story, and the configs, seeds, versions and devices behind them.
//
// A report is built in two steps: buildReport reads the inputs (the files the engine writes: run
// folders, probe and predictivity report.json, model files and their metrics, matrix files, neural
// datasets, demo.json) into a Report of plain sections, tables and figures; renderReportHtml writes
// it out. Free of LibTorch and Qt, so the GUI can hold a Report and print it (app/report_pdf.h).
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/job.h"

namespace bp {

// What a report is made of. Every path is read by buildReport; each section appears only when its
// input is there.
struct ReportInputs {
  std::string title;                                   // empty: "BrainPrior report"
  std::optional<std::filesystem::path> neuralDataset;  // any neural format dataset_io.h reads
  bool defaultNeuralDataset = false;            // the embedded synthetic population (ignored when neuralDataset is set)
  std::vector<std::filesystem::path> models;    // neural model files (.pt), with <file>.metrics.json when present
  std::vector<std::filesystem::path> matrices;  // similarity matrix files (rsa/matrix_file.h)
  std::vector<std::filesystem::path> runs;      // run folders or folders of runs
  std::optional<std::filesystem::path> probeReport;         // a probe's report.json
  std::optional<std::filesystem::path> predictivityReport;  // a predictivity report.json
  std::optional<std::filesystem::path> demo;                // a demo folder (with demo.json)
  nlohmann::json project;  // provenance of the project the report is of, embedded as is when not null
};

// What `path` holds, as report inputs:
//   a demo folder (demo.json)   the demo, its v1-model.pt, target.h5, runs/, probe/report.json and the
//                               embedded population it ran on
//   a folder of runs            its runs, and probe-report/report.json and predictivity-report/report.json
//                               inside it (where the GUI's Comparison tab and `--output-dir` put them)
//   a run folder (summary.json) that run
//   a report.json / demo.json   the probe or predictivity report, or the demo folder
//   a folder holding report.json  that report (a probe's or predictivity's --output-dir)
//   a .pt file                  a neural model
//   an HDF5 file                a similarity matrix file, else a neural dataset
//   a neural dataset            a file tree or any other neural format
// Throws FileError naming the path when it is missing or none of these.
ReportInputs reportInputsFromFolder(const std::filesystem::path& path);

// Adds `from` to `into`: lists are appended (a path already there is not repeated), the first
// title wins, and two different neural datasets, probe reports, predictivity reports or demos are a
// bp::Error naming both. An explicit neural dataset takes the place of the default one.
void mergeReportInputs(ReportInputs& into, const ReportInputs& from);

struct ReportTable {
  std::string caption;  // may be empty
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;  // each as long as the header
};

// A chart or an image: exactly one of svg and png is set. width and height are its natural size in
// CSS pixels (how large it is shown).
struct ReportFigure {
  std::string caption;
  std::string svg;
  std::vector<std::uint8_t> png;
  int width = 0;
  int height = 0;
};

// Preformatted text (a config as pretty-printed JSON).
struct ReportListing {
  std::string title;
  std::string text;
};

// Shown in this order: paragraphs, tables, figures, listings.
struct ReportSection {
  std::string title;
  std::vector<std::string> paragraphs;
  std::vector<ReportTable> tables;
  std::vector<ReportFigure> figures;
  std::vector<ReportListing> listings;
};

struct Report {
  std::string title;
  std::string created;  // UTC, ISO 8601
  std::vector<ReportSection> sections;
};

// Figures over all sections, in the order renderReportHtml numbers them.
std::size_t figureCount(const Report& report);

// Reads every input into sections: Summary (inputs, versions, device, threads, seeds, where each
// result was computed), Demo, Neural data, Similarity matrices, Model fit, Training, Robustness,
// Predictivity, Configs. Throws FileError naming a missing, truncated or wrong file, bp::Error for
// inputs that cannot be reported together, CancelledError when the job is cancelled.
Report buildReport(const ReportInputs& inputs, const Job& job = {});

// What an <img src> says for a figure; `index` counts figures over the whole report from 0.
using ReportFigureSource = std::function<std::string(const ReportFigure& figure, std::size_t index)>;

// The report as one HTML5 file: a table of contents, the sections, CSS for screen and print, every
// text HTML-escaped. Figures are data: URLs (image/svg+xml or image/png, base64) unless
// `figureSource` names them otherwise (the PDF writer passes resource names). Tables also carry
// border/cellpadding/bgcolor attributes, so that Qt's rich-text subset draws them too.
std::string renderReportHtml(const Report& report, const ReportFigureSource& figureSource = {});

// renderReportHtml written atomically (FileError naming `file` when it cannot be written).
void writeReportHtml(const Report& report, const std::filesystem::path& file);

}  // namespace bp
