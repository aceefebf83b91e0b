#pragma once
// An imported model's declared preprocessing, "<model file>.json" beside a TorchScript file
// (scripted_classifier.h): what the engine applies to every image, and what the GUI asks for once
// and writes. Free of LibTorch, so the GUI reads and writes it directly.
//
//   {"input": {"channels": 3, "size": [224, 224], "range": [0, 1],
//              "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]},
//    "class_names": ["airplane", ...]}   (class_names optional)
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace bp {

struct ScriptedModelInput {
  int channels = 3;
  std::int64_t height = 224;
  std::int64_t width = 224;
  double rangeLow = 0.0;   // the pixel value the model takes for black
  double rangeHigh = 1.0;  // and for white
  std::vector<float> mean;  // per channel, in the range's units
  std::vector<float> std;
};

struct ScriptedModelDescription {
  ScriptedModelInput input;
  std::vector<std::string> classNames;  // empty: unnamed
};

// Keys: {"input": {"channels", "size": [height, width], "range": [low, high], "mean", "std"},
// "class_names"}.
nlohmann::json toJson(const ScriptedModelDescription& description);
// Every "input" key is required (preprocessing is declared, not guessed); "class_names" is optional.
// bp::Error naming the missing, unknown or invalid key.
ScriptedModelDescription scriptedModelDescriptionFromJson(const nlohmann::json& json);
// Throws bp::Error naming the first invalid value (channels other than 1 or 3, a side < 8, an empty
// or inverted range, a mean or std per channel missing, a non-positive std).
void validate(const ScriptedModelInput& input);

// "<model file>.json".
std::filesystem::path scriptedModelDescriptionPath(const std::filesystem::path& modelFile);
// FileError naming the description file, and what it must say, when it is absent or invalid.
ScriptedModelDescription readScriptedModelDescription(const std::filesystem::path& modelFile);
// Written atomically beside the model (the GUI asks for the preprocessing once and keeps it there).
void writeScriptedModelDescription(const std::filesystem::path& modelFile, const ScriptedModelDescription& description);

}  // namespace bp
