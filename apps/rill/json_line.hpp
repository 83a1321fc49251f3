#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace rill::cli {

/// Sets `j[key]` to `bytes`. Stream, group and consumer names are byte
/// strings: where they are not valid UTF-8, the text has U+FFFD in place of
/// the bad bytes and `j[key + "_base64"]` holds the exact bytes.
void put_bytes(nlohmann::ordered_json& j, const std::string& key, const std::string& bytes);

/// One line of JSON (never throws on bad UTF-8: it is replaced).
std::string json_line(const nlohmann::ordered_json& j);

/// `x` rounded to `decimals` places, for JSON numbers (seconds to the
/// millisecond, ratios to three places).
double rounded(double x, int decimals);

/// `x` rounded to a whole number (msgs/s, µs): printed without a fraction.
int64_t whole(double x);

/// Base64 (RFC 4648, with padding).
std::string base64(const std::string& bytes);

} // namespace rill::cli
