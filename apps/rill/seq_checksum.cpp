#include "seq_checksum.hpp"

#include <charconv>

namespace rill {

uint64_t seq_hash(uint64_t seq) noexcept {
  uint64_t z = seq + 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t expected_checksum(uint64_t n) noexcept {
  uint64_t sum = 0;
  for (uint64_t i = 0; i < n; ++i)
    sum += seq_hash(i);
  return sum;
}

std::optional<uint64_t> parse_seq(std::string_view text) noexcept {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty())
    return std::nullopt;
  return value;
}

} // namespace rill
