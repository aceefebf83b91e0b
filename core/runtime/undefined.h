#pragma once
// The engine's one "undefined" number: NaN where a measure has no value (too few samples, a
// constant series, no validation images). JSON writers turn it into null (finiteOrNull), views
// into "n/a".
#include <limits>

namespace bp {

inline constexpr double kUndefined = std::numeric_limits<double>::quiet_NaN();

}  // namespace bp
