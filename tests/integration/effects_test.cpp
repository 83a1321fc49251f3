// Staged effects against a real redis-server (docs/exactly-once.md): the
// script's checks, fence and reload as Redis 7 runs them.
#define CAF_SUITE effects
#include "redis_fixture.hpp"

#include <rill/actors/redis/key_slot.hpp>
#include <rill/runtime/runtime.hpp>

#include <atomic>
#include <set>

using namespace rill;
using namespace rill::testing;
using namespace std::chrono_literals;

namespace {

/// Runs one consumer of "s" with `k` workers over `n` entries (then stops).
void consume(redis_fixture& fx, uint64_t n, uint32_t k, const callback_list& callbacks,
             consumer_options opts, const std::function<void(runtime&)>& during = {}) {
  config cfg;
  fx.point(cfg);
  runtime rt{cfg};
  opts.limit = n;
  auto& c = rt.add_consumer(opts);
  for (size_t i = 0; i < callbacks.size(); ++i)
    c.callbacks().append(callbacks[i]);
  rt.start();
  if (during)
    during(rt);
  deadline limit{30s};
  rt.run([&] { return rt.consumers_finished() || limit.passed(); });
  CAF_CHECK(!limit.passed());
}

int64_t number(const redis_reply& r) {
  return r.is_string() ? std::stoll(r.str) : r.integer;
}

} // namespace

CAF_TEST(every_entry_applies_its_effects_once_with_its_xack) {
  redis_fixture fx;
  fx.fill("s", 0, 3000);
  callback_list cbs;
  cbs.add([](const stream_entry& e, effects& fx) {
    fx.hincrby("totals", "n", 1).hincrby("totals", "sum", std::stoll(*e.find("seq")));
    fx.xadd("out", {"src", e.id});
    fx.set("last:" + *e.find("seq"), e.id);
  });
  consume(fx, 3000, 32, cbs, consumer_for("s", "c", 32));
  CAF_CHECK_EQUAL(number(fx.redis({"HGET", "totals", "n"})), 3000);
  CAF_CHECK_EQUAL(number(fx.redis({"HGET", "totals", "sum"})), 3000 * 2999 / 2);
  CAF_CHECK_EQUAL(fx.redis({"XLEN", "out"}).integer, 3000);
  CAF_CHECK_EQUAL(fx.redis({"EXISTS", "last:2999"}).integer, 1);
  CAF_CHECK_EQUAL(fx.pending("s", "g"), 0);
  auto stats = fx.redis({"INFO", "commandstats"}).str;
  CAF_CHECK_NOT_EQUAL(stats.find("cmdstat_evalsha"), std::string::npos);
}

CAF_TEST(a_wrong_type_fails_that_entry_only_and_it_is_dead_lettered_without_partial_effects) {
  redis_fixture fx;
  fx.fill("s", 0, 20);
  fx.redis({"SET", "wrong", "a string"});
  fx.redis({"HSET", "totals", "text", "not a number"});
  callback_list cbs;
  cbs.add([](const stream_entry& e, effects& fx) {
    auto seq = *e.find("seq");
    fx.xadd("out", {"src", seq}); // first: written only if the rest can be
    if (seq == "5")
      fx.hincrby("wrong", "n", 1); // WRONGTYPE
    else if (seq == "6")
      fx.hincrby("totals", "text", 1); // not an integer
    else
      fx.hincrby("totals", "n", 1);
  });
  auto opts = consumer_for("s", "c", 4);
  opts.max_deliveries = 2;
  opts.redeliver_base = 10ms;
  consume(fx, 20, 4, cbs, opts);
  CAF_CHECK_EQUAL(number(fx.redis({"HGET", "totals", "n"})), 18);
  std::set<std::string> srcs;
  auto out = parse_entry_list(fx.redis({"XRANGE", "out", "-", "+"}));
  CAF_REQUIRE(out);
  for (auto& e : out->entries)
    srcs.insert(*e.find("src"));
  CAF_CHECK_EQUAL(srcs.size(), 18u);
  CAF_CHECK_EQUAL(srcs.count("5") + srcs.count("6"), 0u); // no partial entry
  CAF_CHECK_EQUAL(fx.redis({"XLEN", "out"}).integer, 18); // and none twice
  auto dead = parse_entry_list(fx.redis({"XRANGE", "s:dead", "-", "+"}));
  CAF_REQUIRE(dead);
  CAF_REQUIRE_EQUAL(dead->entries.size(), 2u);
  std::string reasons
    = *dead->entries[0].find("dead_reason") + *dead->entries[1].find("dead_reason");
  CAF_CHECK_NOT_EQUAL(reasons.find("WRONGTYPE wrong holds a string"), std::string::npos);
  CAF_CHECK_NOT_EQUAL(reasons.find("does not hold an integer"), std::string::npos);
  CAF_CHECK_EQUAL(fx.pending("s", "g"), 0);
}

