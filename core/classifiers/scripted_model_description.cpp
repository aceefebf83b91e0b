#include "classifiers/scripted_model_description.h"

#include <algorithm>
#include <system_error>

#include <nlohmann/json.hpp>

#include "runtime/atomic_file.h"
#include "runtime/config_reader.h"
#include "runtime/error.h"

namespace bp {

namespace fs = std::filesystem;

namespace {

constexpr const char* kDescriptionExample =
    R"({"input": {"channels": 3, "size": [224, 224], "range": [0, 1], "mean": [0.485, 0.456, 0.406], )"
    R"("std": [0.229, 0.224, 0.225]}})";

}  // namespace

nlohmann::json toJson(const ScriptedModelDescription& description) {
  const ScriptedModelInput& input = description.input;
  nlohmann::json json = {{"input",
                          {{"channels", input.channels},
                           {"size", {input.height, input.width}},
                           {"range", {input.rangeLow, input.rangeHigh}},
                           {"mean", input.mean},
                           {"std", input.std}}}};
  if (!description.classNames.empty()) json["class_names"] = description.classNames;
  return json;
}

ScriptedModelDescription scriptedModelDescriptionFromJson(const nlohmann::json& json) {
  if (!json.is_object()) throw Error("model description: not a JSON object; write for example " +
                                     std::string(kDescriptionExample));
  ScriptedModelDescription description;
  ConfigReader reader(json, "model description");
  const nlohmann::json* input = reader.find("input");
  if (!input || !input->is_object())
    throw Error("model description: 'input' (an object) is required, for example " + std::string(kDescriptionExample));
  reader.read("class_names", description.classNames);
  reader.finish();

  ScriptedModelInput& parsed = description.input;
  ConfigReader inputReader(*input, "model description's input");
  for (const char* key : {"channels", "size", "range", "mean", "std"})
    if (!input->contains(key))
      inputReader.fail(key, "is required (preprocessing is declared, not guessed), for example " +
                                std::string(kDescriptionExample));
  inputReader.read("channels", parsed.channels);
  const auto pairOf = [&inputReader](const char* key, auto& first, auto& second) {
    const nlohmann::json* value = inputReader.find(key);
    if (!value->is_array() || value->size() != 2 || !(*value)[0].is_number() || !(*value)[1].is_number())
      inputReader.fail(key, "must be an array of two numbers");
    first = (*value)[0].get<std::decay_t<decltype(first)>>();
    second = (*value)[1].get<std::decay_t<decltype(second)>>();
  };
  pairOf("size", parsed.height, parsed.width);
  pairOf("range", parsed.rangeLow, parsed.rangeHigh);
  inputReader.read("mean", parsed.mean);
  inputReader.read("std", parsed.std);
  inputReader.finish();
  validate(parsed);
  return description;
}

void validate(const ScriptedModelInput& input) {
  if (input.channels != 1 && input.channels != 3)
    throw Error("model description: input channels must be 1 or 3, not " + std::to_string(input.channels));
  if (input.height < 8 || input.width < 8 || input.height > 4096 || input.width > 4096)
    throw Error("model description: input size must be 8 to 4096 pixels a side, not " + std::to_string(input.height) +
                " x " + std::to_string(input.width));
  if (!(input.rangeHigh > input.rangeLow))
    throw Error("model description: input range must be [low, high] with low < high");
  const auto channels = static_cast<std::size_t>(input.channels);
  if (input.mean.size() != channels || input.std.size() != channels)
    throw Error("model description: input mean and std need one value per channel (" + std::to_string(channels) + ")");
  if (std::any_of(input.std.begin(), input.std.end(), [](float s) { return !(s > 0.0f); }))
    throw Error("model description: input std must be positive");
}

fs::path scriptedModelDescriptionPath(const fs::path& modelFile) { return modelFile.string() + ".json"; }

ScriptedModelDescription readScriptedModelDescription(const fs::path& modelFile) {
  const fs::path path = scriptedModelDescriptionPath(modelFile);
  std::error_code ec;
  if (!fs::is_regular_file(path, ec))
    throw FileError(path.string(), "missing: an imported model's preprocessing is declared beside it, for example " +
                                       std::string(kDescriptionExample));
  try {
    return scriptedModelDescriptionFromJson(nlohmann::json::parse(readTextFile(path)));
  } catch (const nlohmann::json::exception& error) {
    throw FileError(path.string(), std::string("not valid JSON: ") + error.what());
  } catch (const FileError&) {
    throw;
  } catch (const Error& error) {
    throw FileError(path.string(), error.what());
  }
}

void writeScriptedModelDescription(const fs::path& modelFile, const ScriptedModelDescription& description) {
  validate(description.input);
  writeFileAtomically(scriptedModelDescriptionPath(modelFile), toJson(description).dump(2) + "\n");
}

}  // namespace bp
