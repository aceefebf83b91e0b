#pragma once
// Reads a JSON object into a config struct strictly, the one way every engine config is parsed:
// a key the config does not know, or a value of the wrong type, is an error that names the key.
// Keys that are absent keep the struct's defaults.
//
//   ConfigReader reader(json, "synthetic V1 config");
//   reader.read("neuron_count", config.neuronCount);
//   reader.read("mean_rate", config.meanRate);
//   reader.finish();  // throws for any key that no read() asked for
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace bp {

// JSON has no NaN or infinity: a value that is not finite is written as null and read back as NaN.
nlohmann::json finiteOrNull(double value);
nlohmann::json finiteOrNull(const std::vector<double>& values);  // an array
double numberOrNaN(const nlohmann::json& value);
// The value at `key` of an object as a number: NaN when it is absent or null (or `object` is no object).
double numberAt(const nlohmann::json& object, const char* key);

class ConfigReader {
public:
  ConfigReader(const nlohmann::json& json, std::string what);

  void read(const std::string& key, std::int64_t& target);
  void read(const std::string& key, int& target);
  void read(const std::string& key, std::uint64_t& target);  // non-negative integers only
  void read(const std::string& key, double& target);
  void read(const std::string& key, float& target);
  void read(const std::string& key, bool& target);
  void read(const std::string& key, std::string& target);
  void read(const std::string& key, std::vector<int>& target);
  void read(const std::string& key, std::vector<std::uint64_t>& target);  // non-negative integers only (seeds)
  void read(const std::string& key, std::vector<float>& target);
  void read(const std::string& key, std::vector<double>& target);
  void read(const std::string& key, std::vector<std::string>& target);
  // The raw value when present (for nested configs and enums the caller parses); nullptr otherwise.
  const nlohmann::json* find(const std::string& key);
  // Throws bp::Error naming the first key no read() or find() asked for.
  void finish() const;

  // An error about `key` in this config: "<what>: '<key>' <problem>".
  [[noreturn]] void fail(const std::string& key, const std::string& problem) const;

private:
  const nlohmann::json* value(const std::string& key);
  template <class Number>
  void readNumbers(const std::string& key, std::vector<Number>& target);

  const nlohmann::json& json_;
  std::string what_;
  std::set<std::string> seen_;
};

}  // namespace bp
