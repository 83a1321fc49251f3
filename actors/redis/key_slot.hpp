#pragma once

// Redis Cluster's key -> hash slot rule, exactly as the server computes it
// (cluster.c keyHashSlot): CRC16 (XMODEM) of the key, or of its hash tag -
// the bytes between the first '{' and the first '}' after it, when there is
// at least one - modulo 16384. And the rule rill uses for every key it
// derives from a stream (dead letters, name leases): one the server puts in
// the stream's slot, so multi-key scripts never hit CROSSSLOT.

#include <rill/actors/redis/command.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rill {

constexpr uint16_t cluster_slots = 16384;

/// CRC16-CCITT (XMODEM: polynomial 0x1021, initial value 0), Redis' variant.
uint16_t crc16(std::string_view bytes) noexcept;

/// The part of `key` that is hashed: its hash tag if it has one, else all of it.
std::string_view hashed_part(std::string_view key) noexcept;

/// True if `key` has a non-empty hash tag.
bool has_hash_tag(std::string_view key) noexcept;

/// The hash slot of `key` (0..16383).
uint16_t key_slot(std::string_view key) noexcept;

/// `prefix + stream + suffix` when the stream has a hash tag (it decides the
/// slot then), else `prefix + "{" + stream + "}" + suffix`. Either way the
/// result is in the stream's slot unless the stream's name holds braces
/// that do not form a tag ("a{}b"): `in_slot_of` tells.
std::string same_slot_key(std::string_view prefix, std::string_view stream,
                          std::string_view suffix);

/// The key whose slot decides where `cmd` goes in a cluster: its route_key
/// if set, else the first key of the command (see key_slot.cpp for the
/// commands with their key elsewhere than the first argument), or none for
/// commands without keys (PING, INFO, CLIENT, CLUSTER, SCAN, ...).
std::optional<std::string_view> routing_key(const redis_command& cmd);

} // namespace rill
