// The widget and app test executables: a QApplication at 96 dpi, as Qt Test's QTEST_MAIN sets up.
#include <QApplication>

#include "test_registry.h"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setAttribute(Qt::AA_Use96Dpi, true);
  return bp::test::runRegisteredTestClass(argc, argv);
}
