#include <rill/actors/redis/key_slot.hpp>

#include <algorithm>
#include <array>
#include <cctype>

namespace rill {

namespace {

constexpr std::array<uint16_t, 256> make_crc_table() {
  std::array<uint16_t, 256> table{};
  for (uint32_t byte = 0; byte < 256; ++byte) {
    uint32_t crc = byte << 8;
    for (int bit = 0; bit < 8; ++bit)
      crc = (crc & 0x8000) ? (crc << 1) ^ 0x1021 : crc << 1;
    table[byte] = static_cast<uint16_t>(crc & 0xffff);
  }
  return table;
}

constexpr auto crc_table = make_crc_table();

/// Commands that never name a key: they go to any node (or to `route_key`'s).
bool keyless(std::string_view name) {
  static constexpr std::string_view names[]
    = {"PING",    "INFO",      "CLIENT",   "CLUSTER", "CONFIG",   "SCAN",    "DBSIZE",
       "COMMAND", "SCRIPT",    "FUNCTION", "TIME",    "ECHO",     "ASKING",  "READONLY",
       "WAIT",    "DEBUG",     "FLUSHALL", "FLUSHDB", "SELECT",   "AUTH",    "HELLO",
       "LATENCY", "SLOWLOG",   "ACL",      "MULTI",   "EXEC",     "DISCARD", "MONITOR",
       "PUBLISH", "RANDOMKEY", "SAVE",     "BGSAVE",  "LASTSAVE", "ROLE",    "SENTINEL"};
  return std::any_of(std::begin(names), std::end(names),
                     [&](std::string_view n) { return equals_nocase(n, name); });
}

} // namespace

uint16_t crc16(std::string_view bytes) noexcept {
  uint16_t crc = 0;
  for (unsigned char c : bytes)
    crc = static_cast<uint16_t>((crc << 8) ^ crc_table[((crc >> 8) ^ c) & 0xff]);
  return crc;
}

std::string_view hashed_part(std::string_view key) noexcept {
  auto open = key.find('{');
  if (open == std::string_view::npos)
    return key;
  auto close = key.find('}', open + 1);
  if (close == std::string_view::npos || close == open + 1)
    return key; // no closing brace, or "{}": the whole key is hashed
  return key.substr(open + 1, close - open - 1);
}

bool has_hash_tag(std::string_view key) noexcept {
  return hashed_part(key).size() != key.size();
}

uint16_t key_slot(std::string_view key) noexcept {
  return crc16(hashed_part(key)) & (cluster_slots - 1);
}

std::string same_slot_key(std::string_view prefix, std::string_view stream,
                          std::string_view suffix) {
  std::string key{prefix};
  if (has_hash_tag(stream)) {
    key += stream;
  } else {
    key += '{';
    key += stream;
    key += '}';
  }
  key += suffix;
  return key;
}

std::optional<std::string_view> routing_key(const redis_command& cmd) {
  if (!cmd.route_key.empty())
    return std::string_view{cmd.route_key};
  const auto& a = cmd.argv;
  if (a.size() < 2 || keyless(a[0]))
    return std::nullopt;
  const auto& name = a[0];
  if (equals_nocase(name, "XREADGROUP") || equals_nocase(name, "XREAD")) {
    for (size_t i = 1; i + 1 < a.size(); ++i)
      if (equals_nocase(a[i], "STREAMS"))
        return std::string_view{a[i + 1]};
    return std::nullopt;
  }
  if (equals_nocase(name, "XGROUP") || equals_nocase(name, "XINFO") || equals_nocase(name, "MEMORY")
      || equals_nocase(name, "OBJECT")) {
    if (a.size() < 3)
      return std::nullopt;
    return std::string_view{a[2]};
  }
  if (equals_nocase(name, "EVAL") || equals_nocase(name, "EVALSHA")
      || equals_nocase(name, "EVAL_RO") || equals_nocase(name, "EVALSHA_RO")
      || equals_nocase(name, "FCALL") || equals_nocase(name, "FCALL_RO")) {
    if (a.size() < 4 || a[2] == "0")
      return std::nullopt;
    return std::string_view{a[3]};
  }
  return std::string_view{a[1]};
}

} // namespace rill
