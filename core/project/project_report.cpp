#include "project/project_report.h"

#include <algorithm>

namespace bp {
namespace fs = std::filesystem;

ReportInputs reportInputsFromProject(const Project& project, const fs::path& projectFile) {
  ReportInputs inputs;
  inputs.title = projectFile.stem().string();
  inputs.project = toJson(project, projectFile);
  const auto has = [&](const std::string& key) {
    const auto found = project.files.find(key);
    return found != project.files.end() && fs::exists(found->second);
  };
  if (has("data.neural")) inputs.neuralDataset = project.files.at("data.neural");
  else inputs.defaultNeuralDataset = project.panels.value("data", nlohmann::json::object()).value("source", "") == "default";
  for (const auto& [key, path] : project.files) {
    if (!fs::exists(path)) continue;
    if (key.rfind("models.", 0) == 0) inputs.models.push_back(path);
    if (key == "similarity.a" || key == "similarity.b") inputs.matrices.push_back(path);
  }
  // The runs of the Training and Comparison tabs are often the same folder: listed once.
  for (const char* key : {"training.runs", "comparison.runs"})
    if (has(key) && std::find(inputs.runs.begin(), inputs.runs.end(), project.files.at(key)) == inputs.runs.end())
      inputs.runs.push_back(project.files.at(key));
  if (has("comparison.probe_report")) inputs.probeReport = project.files.at("comparison.probe_report");
  if (has("comparison.predictivity_report")) inputs.predictivityReport = project.files.at("comparison.predictivity_report");
  return inputs;
}

}  // namespace bp
