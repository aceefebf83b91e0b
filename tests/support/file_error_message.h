#pragma once
// The message of the FileError a call throws (empty when it throws none): what tests of refusals
// compare, since every refusal must name its file and say why.
#include <QString>

#include <functional>

#include "runtime/error.h"

namespace bp::test {

inline QString fileErrorMessage(const std::function<void()>& call) {
  try {
    call();
  } catch (const FileError& error) {
    return QString::fromStdString(error.what());
  }
  return {};
}

}  // namespace bp::test
