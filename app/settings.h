#pragma once
// Persistent user settings (QSettings): engine options and recent files.
#include <QString>
#include <QStringList>

namespace bp::app {

struct EngineSettings {
  int threads = 0;                  // 0 = all cores
  QString device = QStringLiteral("auto");
};

EngineSettings loadEngineSettings();
void saveEngineSettings(const EngineSettings& settings);

QStringList recentFiles();
// Moves `path` to the front of the list (at most 10 entries) and returns the new list.
QStringList addRecentFile(const QString& path);

}  // namespace bp::app
