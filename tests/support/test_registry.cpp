#include "test_registry.h"

#include <QtTest>

#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace bp::test {
namespace {

struct Registry {
  std::map<std::string, TestClassFactory> classes;
  std::vector<std::string> duplicates;
};

// A function-local static: registrations run during static initialisation, in any file order.
Registry& registry() {
  static Registry instance;
  return instance;
}

int listNames(std::FILE* stream) {
  for (const auto& [name, create] : registry().classes) std::fprintf(stream, "%s\n", name.c_str());
  return 0;
}

}  // namespace

bool registerTestClass(const char* sourceFile, TestClassFactory create) {
  const std::string name = std::filesystem::path(sourceFile).stem().string();
  if (!registry().classes.emplace(name, create).second) registry().duplicates.push_back(name);
  return true;
}

int runRegisteredTestClass(int argc, char** argv) {
  if (!registry().duplicates.empty()) {
    std::fprintf(stderr, "two test files share the name %s\n", registry().duplicates.front().c_str());
    return 2;
  }
  if (argc >= 2 && std::string(argv[1]) == "--list") return listNames(stdout);
  const auto found = argc >= 2 ? registry().classes.find(argv[1]) : registry().classes.end();
  if (found == registry().classes.end()) {
    std::fprintf(stderr, "usage: %s TEST [Qt Test arguments], TEST one of:\n", argv[0]);
    listNames(stderr);
    return 2;
  }
  std::vector<char*> arguments{argv[0]};
  arguments.insert(arguments.end(), argv + 2, argv + argc);
  const std::unique_ptr<QObject> testObject = found->second();
  return QTest::qExec(testObject.get(), static_cast<int>(arguments.size()), arguments.data());
}

}  // namespace bp::test
