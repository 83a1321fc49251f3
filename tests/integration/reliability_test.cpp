#define CAF_SUITE reliability
#include "redis_fixture.hpp"
#include "seq_checksum.hpp"
#include <rill/actors/redis/stream_commands.hpp>
#include <rill/runtime/runtime.hpp>

#include <caf/test/unit_test.hpp>

#include <csignal>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

using namespace rill;
using namespace rill::testing;
using namespace std::chrono_literals;

namespace {} // namespace

CAF_TEST(lease_keeps_a_long_callback_from_being_claimed) {
  redis_fixture fx;
  fx.fill("s", 0, 1);
  config cfg_a;
  config cfg_b;
  fx.point(cfg_a);
  fx.point(cfg_b);
  std::atomic<int> runs_a{0};
  std::atomic<int> runs_b{0};
  std::atomic<int> slow_runs{0};
  auto opts_a = consumer_for("s", "a", 4);
  auto opts_b = consumer_for("s", "b", 4);
  for (auto* o : {&opts_a, &opts_b}) {
    o->claim_min_idle = 1s;
    o->claim_interval = 100ms;
  }
  runtime rt_a{cfg_a};
  rt_a.add_consumer(opts_a).add_async([&](const stream_entry& e, async_context ctx) {
    ++runs_a;
    if (*e.find("seq") == "0") {
      ++slow_runs;
      ctx.done.after(3500ms); // 3.5x the claim idle time
    } else {
      ctx.done();
    }
  });
  rt_a.start();
  deadline first{10s};
  while (runs_a == 0 && !first.passed())
    std::this_thread::sleep_for(10ms);
  CAF_REQUIRE_EQUAL(runs_a.load(), 1);
  // A second consumer of the group, eager to claim anything idle for 1 s.
  runtime rt_b{cfg_b};
  auto& b = rt_b.add_consumer(opts_b);
  b.add_async([&](const stream_entry& e, async_context ctx) {
    ++runs_b;
    if (*e.find("seq") == "0")
      ++slow_runs;
    ctx.done();
  });
  rt_b.start();
  fx.fill("s", 1, 200); // work for both
  deadline limit{20s};
  while (!(fx.pending("s", "g") == 0 && runs_a + runs_b >= 201) && !limit.passed())
    std::this_thread::sleep_for(50ms);
  CAF_CHECK_EQUAL(slow_runs.load(), 1); // processed once, by its owner
  CAF_CHECK_EQUAL(b.metrics().claimed.load(), 0u);
  CAF_CHECK_EQUAL(runs_a + runs_b, 201);
  CAF_CHECK_EQUAL(fx.pending("s", "g"), 0);
}

CAF_TEST(group_deleted_while_consuming_is_recreated) {
  redis_fixture fx;
  config cfg;
  fx.point(cfg);
  std::mutex mtx;
  std::set<uint64_t> seen;
  runtime rt{cfg};
  auto& c = rt.add_consumer(consumer_for("s", "c", 8));
  c.add([&](const stream_entry& e) {
    std::lock_guard<std::mutex> guard{mtx};
    seen.insert(*parse_seq(*e.find("seq")));
  });
  rt.start();
  fx.fill("s", 0, 500);
  auto count = [&] {
    std::lock_guard<std::mutex> guard{mtx};
    return seen.size();
  };
  deadline limit{30s};
  while (count() < 500 && !limit.passed())
    std::this_thread::sleep_for(10ms);
  fx.redis({"XGROUP", "DESTROY", "s", "g"});
  fx.fill("s", 500, 500);
  while (count() < 1000 && !limit.passed())
    std::this_thread::sleep_for(10ms);
  CAF_CHECK_EQUAL(count(), 1000u);
  auto groups = fx.redis({"XINFO", "GROUPS", "s"});
  CAF_CHECK_EQUAL(groups.elements.size(), 1u);
  while (fx.pending("s", "g") != 0 && !limit.passed())
    std::this_thread::sleep_for(10ms);
  CAF_CHECK_EQUAL(fx.pending("s", "g"), 0);
}

CAF_TEST(stream_trimmed_under_pending_entries) {
  redis_fixture fx;
  fx.fill("s", 0, 100);
  fx.redis({"XGROUP", "CREATE", "s", "g", "0"});
  fx.redis({"XREADGROUP", "GROUP", "g", "c", "COUNT", "50", "STREAMS", "s", ">"});
  fx.redis({"XTRIM", "s", "MAXLEN", "0"}); // the 50 pending entries are gone
  CAF_REQUIRE_EQUAL(fx.pending("s", "g"), 50);
  fx.fill("s", 100, 10);
  config cfg;
  fx.point(cfg);
  std::atomic<int> runs{0};
  {
    runtime rt{cfg};
    auto opts = consumer_for("s", "c", 8);
    opts.limit = 10;
    auto& c = rt.add_consumer(opts);
    c.add([&](const stream_entry&) { ++runs; });
    rt.start();
    deadline limit{20s};
    rt.run([&] { return rt.consumers_finished() || limit.passed(); });
    CAF_CHECK_EQUAL(c.metrics().deleted.load(), 50u);
  }
  CAF_CHECK_EQUAL(runs.load(), 10);
  CAF_CHECK_EQUAL(fx.pending("s", "g"), 0);
}

