#include "runtime/number_format.h"

#include <charconv>
#include <cmath>

namespace bp {

std::string formatFixed(double value, int decimals) {
  if (std::isnan(value)) return "\u2014";
  if (std::isinf(value)) return value > 0 ? "\u221e" : "\u2212\u221e";
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::fixed, decimals);
  std::string text(buffer, result.ptr);
  // "-0.000" says nothing "0.000" does not.
  if (text.front() == '-' && text.find_first_not_of("-0.") == std::string::npos) text.erase(0, 1);
  return text;
}

std::string formatCompact(double value) {
  std::string text = formatFixed(value, 6);
  if (text.find('.') == std::string::npos) return text;  // "—", "∞"
  while (text.back() == '0') text.pop_back();
  if (text.back() == '.') text.pop_back();
  return text;
}

std::string formatMeanSem(double mean, double sem, int decimals) {
  if (!std::isfinite(mean) || !std::isfinite(sem)) return formatFixed(mean, decimals);
  return formatFixed(mean, decimals) + " \u00b1 " + formatFixed(sem, decimals);
}

}  // namespace bp
