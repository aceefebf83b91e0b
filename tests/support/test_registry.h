#pragma once
// The test classes of one folder (core/, app/, ...) are linked into one executable, so the build
// links, scans for moc and compiles moc output once per folder instead of once per file. CTest still
// runs every class in a process of its own: `<folder>_tests <file stem> [Qt Test arguments]`.
#include <QObject>

#include <memory>

namespace bp::test {

using TestClassFactory = std::unique_ptr<QObject> (*)();

// Registers the test class of `sourceFile` (its __FILE__) under the file's stem, e.g. "test_npy".
// Two files with one stem in one executable are refused when it starts.
bool registerTestClass(const char* sourceFile, TestClassFactory create);

// Runs the class named by argv[1] with Qt Test and the remaining arguments; `--list` prints the
// names. Call it after the application object (if any) exists.
int runRegisteredTestClass(int argc, char** argv);

}  // namespace bp::test

// Replaces QTEST_MAIN and its variants in a test file; the executable's main chooses the
// application object (tests/support/*_tests_main.cpp).
#define BRAINPRIOR_TEST_CLASS(TestObject)                                                        \
  namespace {                                                                                    \
  const bool registered##TestObject = ::bp::test::registerTestClass(                             \
      __FILE__, [] { return std::unique_ptr<QObject>(std::make_unique<TestObject>()); });        \
  }
