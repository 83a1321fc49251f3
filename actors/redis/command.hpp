#pragma once

#include <caf/meta/type_name.hpp>
#include <caf/timestamp.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace rill {

/// One Redis command as binary-safe arguments, e.g. {"XACK", "s", "g", "1-1"}.
struct redis_command {
  std::vector<std::string> argv;
  /// How long the server may legitimately hold this command before replying
  /// (the BLOCK of a blocking read). The connection adds it to the request
  /// deadline so a blocked read is not mistaken for a dead server.
  caf::timespan blocks_for{0};
  /// In Redis Cluster: the key whose slot decides the node for a command
  /// without one - `CLIENT UNBLOCK` and `CLIENT LIST ID` must reach the node
  /// holding the reader's connection, which is the stream's (client IDs are
  /// per node). Empty: the command's own first key (actors/redis/key_slot.hpp).
  std::string route_key;

  /// Appends one argument.
  redis_command& arg(std::string value) {
    argv.emplace_back(std::move(value));
    return *this;
  }
};

/// Builds a command from its arguments.
redis_command make_command(std::initializer_list<std::string_view> args);

/// Appends the RESP encoding of `cmd` (an array of bulk strings, the bytes
/// hiredis's `redisFormatCommandArgv` makes) to `buf`.
void encode(const redis_command& cmd, std::vector<char>& buf);

/// Command names are case-insensitive: "subscribe" is SUBSCRIBE.
bool equals_nocase(std::string_view x, std::string_view y);

/// Renders a command for logs: the name plus at most a few arguments, with the
/// arguments of AUTH (and HELLO's AUTH) replaced by "<redacted>".
std::string describe(const redis_command& cmd);

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, redis_command& x) {
  return f(caf::meta::type_name("rill::redis_command"), x.argv, x.blocks_for, x.route_key);
}

} // namespace rill
