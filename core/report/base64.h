#pragma once
// Base64 (RFC 4648, with padding) for the data: URLs that embed a report's figures in its HTML.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace bp {

std::string encodeBase64(const std::uint8_t* data, std::size_t size);
std::string encodeBase64(std::string_view bytes);

}  // namespace bp
