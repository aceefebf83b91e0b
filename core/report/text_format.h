#pragma once
// Text for reports: HTML/XML escaping (numbers: runtime/number_format.h).
#include <string>
#include <string_view>

namespace bp {

// Escapes & < > " ' so that any text is safe inside HTML and SVG elements and attribute values.
std::string escapeHtml(std::string_view text);

}  // namespace bp
