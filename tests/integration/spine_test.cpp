#define CAF_SUITE spine
#include "load_generator.hpp"
#include "redis_fixture.hpp"
#include "seq_checksum.hpp"
#include <rill/runtime/runtime.hpp>

#include <caf/event_based_actor.hpp>
#include <caf/scheduler/abstract_coordinator.hpp>
#include <caf/test/unit_test.hpp>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <csignal>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

using namespace rill;
using namespace rill::testing;
using namespace std::chrono_literals;

namespace {} // namespace

CAF_TEST(roundtrip_100k) {
  redis_fixture fx;
  config cfg;
  fx.point(cfg);
  constexpr uint64_t n = 100'000;
  std::atomic<uint64_t> checksum{0};
  {
    runtime rt{cfg};
    auto& c = rt.add_consumer(consumer_for("orders", "c1", 64, n));
    c.add([&](const stream_entry& e) { checksum.fetch_add(seq_hash(*parse_seq(*e.find("seq")))); });
    rt.start();
    load_plan plan;
    plan.stream = "orders";
    plan.count = n;
    auto progress = std::make_shared<load_progress>();
    spawn_load_generator(rt.system(), rt.producer(), rt.shared_connection(), plan, progress);
    deadline limit{60s};
    rt.run([&] { return rt.consumers_finished() || limit.passed(); });
    CAF_CHECK_EQUAL(progress->produced.load(), n);
    CAF_CHECK_EQUAL(c.metrics().processed.load(), n);
    CAF_CHECK_EQUAL(c.metrics().acked.load(), n);
    CAF_CHECK_LESS_OR_EQUAL(c.metrics().max_in_flight_seen.load(), 64u);
  }
  CAF_CHECK_EQUAL(checksum.load(), expected_checksum(n));
  CAF_CHECK_EQUAL(fx.redis({"XLEN", "orders"}).integer, static_cast<int64_t>(n));
  CAF_CHECK_EQUAL(fx.pending("orders", "g"), 0);
}

CAF_TEST(restart_processes_own_pending_first) {
  redis_fixture fx;
  fx.fill("jobs", 0, 50);
  // A previous run of consumer c1 read 10 entries and died before acking.
  fx.redis({"XGROUP", "CREATE", "jobs", "g", "0"});
  auto earlier
    = fx.redis({"XREADGROUP", "GROUP", "g", "c1", "COUNT", "10", "STREAMS", "jobs", ">"});
  std::vector<std::string> pending_ids;
  for (auto& e : earlier.elements.at(0).elements.at(1).elements)
    pending_ids.push_back(e.elements.at(0).str);
  CAF_REQUIRE_EQUAL(pending_ids.size(), 10u);
  CAF_REQUIRE_EQUAL(fx.pending("jobs", "g"), 10);
  config cfg;
  fx.point(cfg);
  std::vector<std::string> order;
  {
    runtime rt{cfg};
    auto& c = rt.add_consumer(consumer_for("jobs", "c1", 1, 50));
    c.add([&](const stream_entry& e) { order.push_back(e.id); }); // one worker: no race
    rt.start();
    deadline limit{30s};
    rt.run([&] { return rt.consumers_finished() || limit.passed(); });
  }
  CAF_REQUIRE_EQUAL(order.size(), 50u);
  CAF_CHECK_EQUAL(std::vector<std::string>(order.begin(), order.begin() + 10), pending_ids);
  CAF_CHECK_EQUAL(std::set<std::string>(order.begin(), order.end()).size(), 50u);
  CAF_CHECK_EQUAL(fx.pending("jobs", "g"), 0);
}

CAF_TEST(redis_restart_mid_run_loses_nothing) {
  local_redis::options opts;
  opts.aof = true;
  redis_fixture fx{opts};
  constexpr uint64_t n = 30'000;
  fx.fill("events", 0, n);
  config cfg;
  fx.point(cfg);
  cfg.redis.reconnect_max = 500ms;
  std::mutex mtx;
  std::vector<uint32_t> seen(n, 0);
  {
    runtime rt{cfg};
    auto& c = rt.add_consumer(consumer_for("events", "c1", 64, 0));
    c.add([&](const stream_entry& e) {
      std::this_thread::sleep_for(20us); // keep the run long enough to interrupt
      std::lock_guard<std::mutex> guard{mtx};
      ++seen.at(*parse_seq(*e.find("seq")));
    });
    rt.start();
    deadline limit{60s};
    bool restarted = false;
    rt.run([&] {
      if (!restarted && c.metrics().processed > n / 3) {
        restarted = true;
        fx.server->stop(); // SIGTERM: Redis flushes its AOF and exits
        std::this_thread::sleep_for(2s);
        CAF_CHECK(!c.metrics().last_error().empty()); // the reader noticed
        if (auto err = fx.server->restart())
          CAF_FAIL("restart: " << describe(err));
      }
      return (restarted && fx.pending("events", "g") == 0 && c.metrics().processed >= n)
             || limit.passed();
    });
    CAF_CHECK(restarted);
    CAF_CHECK(c.metrics().last_error().empty()); // recovered
  }
  auto missing = std::count(seen.begin(), seen.end(), 0u);
  CAF_CHECK_EQUAL(missing, 0);
  CAF_CHECK_EQUAL(fx.pending("events", "g"), 0);
}

