#pragma once
// The window's project (core/project/project_file.h): what is open in every panel, captured into a
// bp::Project and saved as `*.brainprior`; opened again, it brings every panel and the layout back.
//
// - Save writes, in a worker, whatever exists only in memory (a fitted model never saved, a computed
//   similarity matrix) into the project's files folder, then the project file (atomically).
// - What a project saves is the window's Workspace (and its layout). Every change the workspace
//   signals makes the project modified (the title bar shows [*]) until it is saved; closing with
//   unsaved changes asks first. The layout alone does not count as a change.
// - Autosave writes the same, every minute while there are changes, to "<project>.autosave" (or,
//   for an untitled window, to a file of its own under the app's data folder). Opening a project
//   whose autosave is newer offers to recover it; a crashed untitled window is offered at start-up.
// - Opening a project whose files moved asks where each one is; one answer finds every file that
//   moved with it (relocateProjectFile).
// - Restoring runs in stages, each after the jobs of the previous one ended: data, images and runs;
//   then models, matrices and the probe's runs (which need the data); then the probe's settings and
//   the current tab.
#include <QDateTime>
#include <QObject>
#include <QString>
#include <QTimer>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include <nlohmann/json.hpp>

#include "project/project_file.h"
#include "rsa/similarity.h"

namespace bp::app {

class MainWindow;
struct ModelRecord;

class ProjectController : public QObject {
  Q_OBJECT
public:
  explicit ProjectController(MainWindow& window);

  // The project file, empty while the window is untitled.
  QString file() const { return file_; }
  // True when the workspace changed since the project was last saved or opened.
  bool isModified() const;
  // True for an untitled window whose workspace never changed: a project opens here rather than
  // in a new window.
  bool isEmpty() const;
  // Takes what the workspace holds now as nothing to save (the default data of an untitled window,
  // generated again on every start): the window is not modified and quitting it asks nothing.
  void markUnmodified();

  // What the workspace holds now, and the layout. Content with no file yet has an empty path under its key.
  bp::Project capture() const;
  // Saves in a worker (see above); `saved` or `failed` reports the end.
  void saveAs(const QString& file);
  // Reads `file`, asks for moved files, and restores it into this window; false (with `failed`)
  // when it cannot be read. Offers the newer autosave of `file` first when there is one.
  bool open(const QString& file);
  // Opens an untitled window's autosave (orphanedAutosaves) as the untitled project it was.
  bool recoverUntitled(const QString& autosave);
  // True from restore() until `restored`.
  bool restoring() const { return restoring_; }
  // Restores `project` into this window (its files as they are); `restored` when every stage ended.
  void restore(const bp::Project& project);
  // Writes the autosave now when there are changes (the timer calls this).
  void autosave();
  // Removes this window's autosave (after a save, or when the user discards the changes).
  void discardAutosave();
  QString autosaveFile() const;

  // Untitled windows' autosaves left by a crash, newest first.
  static QStringList orphanedAutosaves();

  // Questions the user is asked; tests replace them. locateFile gets the key and the old path and
  // returns the new path (empty: leave it out); recoverAutosave says whether to open the autosave.
  std::function<QString(const QString& key, const QString& oldPath)> locateFile;
  std::function<bool(const QString& project, const QString& autosave)> recoverAutosave;

Q_SIGNALS:
  void saved(const QString& file);
  void failed(const QString& message);
  void restored();

private:
  // Content that lives only in memory: written into the files folder before the project refers to it.
  struct UnsavedContent {
    std::string key;
    std::shared_ptr<const ModelRecord> model;  // or
    std::shared_ptr<const bp::SimilarityMatrix> matrix;
    int index = 0;                             // the model's index or the matrix's slot
    QString fileName;                          // within the files folder
  };
  bp::Project capture(std::vector<UnsavedContent>* unsaved) const;
  // Reads `source` (the project or an autosave), asks for moved files, restores; `file` becomes the
  // project's file (empty: untitled). Recovered content counts as unsaved.
  bool load(const QString& source, const QString& file, bool recovered);
  void write(const QString& target, bool isAutosave);
  void restoreStage(int stage, const bp::Project& project);
  // Runs `next` once the window's jobs have all ended.
  void whenJobsEnd(std::function<void()> next);
  void setFile(const QString& file);

  MainWindow& window_;
  QString file_;
  QString untitledAutosave_;  // this untitled window's own autosave file
  // Workspace changes counted since the window opened; the count when last saved or opened, and
  // when last autosaved.
  static constexpr std::uint64_t kNeverSaved = ~std::uint64_t{0};
  std::uint64_t revision_ = 0;
  std::uint64_t savedRevision_ = 0;
  std::uint64_t autosavedRevision_ = 0;
  bool restoring_ = false;
  bool writing_ = false;
  // Content the autosave already wrote, by the object it came from, so it is written once.
  std::map<const void*, QString> autosavedContent_;
  QTimer autosaveTimer_;
};

}  // namespace bp::app
