// Project files: a round trip keeps every file, panel setting and layout; paths are found again when
// the project moves with its files; a moved data folder is relocated in one answer; frozen files of
// every format version still open; a newer version, a non-project, broken JSON and a truncated file
// are refused by name; a project that cannot be written names its file.
#include <QtTest>
#include <filesystem>

#include "project/project_file.h"
#include "runtime/atomic_file.h"
#include "runtime/error.h"
#include "test_registry.h"
#include "test_support.h"

using namespace bp;
namespace fs = std::filesystem;

namespace {

void touch(const fs::path& path) {
  fs::create_directories(path.parent_path());
  test::writeBytes(path, "x");
}

Project sampleProject(const fs::path& root) {
  Project project;
  project.files["data.neural"] = root / "data" / "session1" / "scan.h5";
  project.files["models.0"] = root / "data" / "models" / "v1.pt";
  project.files["training.runs"] = root / "runs";
  project.panels = {{"probe", {{"image", 17}, {"corruption", "gaussian_noise"}, {"severity", 0.1}}}};
  project.layout = {{"current_tab", "probe"}, {"tabs", {"data", "probe"}}, {"presentation", false}};
  for (const auto& [key, path] : project.files)
    if (path.has_extension()) touch(path);
    else fs::create_directories(path);
  return project;
}

}  // namespace

