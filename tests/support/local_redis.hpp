#pragma once

#include <caf/expected.hpp>

#include <cstdint>
#include <string>
#include <sys/types.h>
#include <vector>

namespace rill {

/// A TCP port on 127.0.0.1 that was free a moment ago (0 if none was found).
uint16_t free_loopback_port();

/// A private `redis-server` for tests, demos and benchmarks: a free loopback
/// port, its own temporary directory, stopped when this object is destroyed -
/// and killed by the kernel if the process that started it dies first
/// (PR_SET_PDEATHSIG), so no server outlives a crashed or timed-out test.
class local_redis {
public:
  struct options {
    /// Append-only file with `appendfsync always` (survives restarts).
    bool aof = false;
    /// `requirepass` (empty: none).
    std::string password;
    /// More `--name value` arguments for redis-server.
    std::vector<std::string> extra_args;
  };

  /// Starts a server and waits until it answers PING.
  static caf::expected<local_redis> start(options opts);
  static caf::expected<local_redis> start() { return start(options{}); }

  local_redis(local_redis&& other) noexcept;
  local_redis& operator=(local_redis&&) = delete;
  ~local_redis();

  uint16_t port() const noexcept { return port_; }
  /// "127.0.0.1:<port>".
  std::string address() const;
  const std::string& dir() const noexcept { return dir_; }
  pid_t pid() const noexcept { return pid_; }
  bool running() const noexcept { return pid_ > 0; }

  /// Stops the server with SIGTERM (it flushes its AOF), SIGKILL after 5 s.
  void stop();

  /// Starts it again on the same port and directory.
  caf::error restart();

private:
  local_redis() = default;
  caf::error launch();

  options opts_;
  std::string dir_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

} // namespace rill
