#pragma once

#include <rill/actors/redis/reply.hpp>

#include <caf/expected.hpp>

#include <cstddef>

struct redisReader;

namespace rill {

/// Incremental RESP2 decoder built on hiredis's `redisReader`. Replies are
/// built directly as `redis_reply` trees (one copy of each string, from the
/// socket buffer into the tree), never through hiredis's own reply objects.
class reply_reader {
public:
  reply_reader();
  ~reply_reader();

  reply_reader(const reply_reader&) = delete;
  reply_reader& operator=(const reply_reader&) = delete;

  /// Appends bytes received from the server.
  void feed(const char* data, size_t size);

  /// Takes the next complete reply into `out`. Returns `false` when more
  /// bytes are needed, or `sec::protocol_error` when the input is not RESP2
  /// (the reader is unusable afterwards).
  caf::expected<bool> next(redis_reply& out);

  /// Drops all buffered input and any error state.
  void reset();

private:
  redisReader* impl_;
};

} // namespace rill
