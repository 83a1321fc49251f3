#include <rill/runtime/http_credentials.hpp>

#include <rill/runtime/http_server.hpp>

#include <openssl/crypto.h>

namespace rill {

namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/// The raw value of `name=` in a list of `sep`-separated pairs.
std::optional<std::string_view> pair_value(std::string_view list, std::string_view name, char sep) {
  while (!list.empty()) {
    auto end = list.find(sep);
    auto part = list.substr(0, end);
    while (!part.empty() && part.front() == ' ')
      part.remove_prefix(1);
    if (part.size() > name.size() && part.compare(0, name.size(), name) == 0
        && part[name.size()] == '=')
      return part.substr(name.size() + 1);
    if (end == std::string_view::npos)
      break;
    list.remove_prefix(end + 1);
  }
  return std::nullopt;
}

} // namespace

std::optional<std::string> percent_decoded(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size())
      return std::nullopt;
    auto hi = hex_digit(text[i + 1]);
    auto lo = hex_digit(text[i + 2]);
    if (hi < 0 || lo < 0)
      return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

std::string query_value(const std::string& query, const std::string& name) {
  auto raw = pair_value(query, name, '&');
  if (!raw)
    return {};
  return percent_decoded(*raw).value_or(std::string{});
}

std::string cookie_value(const std::string& cookie, const std::string& name) {
  auto raw = pair_value(cookie, name, ';');
  return raw ? std::string{*raw} : std::string{};
}

bool same_secret(const std::string& x, const std::string& y) noexcept {
  return x.size() == y.size() && CRYPTO_memcmp(x.data(), y.data(), x.size()) == 0;
}

bool carries_token(const http_request& req, const std::string& token, const std::string& query_name,
                   const std::string& cookie_name) {
  static const std::string bearer = "Bearer ";
  if (req.authorization.compare(0, bearer.size(), bearer) == 0
      && same_secret(req.authorization.substr(bearer.size()), token))
    return true;
  if (!cookie_name.empty() && same_secret(cookie_value(req.cookie, cookie_name), token))
    return true;
  return same_secret(query_value(req.query, query_name), token);
}

} // namespace rill
