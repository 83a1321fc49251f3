#pragma once

// Internal to the runtime (not installed): the parts of a request that carry
// a token or an ID, and the constant-time comparison of secrets.

#include <optional>
#include <string>
#include <string_view>

namespace rill {

struct http_request;

/// The value of `name` in a query string, percent-decoded ("" if absent or
/// malformed).
std::string query_value(const std::string& query, const std::string& name);

/// The value of cookie `name` in a Cookie header ("" if absent).
std::string cookie_value(const std::string& cookie, const std::string& name);

/// `%XX` and `+`-free percent-decoding; nullopt on a malformed escape.
std::optional<std::string> percent_decoded(std::string_view text);

/// Equal, in time that depends on the length only.
bool same_secret(const std::string& x, const std::string& y) noexcept;

/// True if `req` carries `token`: `Authorization: Bearer TOKEN`, or the
/// query parameter `query_name`, or (non-empty `cookie_name`) that cookie.
bool carries_token(const http_request& req, const std::string& token, const std::string& query_name,
                   const std::string& cookie_name = {});

} // namespace rill
