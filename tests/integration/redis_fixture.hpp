#pragma once

// Integration tests run against a real redis-server that each test starts on
// a free loopback port (rill::local_redis) and that dies with the test process
// even on a crash or a ctest timeout (PR_SET_PDEATHSIG).

#include <rill/actors/error.hpp>
#include <rill/actors/options.hpp>
#include <rill/actors/stream_entry.hpp>
#include <rill/runtime/config.hpp>
#include <rill/runtime/logging.hpp>
#include <rill/testing/blocking_client.hpp>
#include <rill/testing/local_redis.hpp>

#include <caf/test/unit_test.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace rill::testing {

struct redis_fixture {
  std::optional<local_redis> server;

  explicit redis_fixture(local_redis::options opts = {}) {
    setup_logging("info");
    auto s = local_redis::start(std::move(opts));
    if (!s)
      CAF_FAIL("cannot start redis-server: " << describe(s.error()));
    server.emplace(std::move(*s));
  }

  /// A config pointed at the test's server.
  void point(config& cfg) const {
    cfg.redis.host = "127.0.0.1";
    cfg.redis.port = server->port();
    cfg.set("scheduler.max-threads", size_t{2});
  }

  blocking_client admin(const std::string& password = {}) const {
    auto c = blocking_client::connect("127.0.0.1", server->port());
    if (!c)
      CAF_FAIL("admin connect: " << describe(c.error()));
    if (!password.empty())
      c->command({"AUTH", password});
    return std::move(*c);
  }

  /// Runs a command on a fresh admin connection; fails the test on error.
  redis_reply redis(const std::vector<std::string>& argv, const std::string& password = {}) const {
    auto c = admin(password);
    auto r = c.command(argv);
    if (!r)
      CAF_FAIL(argv.front() << ": " << describe(r.error()));
    return std::move(*r);
  }

  /// The one entry `stream` holds (a dead letter, say); fails the test if it
  /// holds none or more.
  stream_entry only_entry(const std::string& stream) const {
    auto all = redis({"XRANGE", stream, "-", "+"});
    CAF_REQUIRE_EQUAL(all.elements.size(), 1u);
    auto entries = parse_entry_list(std::move(all));
    CAF_REQUIRE(entries);
    return std::move(entries->entries.at(0));
  }

  /// XADDs seq = first..first+n-1 (pipelined).
  void fill(const std::string& stream, uint64_t first, uint64_t n) const {
    auto c = admin();
    for (uint64_t i = first; i < first + n; ++i)
      c.append({"XADD", stream, "*", "seq", std::to_string(i), "payload", "p"});
    for (uint64_t i = 0; i < n; ++i)
      if (!c.read_reply())
        CAF_FAIL("XADD failed");
  }

  /// Number of entries pending in the group (XPENDING summary).
  int64_t pending(const std::string& stream, const std::string& group) const {
    return redis({"XPENDING", stream, group}).elements.at(0).integer;
  }
};

/// Options for a consumer of group "g" named `name` with `k` workers that
/// stops after `limit` entries (0: never).
inline consumer_options consumer_for(const std::string& stream, const std::string& name, uint32_t k,
                                     uint64_t limit = 0) {
  consumer_options opts;
  opts.stream = stream;
  opts.group = "g";
  opts.consumer = name;
  opts.max_in_flight = k;
  opts.limit = limit;
  return opts;
}

/// A deadline for `runtime::run` predicates: a hung test fails instead of
/// waiting for the ctest timeout.
struct deadline {
  std::chrono::steady_clock::time_point at;
  explicit deadline(std::chrono::seconds s) : at(std::chrono::steady_clock::now() + s) {}
  bool passed() const { return std::chrono::steady_clock::now() > at; }
};

} // namespace rill::testing
