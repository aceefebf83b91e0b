// The widget and app test executables: a QApplication at 96 dpi, as Qt Test's QTEST_MAIN sets up,
// with settings of its own in a fresh folder per process: the tests never touch a user's settings
// (recent files, engine choices), never see each other's when CTest runs them side by side, and
// each starts as a first start does.
#include <QApplication>
#include <QSettings>
#include <QTemporaryDir>

#include "test_registry.h"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setAttribute(Qt::AA_Use96Dpi, true);
  QCoreApplication::setOrganizationName(QStringLiteral("BrainPriorTests"));
  QCoreApplication::setApplicationName(QStringLiteral("brainprior-tests"));
  const QTemporaryDir settings;
  QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope, settings.path());
  return bp::test::runRegisteredTestClass(argc, argv);
}
