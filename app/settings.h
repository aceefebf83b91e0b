#pragma once
// Persistent user settings (QSettings): engine options, recent files and recent projects, and
// whether the first-start welcome card was dismissed.
#include <QString>
#include <QStringList>

namespace bp::app {

struct EngineSettings {
  int threads = 0;                  // 0 = all cores
  QString device = QStringLiteral("auto");
};

EngineSettings loadEngineSettings();
void saveEngineSettings(const EngineSettings& settings);

// Recent datasets and recent projects: two lists, most recent first.
QStringList recentFiles();
QStringList recentProjects();
// Moves `path` to the front of its list (at most 10 entries) and returns the new list.
QStringList addRecentFile(const QString& path);
QStringList addRecentProject(const QString& path);

bool welcomeDismissed();
void dismissWelcome();

}  // namespace bp::app
