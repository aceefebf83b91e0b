#pragma once
// Errors the engine reports to users. Every message names the file (when there is one) and the problem.
#include <stdexcept>
#include <string>

namespace bp {

class Error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// An error about one input file: "<path>: <problem>".
class FileError : public Error {
public:
  FileError(const std::string& path, const std::string& problem)
      : Error(path + ": " + problem), path_(path), problem_(problem) {}
  const std::string& path() const { return path_; }
  const std::string& problem() const { return problem_; }

private:
  std::string path_;
  std::string problem_;
};

// Thrown by long jobs when the user cancels them; never an error the user must fix.
class CancelledError : public Error {
public:
  CancelledError() : Error("cancelled by the user") {}
};

}  // namespace bp