CAF_TEST(sixteen_megabyte_value) {
  redis_fixture fx;
  config cfg;
  fx.point(cfg);
  std::string big(16 << 20, 'x');
  for (size_t i = 0; i < big.size(); i += 4096)
    big[i] = static_cast<char>(i / 4096);
  std::atomic<size_t> got_size{0};
  std::atomic<bool> same{false};
  {
    runtime rt{cfg};
    auto opts = consumer_for("big", "c", 2);
    opts.limit = 2;
    auto& c = rt.add_consumer(opts);
    c.add([&](const stream_entry& e) {
      if (auto v = e.find("v")) {
        got_size = v->size();
        same = *v == big;
      }
    });
    rt.start();
    CAF_CHECK(rt.xadd("big", {"v", big}));
    CAF_CHECK(rt.xadd("big", {"small", "1"}));
    deadline limit{30s};
    rt.run([&] { return rt.consumers_finished() || limit.passed(); });
  }
  CAF_CHECK_EQUAL(got_size.load(), big.size());
  CAF_CHECK(same.load());
  CAF_CHECK_EQUAL(fx.pending("big", "g"), 0);
}

CAF_TEST(missing_permission_is_clear_and_isolated) {
  redis_fixture fx;
  fx.redis({"ACL", "SETUSER", "orders-app", "on", ">pw", "~orders*", "&*", "+@all"});
  fx.fill("orders", 0, 100);
  config cfg;
  fx.point(cfg);
  cfg.redis.user = "orders-app";
  cfg.redis.password = "pw";
  runtime rt{cfg};
  auto& denied = rt.add_consumer(consumer_for("payments", "c", 4));
  denied.add([](const stream_entry&) {});
  auto opts = consumer_for("orders", "c", 4);
  opts.limit = 100;
  auto& allowed = rt.add_consumer(opts);
  allowed.add([](const stream_entry&) {});
  rt.start();
  deadline limit{20s};
  rt.run([&] {
    return (allowed.metrics().finished && !denied.metrics().last_error().empty()) || limit.passed();
  });
  CAF_CHECK_EQUAL(allowed.metrics().processed.load(), 100u);
  auto err = denied.metrics().last_error();
  CAF_CHECK_NOT_EQUAL(err.find("rill::sec::no_permission"), std::string::npos);
  CAF_CHECK_NOT_EQUAL(err.find("NOPERM"), std::string::npos);
}

CAF_TEST(producer_fails_fast_while_redis_is_down_then_resumes) {
  redis_fixture fx;
  config cfg;
  fx.point(cfg);
  cfg.redis.reconnect_max = 200ms;
  runtime rt{cfg};
  CAF_REQUIRE(rt.xadd("s", {"seq", "0"}));
  fx.server->stop();
  // The first request may see the connection die; after that, fail fast.
  rt.xadd("s", {"seq", "1"});
  auto t0 = std::chrono::steady_clock::now();
  auto down = rt.xadd("s", {"seq", "1"});
  auto took = std::chrono::steady_clock::now() - t0;
  CAF_REQUIRE(!down);
  CAF_CHECK_EQUAL(code_of(down.error()), sec::redis_unavailable);
  CAF_CHECK_LESS(took, 500ms); // no waiting for a timeout, no queueing
  CAF_REQUIRE(!fx.server->restart());
  deadline limit{10s};
  caf::expected<std::string> back{caf::error{}};
  do {
    std::this_thread::sleep_for(50ms);
    back = rt.xadd("s", {"seq", "2"});
  } while (!back && !limit.passed());
  CAF_CHECK(back);
}

