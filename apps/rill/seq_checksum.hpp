#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace rill {

/// Mixes a sequence number (splitmix64). Summing mixed values (mod 2^64) gives
/// an order-independent checksum that, unlike a plain sum of seqs, does not
/// hide a lost entry behind a duplicated one.
uint64_t seq_hash(uint64_t seq) noexcept;

/// The checksum of seqs 0..n-1: what consuming everything `rill produce
/// --count n` wrote reports when nothing was lost or processed twice.
uint64_t expected_checksum(uint64_t n) noexcept;

/// Parses a decimal seq field; nullopt if it is not a plain unsigned number.
std::optional<uint64_t> parse_seq(std::string_view text) noexcept;

} // namespace rill