CAF_TEST(a_flushed_script_is_loaded_again) {
  redis_fixture fx;
  fx.fill("s", 0, 2000);
  callback_list cbs;
  cbs.add_async([](const stream_entry& e, async_context ctx) {
    ctx.effects().hincrby("totals", "n", 1);
    ctx.done.after(1ms);
  });
  consume(fx, 2000, 16, cbs, consumer_for("s", "c", 16), [&](runtime& rt) {
    // Mid-run, as a restart or failover would lose it.
    while (rt.consumers().front()->metrics().effects_applied.load() < 500)
      std::this_thread::sleep_for(1ms);
    fx.redis({"SCRIPT", "FLUSH"});
  });
  CAF_CHECK_EQUAL(number(fx.redis({"HGET", "totals", "n"})), 2000);
  CAF_CHECK_EQUAL(fx.pending("s", "g"), 0);
  auto stats = fx.redis({"INFO", "commandstats"}).str;
  CAF_CHECK_NOT_EQUAL(stats.find("cmdstat_eval:calls="), std::string::npos); // the reload
}

CAF_TEST(an_entry_claimed_by_another_consumer_is_fenced) {
  redis_fixture fx;
  fx.fill("s", 0, 8);
  std::atomic<int> ran{0};
  callback_list cbs;
  cbs.add_async([&](const stream_entry& e, async_context ctx) {
    ++ran;
    ctx.effects().hincrby("totals", "n", 1);
    ctx.done.after(1500ms); // long enough to be claimed meanwhile
  });
  config cfg;
  fx.point(cfg);
  runtime rt{cfg};
  auto opts = consumer_for("s", "zombie", 8, 8);
  opts.claim_min_idle = 0s; // no lease renewals: it acts as a paused process
  auto& c = rt.add_consumer(opts);
  for (size_t i = 0; i < cbs.size(); ++i)
    c.callbacks().append(cbs[i]);
  rt.start();
  deadline limit{30s};
  rt.run([&] { return ran.load() == 8 || limit.passed(); });
  // Another consumer takes half of them over (XCLAIM bumps their counts).
  auto ids = fx.redis({"XPENDING", "s", "g", "-", "+", "4", "zombie"});
  std::vector<std::string> claim{"XCLAIM", "s", "g", "other", "0"};
  for (auto& row : ids.elements)
    claim.push_back(row.elements.at(0).str);
  fx.redis(claim);
  rt.run([&] {
    return c.metrics().fenced.load() + c.metrics().effects_applied.load() == 8 || limit.passed();
  });
  CAF_CHECK_EQUAL(c.metrics().fenced.load(), 4u);
  CAF_CHECK_EQUAL(c.metrics().effects_applied.load(), 4u);
  CAF_CHECK_EQUAL(number(fx.redis({"HGET", "totals", "n"})), 4);
  // The four stay pending for their new owner, not acked by the zombie.
  CAF_CHECK_EQUAL(fx.redis({"XPENDING", "s", "g", "-", "+", "10", "other"}).elements.size(), 4u);
}

CAF_TEST(binary_keys_and_large_values_are_applied_byte_for_byte_in_bounded_scripts) {
  redis_fixture fx;
  fx.fill("s", 0, 40);
  const std::string key{"t\0\xff", 3};
  const std::string field{"f\xfe\n", 3};
  const std::string big(1 << 20, '\0'); // 1 MiB per entry: 40 MiB staged in all
  callback_list cbs;
  cbs.add([&](const stream_entry& e, effects& fx) {
    fx.hincrby(key, field, 1).xadd("out", {field, big, "src", e.id});
  });
  consume(fx, 40, 40, cbs, consumer_for("s", "c", 40));
  CAF_CHECK_EQUAL(number(fx.redis({"HGET", key, field})), 40);
  auto out = parse_entry_list(fx.redis({"XRANGE", "out", "-", "+"}));
  CAF_REQUIRE(out);
  CAF_REQUIRE_EQUAL(out->entries.size(), 40u);
  CAF_CHECK(*out->entries[7].find(field) == big);
  // At most 16 MiB per script: 40 MiB went in at least three.
  auto stats = fx.redis({"INFO", "commandstats"}).str;
  auto at = stats.find("cmdstat_evalsha:calls=");
  CAF_REQUIRE(at != std::string::npos);
  CAF_CHECK_GREATER_OR_EQUAL(std::stoi(stats.substr(at + 22)), 3);
  CAF_CHECK_EQUAL(fx.pending("s", "g"), 0);
}
