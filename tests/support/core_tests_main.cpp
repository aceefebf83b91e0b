// The engine's test executables: a QCoreApplication (Qt Test's QTEST_GUILESS_MAIN) for every class.
#include <QCoreApplication>

#include "test_registry.h"

int main(int argc, char** argv) {
  QCoreApplication app(argc, argv);
  return bp::test::runRegisteredTestClass(argc, argv);
}
