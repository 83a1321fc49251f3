#include <rill/runtime/json_text.hpp>

namespace rill {

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
    j[key] = utf8_or_replaced(bytes);
    j[key + "_base64"] = base64(bytes);
  }
}

std::string json_line(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::string utf8_or_replaced(const std::string& bytes) {
  // nlohmann's replacing dump does the UTF-8 check; parsing its output back
  // undoes the JSON escapes.
  auto quoted
    = nlohmann::json(bytes).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return nlohmann::json::parse(quoted).get<std::string>();
}

} // namespace rill
