#pragma once
// The one way the engine writes CSV cells: tables of metrics, probes and predictivity that open in
// a spreadsheet or pandas as they are.
#include <string>

namespace bp {

// A number with `significantDigits` (printf %g); NaN is an empty cell, infinity "inf" / "-inf".
std::string csvNumber(double value, int significantDigits = 6);
// Text as one cell: quoted, with quotes doubled, when it holds a comma, a quote or a line break.
std::string csvField(const std::string& text);

}  // namespace bp
