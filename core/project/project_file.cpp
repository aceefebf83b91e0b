#include "project/project_file.h"

#include <ctime>

#include "runtime/atomic_file.h"
#include "runtime/build_info.h"
#include "runtime/error.h"
#include "runtime/clock.h"

namespace bp {
namespace fs = std::filesystem;
namespace {


// Migrations from each older format version to the next, applied in turn by projectFromJson. The
// first format is the current one, so there is none yet; a change of format adds a step here and
// a frozen file of the old version to the tests.
nlohmann::json migrated(nlohmann::json json, int version) {
  if (version != kProjectFormatVersion)
    throw Error("project format version " + std::to_string(version) + " has no migration to version " +
                std::to_string(kProjectFormatVersion));
  return json;
}

fs::path resolved(const nlohmann::json& entry, const std::string& key, const fs::path& folder) {
  if (!entry.is_object() || !entry.contains("path") || !entry.at("path").is_string())
    throw Error("the project's file \"" + key + "\" has no path");
  const fs::path absolute = entry.at("path").get<std::string>();
  if (fs::exists(absolute)) return absolute;
  const std::string relative = entry.value("relative", std::string());
  if (!relative.empty()) {
    const fs::path candidate = (folder / relative).lexically_normal();
    if (fs::exists(candidate)) return candidate;
  }
  return absolute;
}

}  // namespace

nlohmann::json toJson(const Project& project, const fs::path& projectFile) {
  const fs::path folder = fs::absolute(projectFile).parent_path();
  nlohmann::json files = nlohmann::json::object();
  for (const auto& [key, path] : project.files) {
    const fs::path absolute = fs::absolute(path).lexically_normal();
    files[key] = {{"path", absolute.string()}, {"relative", absolute.lexically_relative(folder).string()}};
  }
  return {{"format", kProjectFormat},        {"version", kProjectFormatVersion}, {"saved_by", project.savedBy},
          {"saved_at", project.savedAt},     {"files", files},                   {"panels", project.panels},
          {"layout", project.layout}};
}

Project projectFromJson(const nlohmann::json& json, const fs::path& projectFile) {
  if (!json.is_object() || json.value("format", std::string()) != kProjectFormat)
    throw Error("not a BrainPrior project (no \"format\": \"" + std::string(kProjectFormat) + "\")");
  if (!json.contains("version") || !json.at("version").is_number_integer())
    throw Error("the project has no format version");
  const int version = json.at("version").get<int>();
  if (version > kProjectFormatVersion)
    throw Error("the project was saved in format version " + std::to_string(version) + " by BrainPrior " +
                json.value("saved_by", std::string("(unknown)")) + "; this BrainPrior reads versions up to " +
                std::to_string(kProjectFormatVersion) + ". Open it with a newer BrainPrior.");
  if (version < 1) throw Error("the project has an invalid format version " + std::to_string(version));
  const nlohmann::json current = migrated(json, version);

  Project project;
  const fs::path folder = fs::absolute(projectFile).parent_path();
  const nlohmann::json files = current.value("files", nlohmann::json::object());
  if (!files.is_object()) throw Error("the project's \"files\" is not an object");
  for (const auto& [key, entry] : files.items()) project.files[key] = resolved(entry, key, folder);
  project.panels = current.value("panels", nlohmann::json::object());
  project.layout = current.value("layout", nlohmann::json::object());
  project.savedBy = current.value("saved_by", std::string());
  project.savedAt = current.value("saved_at", std::string());
  return project;
}

void writeProject(const Project& project, const fs::path& file) {
  Project stamped = project;
  stamped.savedBy = kBrainPriorVersion;
  stamped.savedAt = utcTimestamp();
  writeFileAtomically(file, toJson(stamped, file).dump(2) + "\n");
}

Project readProject(const fs::path& file) { return parseProject(readTextFile(file), file); }

Project parseProject(const std::string& text, const fs::path& file) {
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& error) {  // a syntax error, or a number too large (out_of_range)
    throw FileError(file.string(), std::string("not a readable project (") + error.what() + ")");
  }
  try {
    return projectFromJson(json, file);
  } catch (const FileError&) {
    throw;
  } catch (const Error& error) {
    throw FileError(file.string(), error.what());
  } catch (const nlohmann::json::exception& error) {
    throw FileError(file.string(), std::string("not a readable project (a value of the wrong type: ") + error.what() + ")");
  }
}

std::vector<std::string> missingProjectFiles(const Project& project) {
  std::vector<std::string> missing;
  for (const auto& [key, path] : project.files)
    if (!fs::exists(path)) missing.push_back(key);
  return missing;
}

std::vector<std::string> relocateProjectFile(Project& project, const std::string& key, const fs::path& newPath) {
  const auto entry = project.files.find(key);
  if (entry == project.files.end()) throw Error("the project has no file \"" + key + "\"");
  if (!fs::exists(newPath)) throw FileError(newPath.string(), "does not exist");
  const fs::path oldPath = entry->second.lexically_normal();
  const fs::path moved = fs::absolute(newPath).lexically_normal();
  entry->second = moved;
  std::vector<std::string> relocated{key};

  // The common tail (e.g. "data/session1/x.h5") stayed; what precedes it is the move.
  std::vector<fs::path> oldParts(oldPath.begin(), oldPath.end());
  std::vector<fs::path> newParts(moved.begin(), moved.end());
  while (!oldParts.empty() && !newParts.empty() && oldParts.back() == newParts.back() && oldParts.size() > 1 &&
         newParts.size() > 1) {
    oldParts.pop_back();
    newParts.pop_back();
  }
  fs::path oldPrefix, newPrefix;
  for (const auto& part : oldParts) oldPrefix /= part;
  for (const auto& part : newParts) newPrefix /= part;

  for (auto& [otherKey, path] : project.files) {
    if (otherKey == key || fs::exists(path)) continue;
    const fs::path rest = path.lexically_normal().lexically_relative(oldPrefix);
    if (rest.empty() || *rest.begin() == "..") continue;
    const fs::path candidate = (newPrefix / rest).lexically_normal();
    if (!fs::exists(candidate)) continue;
    path = candidate;
    relocated.push_back(otherKey);
  }
  return relocated;
}

fs::path projectFilesFolder(const fs::path& projectFile) {
  return projectFile.parent_path() / (projectFile.stem().string() + ".files");
}

}  // namespace bp
