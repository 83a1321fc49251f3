#pragma once

#include <rill/actors/redis/reply.hpp>

#include <caf/expected.hpp>
#include <caf/timestamp.hpp>

#include <memory>
#include <string>
#include <vector>

struct redisContext;

namespace rill {

/// A small synchronous Redis client on hiredis's blocking API, for tools,
/// tests and the benchmark baseline. It blocks its thread: never use it inside
/// an actor.
class blocking_client {
public:
  /// Connects with a deadline; the same deadline applies to every reply.
  static caf::expected<blocking_client> connect(const std::string& host, uint16_t port,
                                                caf::timespan timeout = std::chrono::seconds{5});

  /// Runs one command. Error replies become errors (see `error_from_reply`).
  caf::expected<redis_reply> command(const std::vector<std::string>& argv);

  /// Queues a command for a pipeline; `read_reply` returns the replies in order.
  void append(const std::vector<std::string>& argv);
  caf::expected<redis_reply> read_reply();

  /// The hiredis context, for code that measures hiredis itself.
  redisContext* native() noexcept { return ctx_.get(); }

private:
  struct deleter {
    void operator()(redisContext* ctx) const noexcept;
  };
  explicit blocking_client(redisContext* ctx) : ctx_(ctx) {}
  std::unique_ptr<redisContext, deleter> ctx_;
};

} // namespace rill