class ProjectFileTest : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void roundTripKeepsEverything() {
    test::ScratchDir scratch;
    const Project project = sampleProject(scratch.path());
    const fs::path file = scratch / "study.brainprior";
    writeProject(project, file);
    const Project read = readProject(file);
    QCOMPARE(read.files.size(), project.files.size());
    for (const auto& [key, path] : project.files) QCOMPARE(read.files.at(key), path);
    QCOMPARE(read.panels, project.panels);
    QCOMPARE(read.layout, project.layout);
    QVERIFY(!read.savedBy.empty());
    QCOMPARE(read.savedAt.size(), std::size_t{20});  // 2026-11-30T22:40:00Z
    QVERIFY(missingProjectFiles(read).empty());
    // Stored relative to the project too.
    const auto json = nlohmann::json::parse(readTextFile(file));
    QCOMPARE(json.at("files").at("models.0").at("relative").get<std::string>(), std::string("data/models/v1.pt"));
    QCOMPARE(json.at("version").get<int>(), kProjectFormatVersion);
  }

  void projectMovedWithItsFilesFindsThem() {
    test::ScratchDir scratch;
    const fs::path before = scratch / "before";
    writeProject(sampleProject(before), before / "study.brainprior");
    const fs::path after = scratch / "after";
    fs::rename(before, after);
    const Project read = readProject(after / "study.brainprior");
    QVERIFY(missingProjectFiles(read).empty());
    QCOMPARE(read.files.at("data.neural"), after / "data" / "session1" / "scan.h5");
  }

  void movedDataFolderIsRelocatedInOneAnswer() {
    test::ScratchDir scratch;
    Project project = sampleProject(scratch / "old");
    project.files["elsewhere"] = scratch / "other" / "kept.h5";  // missing, outside the moved folder
    fs::create_directories(scratch / "new");
    fs::rename(scratch / "old" / "data", scratch / "new" / "data");
    auto missing = missingProjectFiles(project);
    QCOMPARE(missing, (std::vector<std::string>{"data.neural", "elsewhere", "models.0"}));

    const auto relocated = relocateProjectFile(project, "data.neural", scratch / "new" / "data" / "session1" / "scan.h5");
    QCOMPARE(relocated, (std::vector<std::string>{"data.neural", "models.0"}));
    QCOMPARE(project.files.at("models.0"), scratch / "new" / "data" / "models" / "v1.pt");
    QCOMPARE(missingProjectFiles(project), (std::vector<std::string>{"elsewhere"}));

    QVERIFY_THROWS_EXCEPTION(Error, relocateProjectFile(project, "elsewhere", scratch / "nowhere.h5"));
    QVERIFY_THROWS_EXCEPTION(Error, relocateProjectFile(project, "no-such-key", scratch / "new"));
  }

  // A frozen file of every format version: projects saved by earlier builds must keep opening.
  void frozenVersionOneOpens() {
    test::ScratchDir scratch;
    touch(scratch / "runs" / "fm-baseline-seed1" / "summary.json");
    const fs::path file = scratch / "v1.brainprior";
    test::writeBytes(file, R"({
  "format": "brainprior project",
  "version": 1,
  "saved_by": "0.6.0",
  "saved_at": "2026-11-30T22:40:00Z",
  "files": {
    "training.runs": {"path": "/nonexistent/runs", "relative": "runs"},
    "probe.runs.0": {"path": "/nonexistent/runs/fm-baseline-seed1", "relative": "runs/fm-baseline-seed1"}
  },
  "panels": {"probe": {"image": 3}},
  "layout": {"current_tab": "probe"}
})");
    const Project read = readProject(file);
    QCOMPARE(read.files.at("training.runs"), scratch / "runs");
    QCOMPARE(read.files.at("probe.runs.0"), scratch / "runs" / "fm-baseline-seed1");
    QCOMPARE(read.panels.at("probe").at("image").get<int>(), 3);
    QCOMPARE(read.savedBy, std::string("0.6.0"));
    // Sections a build did not write default to empty.
    test::writeBytes(file, R"({"format": "brainprior project", "version": 1})");
    const Project bare = readProject(file);
    QVERIFY(bare.files.empty());
    QVERIFY(bare.panels.is_object() && bare.panels.empty());
  }

  void badFilesAreRefusedByName() {
    test::ScratchDir scratch;
    const fs::path file = scratch / "bad.brainprior";
    const auto refused = [&](const std::string& text, const std::string& expected) {
      test::writeBytes(file, text);
      try {
        readProject(file);
        QFAIL(("accepted: " + text).c_str());
      } catch (const FileError& error) {
        QCOMPARE(error.path(), file.string());
        QVERIFY2(std::string(error.what()).find(expected) != std::string::npos, error.what());
      }
    };
    refused(R"({"format": "brainprior project", "version": 2, "saved_by": "9.0"})", "newer BrainPrior");
    refused(R"({"format": "brainprior demo", "version": 1})", "not a BrainPrior project");
    refused(R"({"format": "brainprior project"})", "no format version");
    refused(R"({"format": "brainprior project", "version": 1, "files": {"models.0": {}}})", "models.0");
    refused(R"({"format": "brainprior project", "version": 1, "files": {)", "not a readable project");
    // A value of the wrong type anywhere is named as such, with the file (not a bare JSON library message).
    refused(R"({"format": "brainprior project", "version": 1, "panels": [], "layout": 7, "saved_at": 3})",
            "a value of the wrong type");
    refused(R"({"format": 5, "version": 1})", "a value of the wrong type");
    // Found by tests/fuzz/run.sh: a number beyond double's range is a JSON library out_of_range error.
    refused("77e00777777777e00{\"", "not a readable project");
    QVERIFY_THROWS_EXCEPTION(FileError, readProject(scratch / "absent.brainprior"));
  }

  void unwritablePlaceIsNamed() {
    test::ScratchDir scratch;
    test::writeBytes(scratch / "plain-file", "x");  // a file where the project's folder should be
    const fs::path file = scratch / "plain-file" / "study.brainprior";
    try {
      writeProject(sampleProject(scratch.path()), file);
      QFAIL("wrote into a file");
    } catch (const FileError& error) {
      QCOMPARE(error.path(), file.string());
    }
  }

  void filesFolderSitsBesideTheProject() {
    QCOMPARE(projectFilesFolder("/home/u/study.brainprior"), fs::path("/home/u/study.files"));
  }
};

BRAINPRIOR_TEST_CLASS(ProjectFileTest)
#include "test_project_file.moc"
