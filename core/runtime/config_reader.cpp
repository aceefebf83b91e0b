#include "runtime/config_reader.h"

#include <cmath>
#include <limits>

#include "runtime/error.h"

namespace bp {

nlohmann::json finiteOrNull(double value) {
  return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json();
}

nlohmann::json finiteOrNull(const std::vector<double>& values) {
  nlohmann::json array = nlohmann::json::array();
  for (const double value : values) array.push_back(finiteOrNull(value));
  return array;
}

double numberOrNaN(const nlohmann::json& value) {
  return value.is_null() ? std::numeric_limits<double>::quiet_NaN() : value.get<double>();
}

double numberAt(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return std::numeric_limits<double>::quiet_NaN();
  const auto found = object.find(key);
  return found == object.end() ? std::numeric_limits<double>::quiet_NaN() : numberOrNaN(*found);
}

ConfigReader::ConfigReader(const nlohmann::json& json, std::string what) : json_(json), what_(std::move(what)) {
  if (!json_.is_object()) throw Error(what_ + ": expected a JSON object, found " + json_.dump());
}

void ConfigReader::fail(const std::string& key, const std::string& problem) const {
  throw Error(what_ + ": '" + key + "' " + problem);
}

const nlohmann::json* ConfigReader::value(const std::string& key) {
  seen_.insert(key);
  const auto found = json_.find(key);
  return found == json_.end() ? nullptr : &*found;
}

const nlohmann::json* ConfigReader::find(const std::string& key) { return value(key); }

void ConfigReader::read(const std::string& key, std::int64_t& target) {
  const auto* v = value(key);
  if (!v) return;
  if (!v->is_number_integer()) fail(key, "must be an integer");
  if (v->is_number_unsigned() &&
      v->get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
    fail(key, "must be an integer in the 64-bit signed range");
  target = v->get<std::int64_t>();
}

void ConfigReader::read(const std::string& key, int& target) {
  std::int64_t wide = target;
  read(key, wide);
  if (wide < std::numeric_limits<int>::min() || wide > std::numeric_limits<int>::max())
    fail(key, "must be an integer in the 32-bit range");
  target = static_cast<int>(wide);
}

void ConfigReader::read(const std::string& key, std::uint64_t& target) {
  const auto* v = value(key);
  if (!v) return;
  // A JSON built in code from a signed int holds a signed number; only its sign matters.
  const bool nonNegative =
      v->is_number_unsigned() || (v->is_number_integer() && v->get<std::int64_t>() >= 0);
  if (!nonNegative) fail(key, "must be a non-negative integer");
  target = v->get<std::uint64_t>();
}

void ConfigReader::read(const std::string& key, double& target) {
  const auto* v = value(key);
  if (!v) return;
  if (!v->is_number()) fail(key, "must be a number");
  target = v->get<double>();
}

void ConfigReader::read(const std::string& key, float& target) {
  double wide = target;
  read(key, wide);
  target = static_cast<float>(wide);
}

void ConfigReader::read(const std::string& key, bool& target) {
  const auto* v = value(key);
  if (!v) return;
  if (!v->is_boolean()) fail(key, "must be true or false");
  target = v->get<bool>();
}

void ConfigReader::read(const std::string& key, std::string& target) {
  const auto* v = value(key);
  if (!v) return;
  if (!v->is_string()) fail(key, "must be a string");
  target = v->get<std::string>();
}

void ConfigReader::read(const std::string& key, std::vector<int>& target) {
  const auto* v = value(key);
  if (!v) return;
  if (!v->is_array()) fail(key, "must be a list of integers");
  std::vector<int> values;
  for (const auto& item : *v) {
    if (!item.is_number_integer()) fail(key, "must be a list of integers");
    values.push_back(item.get<int>());
  }
  target = std::move(values);
}

void ConfigReader::read(const std::string& key, std::vector<std::uint64_t>& target) {
  const auto* v = value(key);
  if (!v) return;
  if (!v->is_array()) fail(key, "must be a list of non-negative integers");
  std::vector<std::uint64_t> values;
  for (const auto& item : *v) {
    if (!item.is_number_integer() || (!item.is_number_unsigned() && item.get<std::int64_t>() < 0))
      fail(key, "must be a list of non-negative integers");
    values.push_back(item.get<std::uint64_t>());
  }
  target = std::move(values);
}

template <class Number>
void ConfigReader::readNumbers(const std::string& key, std::vector<Number>& target) {
  const auto* v = value(key);
  if (!v) return;
  if (!v->is_array()) fail(key, "must be a list of numbers");
  std::vector<Number> values;
  for (const auto& item : *v) {
    if (!item.is_number()) fail(key, "must be a list of numbers");
    values.push_back(item.get<Number>());
  }
  target = std::move(values);
}

void ConfigReader::read(const std::string& key, std::vector<float>& target) { readNumbers(key, target); }
void ConfigReader::read(const std::string& key, std::vector<double>& target) { readNumbers(key, target); }

void ConfigReader::read(const std::string& key, std::vector<std::string>& target) {
  const auto* v = value(key);
  if (!v) return;
  if (!v->is_array()) fail(key, "must be a list of strings");
  std::vector<std::string> values;
  for (const auto& item : *v) {
    if (!item.is_string()) fail(key, "must be a list of strings");
    values.push_back(item.get<std::string>());
  }
  target = std::move(values);
}

void ConfigReader::finish() const {
  for (const auto& item : json_.items())
    if (!seen_.count(item.key())) throw Error(what_ + ": unknown key '" + item.key() + "'");
}

}  // namespace bp
