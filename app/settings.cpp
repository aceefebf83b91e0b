#include "app/settings.h"

#include <QSettings>

namespace bp::app {
namespace {

constexpr int kMaxRecentFiles = 10;

QStringList recentList(const QString& key) { return QSettings().value(key).toStringList(); }

QStringList addToRecentList(const QString& key, const QString& path) {
  auto files = recentList(key);
  files.removeAll(path);
  files.prepend(path);
  while (files.size() > kMaxRecentFiles) files.removeLast();
  QSettings().setValue(key, files);
  return files;
}

}  // namespace

EngineSettings loadEngineSettings() {
  QSettings settings;
  EngineSettings engine;
  engine.threads = settings.value(QStringLiteral("engine/threads"), 0).toInt();
  engine.device = settings.value(QStringLiteral("engine/device"), QStringLiteral("auto")).toString();
  return engine;
}

void saveEngineSettings(const EngineSettings& engine) {
  QSettings settings;
  settings.setValue(QStringLiteral("engine/threads"), engine.threads);
  settings.setValue(QStringLiteral("engine/device"), engine.device);
}

QStringList recentFiles() { return recentList(QStringLiteral("recentFiles")); }
QStringList recentProjects() { return recentList(QStringLiteral("recentProjects")); }
QStringList addRecentFile(const QString& path) { return addToRecentList(QStringLiteral("recentFiles"), path); }
QStringList addRecentProject(const QString& path) { return addToRecentList(QStringLiteral("recentProjects"), path); }

bool welcomeDismissed() { return QSettings().value(QStringLiteral("welcome/dismissed"), false).toBool(); }
void dismissWelcome() { QSettings().setValue(QStringLiteral("welcome/dismissed"), true); }

}  // namespace bp::app
