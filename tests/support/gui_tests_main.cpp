// The widget and app test executables: a QApplication at 96 dpi, as Qt Test's QTEST_MAIN sets up,
// under a name of its own, so that the settings the tests write (recent files, engine choices)
// never touch a user's.
#include <QApplication>

#include "test_registry.h"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setAttribute(Qt::AA_Use96Dpi, true);
  QCoreApplication::setOrganizationName(QStringLiteral("BrainPriorTests"));
  QCoreApplication::setApplicationName(QStringLiteral("brainprior-tests"));
  return bp::test::runRegisteredTestClass(argc, argv);
}
