#include "json_line.hpp"

#include <cmath>

namespace rill::cli {

double rounded(double x, int decimals) {
  auto scale = std::pow(10.0, decimals);
  return std::round(x * scale) / scale;
}

int64_t whole(double x) {
  return std::llround(x);
}

std::string base64(const std::string& bytes) {
  static constexpr char alphabet[]
    = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    auto n = (uint32_t(uint8_t(bytes[i])) << 16) | (uint32_t(uint8_t(bytes[i + 1])) << 8)
             | uint8_t(bytes[i + 2]);
    for (int shift : {18, 12, 6, 0})
      out += alphabet[(n >> shift) & 63];
  }
  if (auto rest = bytes.size() - i; rest > 0) {
    auto n = uint32_t(uint8_t(bytes[i])) << 16;
    if (rest == 2)
      n |= uint32_t(uint8_t(bytes[i + 1])) << 8;
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += rest == 2 ? alphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

void put_bytes(nlohmann::ordered_json& j, const std::string& key, const std::string& bytes) {
  j[key] = bytes;
  try {
    (void)j[key].dump(); // strict: throws on invalid UTF-8
  } catch (const nlohmann::ordered_json::type_error&) {
    j[key + "_base64"] = base64(bytes);
  }
}

std::string json_line(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

} // namespace rill::cli
