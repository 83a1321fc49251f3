#pragma once

#include <rill/runtime/json_text.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace rill::cli {

// put_bytes, json_line and base64 are the runtime's (runtime/json_text.hpp):
// the HTTP endpoints write the same JSON.
using rill::base64;
using rill::json_line;
using rill::put_bytes;

/// `x` rounded to `decimals` places, for JSON numbers (seconds to the
/// millisecond, ratios to three places).
double rounded(double x, int decimals);

/// `x` rounded to a whole number (msgs/s, µs): printed without a fraction.
int64_t whole(double x);

} // namespace rill::cli