CAF_TEST(binary_values_round_trip) {
  redis_fixture fx;
  config cfg;
  fx.point(cfg);
  std::string nul_value("a\0b\0\xff\r\n", 7);
  std::string big(1 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i)
    big[i] = static_cast<char>((i * 7919) % 256);
  std::vector<stream_entry> got;
  std::mutex mtx;
  {
    runtime rt{cfg};
    auto& c = rt.add_consumer(consumer_for("bin", "c1", 4, 2));
    c.add([&](const stream_entry& e) {
      std::lock_guard<std::mutex> guard{mtx};
      got.push_back(e);
    });
    rt.start();
    auto id1 = rt.xadd("bin", {std::string("k\0ey", 4), nul_value});
    auto id2 = rt.xadd("bin", {"big", big});
    CAF_REQUIRE(id1);
    CAF_REQUIRE(id2);
    deadline limit{30s};
    rt.run([&] { return rt.consumers_finished() || limit.passed(); });
  }
  CAF_REQUIRE_EQUAL(got.size(), 2u);
  std::sort(got.begin(), got.end(), [](const stream_entry& x, const stream_entry& y) {
    return compare_ids(x.id, y.id) < 0;
  });
  CAF_CHECK(got[0].fields == (std::vector<std::string>{std::string("k\0ey", 4), nul_value}));
  CAF_REQUIRE(got[1].find("big") != nullptr);
  CAF_CHECK_EQUAL(got[1].find("big")->size(), big.size());
  CAF_CHECK(*got[1].find("big") == big);
  CAF_CHECK_EQUAL(fx.pending("bin", "g"), 0);
}

CAF_TEST(wrong_type_key_fails_alone) {
  redis_fixture fx;
  fx.redis({"SET", "not-a-stream", "just a string"});
  fx.fill("good", 0, 1000);
  config cfg;
  fx.point(cfg);
  runtime rt{cfg};
  auto& bad = rt.add_consumer(consumer_for("not-a-stream", "c1", 8, 0));
  bad.add([](const stream_entry&) {});
  auto& good = rt.add_consumer(consumer_for("good", "c1", 8, 1000));
  good.add([](const stream_entry&) {});
  rt.start();
  deadline limit{30s};
  rt.run([&] { return good.metrics().finished || limit.passed(); });
  CAF_CHECK_EQUAL(good.metrics().processed.load(), 1000u);
  CAF_CHECK_EQUAL(fx.pending("good", "g"), 0);
  auto err = bad.metrics().last_error();
  CAF_CHECK_NOT_EQUAL(err.find("rill::sec::wrong_type"), std::string::npos);
  CAF_CHECK_NOT_EQUAL(err.find("WRONGTYPE"), std::string::npos);
  CAF_CHECK(!bad.metrics().finished);
  CAF_CHECK_EQUAL(fx.redis({"GET", "not-a-stream"}).str, "just a string"); // untouched
}

CAF_TEST(wrong_password_is_clear_and_secret) {
  const std::string real = "real-secret-42";
  const std::string wrong = "wrong-secret-77";
  local_redis::options opts;
  opts.password = real;
  redis_fixture fx{opts};
  std::ostringstream captured;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(captured);
  spdlog::default_logger()->sinks().push_back(sink);
  spdlog::default_logger()->set_level(spdlog::level::debug);
  config cfg;
  fx.point(cfg);
  cfg.redis.password = wrong;
  {
    runtime rt{cfg};
    auto& c = rt.add_consumer(consumer_for("s", "c1", 2, 0));
    c.add([](const stream_entry&) {});
    rt.start();
    deadline limit{10s};
    rt.run([&] { return !c.metrics().last_error().empty() || limit.passed(); });
    auto err = c.metrics().last_error();
    CAF_CHECK_NOT_EQUAL(err.find("auth_failed"), std::string::npos);
    CAF_CHECK_NOT_EQUAL(err.find("WRONGPASS"), std::string::npos);
    auto id = rt.xadd("s", {"f", "v"});
    CAF_REQUIRE(!id);
    auto code = code_of(id.error());
    CAF_CHECK(code == sec::auth_failed || code == sec::redis_unavailable);
    CAF_CHECK_EQUAL(describe(id.error()).find(wrong), std::string::npos);
    CAF_CHECK_EQUAL(err.find(wrong), std::string::npos);
  }
  spdlog::default_logger()->flush();
  spdlog::default_logger()->sinks().pop_back();
  spdlog::default_logger()->set_level(spdlog::level::info);
  auto log = captured.str();
  CAF_CHECK_NOT_EQUAL(log.find("WRONGPASS"), std::string::npos);
  CAF_CHECK_EQUAL(log.find(wrong), std::string::npos);
  CAF_CHECK_EQUAL(log.find(real), std::string::npos);
}

