#include "app/settings.h"

#include <QSettings>

namespace bp::app {
namespace {
constexpr int kMaxRecentFiles = 10;
}

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

QStringList recentFiles() { return QSettings().value(QStringLiteral("recentFiles")).toStringList(); }

QStringList addRecentFile(const QString& path) {
  auto files = recentFiles();
  files.removeAll(path);
  files.prepend(path);
  while (files.size() > kMaxRecentFiles) files.removeLast();
  QSettings().setValue(QStringLiteral("recentFiles"), files);
  return files;
}

}  // namespace bp::app
