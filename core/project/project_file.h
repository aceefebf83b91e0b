#pragma once
// A BrainPrior project: what a user had open and how the window looked, saved as versioned JSON
// (`*.brainprior`) so that a session of exploration can be closed and reopened identically.
//
// A project holds references, not data: every file it needs (datasets, fitted models, similarity
// matrices, run folders, reports) is named in `files` by a key that says what it is for (e.g.
// "data.neural", "models.0", "similarity.a", "probe.runs.0"). Content that exists only in memory
// when the project is saved (a model fitted but never saved, a computed matrix) is written by the
// GUI into the project's files folder (`<name>.files/` beside the project) first, so the project
// never refers to something that is gone.
//
// Each path is stored twice: absolute, and relative to the project's folder. On reading, the
// absolute path wins when it exists; otherwise the relative one does (a project copied to another
// machine together with its files); otherwise the file is missing and relocateProjectFile()
// applies the place the user points to (and the same move to the other missing files).
//
// Format history (kProjectFormatVersion): 1, the first. readProject() migrates every older version
// it knows to the current one and refuses newer ones by name; tests keep a frozen file of every
// version, so old projects keep opening.
#include <cstddef>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace bp {

inline constexpr int kProjectFormatVersion = 1;
inline constexpr const char* kProjectFormat = "brainprior project";
inline constexpr const char* kProjectExtension = ".brainprior";

struct Project {
  // The files the project uses, by key (see above). Absolute after readProject().
  std::map<std::string, std::filesystem::path> files;
  // Settings of each panel that are not files (a probe's image index and attack, a form's
  // config), by panel name. Opaque to the engine: the GUI writes and reads them.
  nlohmann::json panels = nlohmann::json::object();
  // The window: geometry, dock state, open tabs, the current tab, presentation mode.
  nlohmann::json layout = nlohmann::json::object();
  // Provenance, set by writeProject(): the version that saved it and when (ISO 8601, UTC).
  std::string savedBy;
  std::string savedAt;
};

// Keys: {"format": "brainprior project", "version", "saved_by", "saved_at", "files": {key:
// {"path", "relative"}}, "panels", "layout"}. Relative paths are relative to `projectFile`'s folder.
nlohmann::json toJson(const Project& project, const std::filesystem::path& projectFile);
// Parses (and migrates) a project read from `projectFile`, resolving paths against its folder.
// Throws bp::Error naming what is wrong: not a project, a version newer than this build reads, a
// file entry without a path.
Project projectFromJson(const nlohmann::json& json, const std::filesystem::path& projectFile);

// Atomic (temp file + rename): a full disk or a crash leaves the previous project intact.
// Sets savedBy and savedAt in the file (not in `project`).
void writeProject(const Project& project, const std::filesystem::path& file);
// FileError naming the file when it cannot be read, is not JSON, or is not a project this build reads.
Project readProject(const std::filesystem::path& file);
// The same from the file's text (`file` names it in errors and anchors its relative paths).
Project parseProject(const std::string& text, const std::filesystem::path& file);

// The keys of the files that do not exist, in key order.
std::vector<std::string> missingProjectFiles(const Project& project);

// The user says missing file `key` is now at `newPath`. Sets it, then applies the same move to
// every other missing file: the part of the old path that changed (the old folder prefix) is
// replaced by the new one where that makes the file exist, so a moved folder of data is found in
// one answer. Returns the keys it relocated, `key` first. Throws bp::Error for an unknown key or
// a `newPath` that does not exist.
std::vector<std::string> relocateProjectFile(Project& project, const std::string& key,
                                             const std::filesystem::path& newPath);

// The folder beside `projectFile` where the GUI writes content that had no file: "<stem>.files".
std::filesystem::path projectFilesFolder(const std::filesystem::path& projectFile);

}  // namespace bp