CAF_TEST(idle_consumers_without_pending_entries_are_removed) {
  redis_fixture fx;
  fx.fill("s", 0, 2);
  fx.redis({"XGROUP", "CREATE", "s", "g", "0"});
  // "gone" read and acked its entry; "holder" still has one pending.
  auto r1 = fx.redis({"XREADGROUP", "GROUP", "g", "gone", "COUNT", "1", "STREAMS", "s", ">"});
  fx.redis({"XACK", "s", "g", r1.elements.at(0).elements.at(1).elements.at(0).elements.at(0).str});
  fx.redis({"XREADGROUP", "GROUP", "g", "holder", "COUNT", "1", "STREAMS", "s", ">"});
  config cfg;
  fx.point(cfg);
  runtime rt{cfg};
  auto opts = consumer_for("s", "live", 2);
  opts.consumer_idle_timeout = 300ms;
  opts.claim_min_idle = 0s; // keep "holder"'s entry where it is
  auto& c = rt.add_consumer(opts);
  c.add([](const stream_entry&) {});
  rt.start();
  deadline limit{10s};
  rt.run([&] { return c.metrics().consumers_removed > 0 || limit.passed(); });
  CAF_CHECK_EQUAL(c.metrics().consumers_removed.load(), 1u);
  auto info = caf::deep_to_string(fx.redis({"XINFO", "CONSUMERS", "s", "g"}));
  CAF_CHECK_EQUAL(info.find("\"gone\""), std::string::npos);
  CAF_CHECK_NOT_EQUAL(info.find("\"holder\""), std::string::npos);
  CAF_CHECK_NOT_EQUAL(info.find("\"live\""), std::string::npos);
  CAF_CHECK_EQUAL(fx.pending("s", "g"), 1); // holder's entry was not dropped
}

CAF_TEST(a_frozen_server_times_out_every_request) {
  redis_fixture fx;
  fx.fill("s", 0, 10);
  config cfg;
  fx.point(cfg);
  cfg.redis.request_timeout = 500ms;
  cfg.redis.connect_timeout = 500ms;
  cfg.redis.reconnect_max = 200ms;
  runtime rt{cfg};
  auto opts = consumer_for("s", "c", 4);
  opts.block = 200ms;
  auto& c = rt.add_consumer(opts);
  std::atomic<int> runs{0};
  c.add([&](const stream_entry&) { ++runs; });
  rt.start();
  deadline limit{20s};
  while (runs < 10 && !limit.passed())
    std::this_thread::sleep_for(10ms);
  ::kill(fx.server->pid(), SIGSTOP); // accepts bytes, answers nothing
  auto t0 = std::chrono::steady_clock::now();
  auto frozen = rt.xadd("s", {"seq", "10"});
  auto took = std::chrono::steady_clock::now() - t0;
  CAF_REQUIRE(!frozen);
  CAF_CHECK_EQUAL(code_of(frozen.error()), sec::connection_lost); // closed by its deadline
  CAF_CHECK_NOT_EQUAL(describe(frozen.error()).find("no reply to XADD"), std::string::npos);
  CAF_CHECK_LESS(took, 2s);
  while (c.metrics().last_error().empty() && !limit.passed())
    std::this_thread::sleep_for(10ms);
  CAF_CHECK_NOT_EQUAL(c.metrics().last_error().find("no reply to XREADGROUP"), std::string::npos);
  ::kill(fx.server->pid(), SIGCONT);
  caf::expected<std::string> back{caf::error{}};
  do {
    std::this_thread::sleep_for(50ms);
    back = rt.xadd("s", {"seq", "10"});
  } while (!back && !limit.passed());
  CAF_CHECK(back);
  while (runs < 11 && !limit.passed())
    std::this_thread::sleep_for(10ms);
  CAF_CHECK_GREATER_OR_EQUAL(runs.load(), 11);
}

namespace {

/// A consumer whose only callback dead-letters entries without a seq field.
void add_seq_check(consumer& c, std::atomic<int>& good) {
  c.add([&good](const stream_entry& e) -> caf::error {
    if (e.find("seq") == nullptr)
      return fail_permanently("entry has no seq field");
    ++good;
    return caf::none;
  });
}

} // namespace

CAF_TEST(a_dead_letter_carries_any_number_of_fields) {
  redis_fixture fx;
  // 4,100 names and values: more than one redis.call in a script can take.
  std::vector<std::string> fields;
  for (int i = 0; i < 2050; ++i) {
    fields.push_back("f" + std::to_string(i));
    fields.push_back(std::string(1, static_cast<char>(i % 256)) + "v" + std::to_string(i));
  }
  std::vector<std::string> xadd{"XADD", "s", "*"};
  xadd.insert(xadd.end(), fields.begin(), fields.end());
  fx.redis(xadd);
  fx.fill("s", 0, 10);
  config cfg;
  fx.point(cfg);
  std::atomic<int> good{0};
  {
    runtime rt{cfg};
    auto& c = rt.add_consumer(consumer_for("s", "c", 4, 11));
    add_seq_check(c, good);
    rt.start();
    deadline limit{20s};
    rt.run([&] { return rt.consumers_finished() || limit.passed(); });
    CAF_CHECK_EQUAL(c.metrics().dead_lettered.load(), 1u);
  }
  CAF_CHECK_EQUAL(good.load(), 10);
  CAF_CHECK_EQUAL(fx.pending("s", "g"), 0);
  auto letter = fx.only_entry("s:dead");
  auto packed = letter.find(dead_packed_field);
  CAF_REQUIRE(packed != nullptr);
  auto original = unpack_fields(*packed);
  CAF_REQUIRE(original);
  CAF_CHECK(*original == fields);
  CAF_CHECK_EQUAL(*letter.find("dead_reason"),
                  "rill::sec::permanent_failure: entry has no seq field");
}

