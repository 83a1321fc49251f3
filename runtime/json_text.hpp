#pragma once

// Byte strings in JSON and text output. Stream, group and consumer names are
// binary-safe in Redis; JSON and the Prometheus text format need UTF-8.

#include <nlohmann/json.hpp>

#include <string>

namespace rill {

/// Sets `j[key]` to `bytes`. Where they are not valid UTF-8, the text has
/// U+FFFD in place of the bad bytes and `j[key + "_base64"]` holds the exact
/// bytes.
void put_bytes(nlohmann::ordered_json& j, const std::string& key, const std::string& bytes);

/// One line of JSON (never throws on bad UTF-8: it is replaced).
std::string json_line(const nlohmann::ordered_json& j);

/// `bytes` with each invalid UTF-8 sequence replaced by U+FFFD.
std::string utf8_or_replaced(const std::string& bytes);

/// Base64 (RFC 4648, with padding).
std::string base64(const std::string& bytes);

} // namespace rill