CAF_TEST(acl_user_and_database) {
  redis_fixture fx;
  fx.redis({"ACL", "SETUSER", "app", "on", ">app-pass", "~orders*", "&*", "+@all"});
  fx.fill("orders-db0-untouched", 0, 1);
  config cfg;
  fx.point(cfg);
  cfg.redis.user = "app";
  cfg.redis.password = "app-pass";
  cfg.redis.db = 2;
  {
    runtime rt{cfg};
    auto& c = rt.add_consumer(consumer_for("orders", "c1", 4, 3));
    c.add([](const stream_entry&) {});
    rt.start();
    for (int i = 0; i < 3; ++i)
      CAF_CHECK(rt.xadd("orders", {"seq", std::to_string(i)}));
    deadline limit{30s};
    rt.run([&] { return rt.consumers_finished() || limit.passed(); });
    CAF_CHECK_EQUAL(c.metrics().processed.load(), 3u);
    // The ACL user may not touch other keys: a clear NOPERM, nothing written.
    auto denied = rt.xadd("payments", {"seq", "1"});
    CAF_REQUIRE(!denied);
    CAF_CHECK_EQUAL(code_of(denied.error()), sec::reply_error); // "XADD failed ...: NOPERM"
    CAF_CHECK_NOT_EQUAL(describe(denied.error()).find("NOPERM"), std::string::npos);
  }
  auto admin = fx.admin();
  admin.command({"SELECT", "2"});
  auto len = admin.command({"XLEN", "orders"});
  auto pending = admin.command({"XPENDING", "orders", "g"});
  auto payments = admin.command({"EXISTS", "payments"});
  CAF_REQUIRE(len && pending && payments);
  CAF_CHECK_EQUAL(len->integer, 3);
  CAF_CHECK_EQUAL(pending->elements.at(0).integer, 0);
  CAF_CHECK_EQUAL(payments->integer, 0);
  CAF_CHECK_EQUAL(fx.redis({"EXISTS", "orders"}).integer, 0); // db 0 untouched
  auto clients = fx.redis({"CLIENT", "LIST"}).str;
  CAF_CHECK_EQUAL(clients.find("app-pass"), std::string::npos);
}

CAF_TEST(producer_trims_with_maxlen) {
  redis_fixture fx;
  config cfg;
  fx.point(cfg);
  cfg.producer.maxlen = 100;
  {
    runtime rt{cfg};
    load_plan plan;
    plan.stream = "capped";
    plan.count = 5000;
    auto progress = std::make_shared<load_progress>();
    spawn_load_generator(rt.system(), rt.producer(), rt.shared_connection(), plan, progress);
    deadline limit{30s};
    rt.run([&] { return progress->finished.load() || limit.passed(); });
    CAF_CHECK_EQUAL(progress->produced.load(), 5000u);
  }
  auto len = fx.redis({"XLEN", "capped"}).integer;
  CAF_CHECK_GREATER_OR_EQUAL(len, 100);
  CAF_CHECK_LESS(len, 400); // `~` trims whole macro nodes (100 entries each)
}

// The runtime runs on copies of its config: the caller's stays as it was (no
// scheduler module pushed into it), may go away while the runtime runs, and
// starts a second runtime just like the first.
CAF_TEST(runtime_leaves_its_config_alone) {
  redis_fixture fx;
  auto cfg = std::make_unique<config>();
  fx.point(*cfg);
  auto modules = cfg->module_factories.size();
  auto threads = caf::get_or(*cfg, "scheduler.max-threads", size_t{0});
  CAF_REQUIRE_EQUAL(threads, 2u);
  auto first = std::make_unique<runtime>(*cfg);
  CAF_CHECK_EQUAL(cfg->module_factories.size(), modules);
  auto& own = first->system().config();
  CAF_CHECK_NOT_EQUAL(&own, static_cast<const caf::actor_system_config*>(cfg.get()));
  CAF_CHECK_EQUAL(own.module_factories.size(), modules + 1); // + rill's scheduler
  CAF_CHECK_EQUAL(caf::get_or(own, "scheduler.max-threads", size_t{0}), 2u);
  CAF_CHECK_EQUAL(first->system().scheduler().num_workers(), 2u);
  auto second = std::make_unique<runtime>(*cfg);
  cfg.reset(); // both runtimes keep working without it
  for (auto* rt : {first.get(), second.get()}) {
    auto id = rt->xadd("owned", {"k", "v"});
    CAF_CHECK(static_cast<bool>(id));
  }
  second.reset();
  first.reset();
  CAF_CHECK_EQUAL(fx.redis({"XLEN", "owned"}).integer, 2);
}

