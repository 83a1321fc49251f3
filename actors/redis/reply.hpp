#pragma once

#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace rill {

/// One RESP2 reply. Strings are binary-safe byte strings (NUL bytes and any
/// other byte values survive unchanged).
struct redis_reply {
  enum class kind : uint8_t { nil, status, error, integer, string, array };

  kind type = kind::nil;
  int64_t integer = 0;
  /// Payload of status, error and bulk string replies.
  std::string str;
  /// Elements of an array reply.
  std::vector<redis_reply> elements;

  bool is_nil() const noexcept { return type == kind::nil; }
  bool is_error() const noexcept { return type == kind::error; }
  bool is_array() const noexcept { return type == kind::array; }
  bool is_string() const noexcept { return type == kind::string; }

  /// Builds a bulk string reply.
  static redis_reply string(std::string value);
  /// Builds a status reply such as "OK".
  static redis_reply status(std::string value);
  /// Builds an error reply such as "WRONGTYPE ...".
  static redis_reply error(std::string value);
  /// Builds an integer reply.
  static redis_reply number(int64_t value);
  /// Builds an array reply.
  static redis_reply array(std::vector<redis_reply> elements);
};

bool operator==(const redis_reply& x, const redis_reply& y);

/// A short human-readable rendering (long strings truncated), for logs.
std::string to_string(const redis_reply& x);

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, redis_reply& x) {
  return f(caf::meta::type_name("rill::redis_reply"), x.type, x.integer, x.str, x.elements);
}

} // namespace rill
