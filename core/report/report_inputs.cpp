// reportInputsFromFolder and mergeReportInputs: what a path holds, as report inputs.
#include <algorithm>
#include <fstream>

#include "classifiers/run_registry.h"
#include "data/dataset_io.h"
#include "data/hdf5_file.h"
#include "data/static_hdf5.h"
#include "report/report.h"
#include "rsa/matrix_file.h"
#include "runtime/atomic_file.h"
#include "runtime/error.h"
#include "runtime/job.h"

namespace bp {
namespace {

namespace fs = std::filesystem;

constexpr const char* kProbeFormat = "brainprior probe report";
constexpr const char* kPredictivityFormat = "brainprior predictivity report";
constexpr const char* kDemoFormat = "brainprior demo";

// The "format" of a BrainPrior JSON file; FileError when it is not JSON.
std::string jsonFormat(const fs::path& file) {
  try {
    const nlohmann::json json = nlohmann::json::parse(readTextFile(file));
    return json.is_object() ? json.value("format", std::string()) : std::string();
  } catch (const nlohmann::json::exception& error) {
    throw FileError(file.string(), std::string("not a JSON file: ") + error.what());
  }
}

void addReportFile(ReportInputs& inputs, const fs::path& file, const std::string& format) {
  if (format == kProbeFormat) {
    inputs.probeReport = file;
  } else if (format == kPredictivityFormat) {
    inputs.predictivityReport = file;
  } else {
    throw FileError(file.string(), "is neither a probe nor a predictivity report");
  }
}

void addDemo(ReportInputs& inputs, const fs::path& folder) {
  inputs.demo = folder;
  inputs.defaultNeuralDataset = true;  // the demo runs on the embedded population
  if (fs::exists(folder / "v1-model.pt")) inputs.models.push_back(folder / "v1-model.pt");
  if (fs::exists(folder / "target.h5")) inputs.matrices.push_back(folder / "target.h5");
  if (fs::is_directory(folder / "runs")) inputs.runs.push_back(folder / "runs");
  if (fs::exists(folder / "probe" / "report.json")) inputs.probeReport = folder / "probe" / "report.json";
}

bool holdsRuns(const fs::path& folder) {
  for (const auto& entry : fs::directory_iterator(folder))
    if (entry.is_directory() && isRunFolder(entry.path())) return true;
  return false;
}

template <class T>
void appendNew(std::vector<T>& into, const std::vector<T>& from) {
  for (const auto& item : from)
    if (std::find(into.begin(), into.end(), item) == into.end()) into.push_back(item);
}

void mergeOne(std::optional<fs::path>& into, const std::optional<fs::path>& from, const char* what) {
  if (!from) return;
  if (into && *into != *from)
    throw Error("report: two " + std::string(what) + " given (" + into->string() + " and " + from->string() +
                "); a report holds one");
  into = from;
}

}  // namespace

ReportInputs reportInputsFromFolder(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw FileError(path.string(), "does not exist");
  ReportInputs inputs;
  if (fs::is_directory(path, ec)) {
    if (fs::exists(path / "demo.json")) {
      addDemo(inputs, path);
    } else if (isRunFolder(path)) {
      inputs.runs.push_back(path);
    } else if (holdsRuns(path)) {
      inputs.runs.push_back(path);
      if (fs::exists(path / "probe-report" / "report.json")) inputs.probeReport = path / "probe-report" / "report.json";
      if (fs::exists(path / "predictivity-report" / "report.json"))
        inputs.predictivityReport = path / "predictivity-report" / "report.json";
    } else if (fs::exists(path / "report.json")) {
      addReportFile(inputs, path / "report.json", jsonFormat(path / "report.json"));
    } else if (const auto format = detectDatasetFormat(path); format && isNeuralFormat(*format)) {
      inputs.neuralDataset = path;
    } else {
      throw FileError(path.string(), "holds nothing a report shows (no demo, runs, report.json or neural dataset)");
    }
    return inputs;
  }

  const std::string extension = path.extension().string();
  if (extension == ".json") {
    const std::string format = jsonFormat(path);
    if (format == kDemoFormat) {
      addDemo(inputs, path.parent_path());
    } else if (format == kRunSummaryFormat) {
      inputs.runs.push_back(path.parent_path());
    } else {
      addReportFile(inputs, path, format);
    }
  } else if (extension == ".pt") {
    inputs.models.push_back(path);
  } else if (looksLikeHdf5(path)) {
    if (isSimilarityMatrixFile(path)) {
      inputs.matrices.push_back(path);
    } else {
      inputs.neuralDataset = path;
    }
  } else if (const auto format = detectDatasetFormat(path); format && isNeuralFormat(*format)) {
    inputs.neuralDataset = path;
  } else {
    throw FileError(path.string(),
                    "is not something a report shows (a demo, runs, a report.json, a model, a matrix or a "
                    "neural dataset)");
  }
  return inputs;
}

void mergeReportInputs(ReportInputs& into, const ReportInputs& from) {
  if (into.title.empty()) into.title = from.title;
  mergeOne(into.neuralDataset, from.neuralDataset, "neural datasets");
  into.defaultNeuralDataset = into.defaultNeuralDataset || from.defaultNeuralDataset;
  appendNew(into.models, from.models);
  appendNew(into.matrices, from.matrices);
  appendNew(into.runs, from.runs);
  mergeOne(into.probeReport, from.probeReport, "probe reports");
  mergeOne(into.predictivityReport, from.predictivityReport, "predictivity reports");
  mergeOne(into.demo, from.demo, "demos");
  if (into.project.is_null()) into.project = from.project;
}

}  // namespace bp