CAF_TEST(a_dead_letter_key_of_the_wrong_type_stalls_nothing) {
  redis_fixture fx;
  fx.redis({"HSET", "s:dead", "a", "b"});
  for (int i = 0; i < 4; ++i)
    fx.redis({"XADD", "s", "*", "junk", std::to_string(i)});
  fx.fill("s", 0, 1000);
  config cfg;
  fx.point(cfg);
  std::atomic<int> good{0};
  runtime rt{cfg};
  auto opts = consumer_for("s", "c", 4);
  opts.retry_max = 200ms; // the dead-letter backoff
  auto& c = rt.add_consumer(opts);
  add_seq_check(c, good);
  rt.start();
  deadline limit{20s};
  rt.run([&] { return good == 1000 || limit.passed(); });
  CAF_CHECK_EQUAL(good.load(), 1000);
  // The four poison entries stay pending while their dead letter fails ...
  rt.run([&] { return fx.pending("s", "g") == 4 || limit.passed(); });
  CAF_CHECK_EQUAL(fx.pending("s", "g"), 4);
  CAF_CHECK_GREATER_OR_EQUAL(c.metrics().dead_letter_failures.load(), 4u);
  // ... and are written once the key is fixed.
  fx.redis({"DEL", "s:dead"});
  rt.run([&] { return fx.pending("s", "g") == 0 || limit.passed(); });
  CAF_CHECK_EQUAL(fx.pending("s", "g"), 0);
  CAF_CHECK_EQUAL(fx.redis({"XLEN", "s:dead"}).integer, 4);
  CAF_CHECK_EQUAL(c.metrics().dead_lettered.load(), 4u);
}

CAF_TEST(a_second_process_with_the_same_consumer_name_is_refused) {
  redis_fixture fx;
  fx.fill("s", 0, 1000);
  config cfg_a;
  config cfg_b;
  fx.point(cfg_a);
  fx.point(cfg_b);
  std::mutex mtx;
  std::multiset<std::string> seen;
  auto count = [&](const stream_entry& e) {
    std::lock_guard<std::mutex> guard{mtx};
    seen.insert(e.id);
  };
  runtime rt_a{cfg_a};
  auto& a = rt_a.add_consumer(consumer_for("s", "c1", 8));
  a.add([&](const stream_entry& e) { count(e); });
  rt_a.start();
  deadline limit{20s};
  while (a.metrics().processed == 0 && !limit.passed())
    std::this_thread::sleep_for(1ms);
  {
    runtime rt_b{cfg_b}; // "another process", same name
    auto& b = rt_b.add_consumer(consumer_for("s", "c1", 8));
    b.add([&](const stream_entry& e) { count(e); });
    rt_b.start();
    auto rc = rt_b.run([&] { return rt_b.consumers_finished() || limit.passed(); });
    CAF_CHECK_EQUAL(rc, runtime::exit_refused);
    CAF_CHECK(b.metrics().refused.load());
    CAF_CHECK_NOT_EQUAL(b.metrics().last_error().find("is in use by another process"),
                        std::string::npos);
    CAF_CHECK_EQUAL(b.metrics().delivered.load(), 0u);
  }
  while (fx.pending("s", "g") > 0 || a.metrics().processed < 1000) {
    if (limit.passed())
      break;
    std::this_thread::sleep_for(10ms);
  }
  rt_a.stop();
  CAF_CHECK(rt_a.await_consumers(10s));
  CAF_CHECK_EQUAL(seen.size(), 1000u); // each entry once
  CAF_CHECK_EQUAL(std::set<std::string>(seen.begin(), seen.end()).size(), 1000u);
  // A graceful stop gives the name back: the next process starts at once.
  CAF_CHECK_EQUAL(fx.redis({"EXISTS", name_lease_key("s", "g", "c1")}).integer, 0);
  fx.fill("s", 1000, 10);
  config cfg_c;
  fx.point(cfg_c);
  runtime rt_c{cfg_c};
  auto& c = rt_c.add_consumer(consumer_for("s", "c1", 8, 10));
  c.add([&](const stream_entry& e) { count(e); });
  rt_c.start();
  CAF_CHECK_EQUAL(rt_c.run([&] { return rt_c.consumers_finished() || limit.passed(); }), 0);
  CAF_CHECK_EQUAL(c.metrics().processed.load(), 10u);
}
