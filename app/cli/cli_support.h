#pragma once
// What every brainprior-cli subcommand shares: runtime options, progress on stderr, and error
// reporting (message on stderr, non-zero exit).
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "data/neural_dataset.h"

#include "runtime/job.h"
#include "runtime/runtime.h"

namespace bp::cli {

struct GlobalOptions {
  RuntimeConfig runtime;
  bool quiet = false;  // no progress and no info log lines on stderr
};

void addGlobalOptions(CLI::App& app, GlobalOptions& options);
// Starts the engine with the user's options (call once, inside a subcommand's callback).
void startRuntime(const GlobalOptions& options);
// A job that draws progress on stderr (a bar on a terminal, a line every 10% otherwise).
Job progressJob(const GlobalOptions& options);
void printJson(const nlohmann::json& value);
// A JSON file (a config); FileError naming the file when it is unreadable or not JSON.
nlohmann::json readJsonFile(const std::string& path);
// A neural dataset from a path, or the embedded default population for "default".
NeuralDataset loadNeuralOrDefault(const std::string& path, const Job& job);
// "train", "validation", "test", or "all" (nullopt).
std::optional<Tier> tierFromChoice(const std::string& choice);

}  // namespace bp::cli