// An app that owns its signals: with take_signals off the runtime leaves the
// signal mask alone, and run() returns once stop() - from another thread -
// has let the consumers finish. An async callback XADDs through ctx.producer.
CAF_TEST(an_app_owns_its_signals_and_callbacks_xadd_through_the_producer) {
  redis_fixture fx;
  fx.fill("in", 0, 200);
  sigset_t before;
  pthread_sigmask(SIG_SETMASK, nullptr, &before);
  CAF_REQUIRE(!sigismember(&before, SIGTERM));
  config cfg;
  fx.point(cfg);
  cfg.take_signals = false;
  std::atomic<uint64_t> copied{0};
  {
    runtime rt{cfg};
    sigset_t now;
    pthread_sigmask(SIG_SETMASK, nullptr, &now);
    CAF_CHECK(!sigismember(&now, SIGTERM)); // not blocked: the app's to handle
    auto& c = rt.add_consumer(consumer_for("in", "c1", 8, 0));
    c.add_async([&](const stream_entry& e, async_context ctx) {
      CAF_REQUIRE(static_cast<bool>(ctx.producer));
      ctx.self
        ->request(ctx.producer, 5s, xadd_atom::value, std::string{"out"},
                  std::vector<std::string>{"seq", *e.find("seq")})
        .then(
          [&copied, done = ctx.done](std::string&) {
            ++copied;
            done();
          },
          [done = ctx.done](caf::error& err) { done(std::move(err)); });
    });
    rt.start();
    std::thread stopper{[&] {
      deadline limit{30s};
      while (c.metrics().acked.load() < 200 && !limit.passed())
        std::this_thread::sleep_for(5ms);
      rt.stop(); // any thread
    }};
    deadline limit{60s};
    auto rc = rt.run([&] { return limit.passed(); });
    stopper.join();
    CAF_CHECK_EQUAL(rc, 0);
    CAF_CHECK(rt.interrupted());
    CAF_CHECK(!limit.passed()); // returned because of stop(), not the deadline
  }
  CAF_CHECK_EQUAL(copied.load(), 200u);
  CAF_CHECK_EQUAL(fx.redis({"XLEN", "out"}).integer, 200);
  CAF_CHECK_EQUAL(fx.pending("in", "g"), 0);
  // The default takes the signals: SIGINT and SIGTERM blocked in all threads.
  config taking;
  fx.point(taking);
  {
    runtime rt{taking};
    sigset_t now;
    pthread_sigmask(SIG_SETMASK, nullptr, &now);
    CAF_CHECK(sigismember(&now, SIGTERM));
  }
  pthread_sigmask(SIG_SETMASK, &before, nullptr);
}

// A request larger than the socket takes at once: the reader writes its
// requests on its own thread (actors/redis/connection_link.hpp) and hands
// what send() did not take to the connection's I/O thread. The dead letter
// of a 16 MB entry is such a request (the script carries the fields).
CAF_TEST(a_sixteen_megabyte_entry_is_dead_lettered_whole) {
  redis_fixture fx;
  config cfg;
  fx.point(cfg);
  std::string big(16 << 20, 'x');
  for (size_t i = 0; i < big.size(); i += 4096)
    big[i] = static_cast<char>(i / 4096);
  fx.redis({"XADD", "big", "*", "v", big});
  fx.fill("big", 0, 100);
  std::atomic<int> good{0};
  {
    runtime rt{cfg};
    auto opts = consumer_for("big", "c", 4, 101);
    opts.max_deliveries = 1;
    auto& c = rt.add_consumer(opts);
    c.add([&](const stream_entry& e) {
      if (e.find("v"))
        throw std::runtime_error("too big to handle");
      ++good;
    });
    rt.start();
    deadline limit{30s};
    rt.run([&] { return rt.consumers_finished() || limit.passed(); });
    CAF_CHECK_EQUAL(c.metrics().dead_lettered.load(), 1u);
  }
  CAF_CHECK_EQUAL(good.load(), 100);
  CAF_CHECK_EQUAL(fx.pending("big", "g"), 0);
  auto letter = fx.only_entry("big:dead");
  auto value = letter.find("v");
  CAF_REQUIRE(value != nullptr);
  CAF_CHECK(*value == big);
}
