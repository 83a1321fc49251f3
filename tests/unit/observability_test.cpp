#define CAF_SUITE observability
#include <rill/actors/error.hpp>
#include <rill/actors/group_probe.hpp>
#include <rill/actors/histogram.hpp>
#include <rill/actors/messages.hpp>
#include <rill/actors/metrics.hpp>
#include <rill/actors/redis/group_info.hpp>
#include <rill/runtime/config.hpp>
#include <rill/runtime/json_text.hpp>
#include <rill/runtime/readiness.hpp>

#include <caf/test/dsl.hpp>

#include <map>

using namespace rill;
using namespace std::chrono_literals;

namespace {

redis_reply str(std::string s) {
  return redis_reply::string(std::move(s));
}

redis_reply num(int64_t x) {
  return redis_reply::number(x);
}

redis_reply arr(std::vector<redis_reply> xs) {
  return redis_reply::array(std::move(xs));
}

redis_reply entry(const std::string& id) {
  return arr({str(id), arr({str("k"), str("v")})});
}

/// XINFO STREAM of a stream holding 1000-0 .. 1009-0 (10 entries).
redis_reply stream_reply() {
  return arr({str("length"), num(10), str("last-generated-id"), str("1009-0"), str("entries-added"),
              num(10), str("groups"), num(1), str("first-entry"), entry("1000-0"),
              str("last-entry"), entry("1009-0")});
}

redis_reply group_reply(const std::string& last, redis_reply lag) {
  return arr({arr({str("name"), str("g"), str("consumers"), num(2), str("pending"), num(4),
                   str("last-delivered-id"), str(last), str("entries-read"), num(6), str("lag"),
                   std::move(lag)})});
}

struct scripted {
  std::vector<redis_reply> pipeline;
  redis_reply range;
  std::vector<redis_command> log;
};

/// Answers the probe's pipeline and its XRANGE from a script.
caf::behavior scripted_conn(caf::event_based_actor*, std::shared_ptr<scripted> s) {
  return {
    [s](std::vector<redis_command>& cmds) {
      for (auto& c : cmds)
        s->log.push_back(c);
      return s->pipeline;
    },
    [s](redis_command& cmd) {
      s->log.push_back(cmd);
      return s->range;
    },
  };
}

struct config_for_tests : caf::actor_system_config {
  config_for_tests() { register_message_types(*this); }
};

struct probe_fixture : test_coordinator_fixture<config_for_tests> {
  std::shared_ptr<scripted> script = std::make_shared<scripted>();
  std::shared_ptr<consumer_metrics> metrics = std::make_shared<consumer_metrics>();

  void probe_once() {
    auto conn = sys.spawn(scripted_conn, script);
    auto probe = spawn_group_probe(sys, "s", "g", caf::actor_cast<connection_actor>(conn), metrics,
                                   1s, 1s, caf::actor{});
    consume_messages();
    caf::anon_send_exit(probe, caf::exit_reason::kill);
    caf::anon_send_exit(conn, caf::exit_reason::kill);
    consume_messages();
  }
};

} // namespace

CAF_TEST(histogram buckets are le bounds with a sum) {
  histogram h{{0.001, 0.01, 0.1}};
  h.observe(500us); // <= 0.001
  h.observe(1ms);   // == 0.001: le
  h.observe(50ms);  // <= 0.1
  h.observe(2s);    // +Inf
  auto s = h.read();
  CAF_CHECK_EQUAL(s.counts, (std::vector<uint64_t>{2, 0, 1, 1}));
  CAF_CHECK_EQUAL(s.count(), 4u);
  CAF_CHECK(s.sum > 2.0514 && s.sum < 2.0516);
}

CAF_TEST(worker timings sum the histograms of every worker) {
  metric_buckets b;
  b.duration = {0.01};
  b.age = {1};
  worker_timings pool{b};
  auto w1 = pool.add();
  auto w2 = pool.add();
  w1->duration.observe(1ms);
  w2->duration.observe(20ms);
  w2->age.observe(3s);
  auto [durations, ages] = pool.read();
  CAF_CHECK_EQUAL(durations.counts, (std::vector<uint64_t>{1, 1}));
  CAF_CHECK_EQUAL(ages.counts, (std::vector<uint64_t>{0, 1}));
}

CAF_TEST(xinfo replies parse and a nil lag is derived where the ends tell) {
  auto s = parse_stream_info(stream_reply());
  CAF_REQUIRE(s);
  CAF_CHECK_EQUAL(s->length, 10);
  CAF_CHECK_EQUAL(s->first_id, "1000-0");
  CAF_CHECK_EQUAL(s->last_id, "1009-0");
  auto groups = parse_groups(group_reply("1005-0", redis_reply{}));
  CAF_REQUIRE(groups && groups->size() == 1);
  auto g = groups->front();
  CAF_CHECK_EQUAL(g.lag, -1);
  CAF_CHECK_EQUAL(g.pending, 4);
  CAF_CHECK_EQUAL(g.entries_read, 6);
  CAF_CHECK(!derived_lag(*s, g)); // in the middle: count
  g.last_delivered_id = "1009-0";
  CAF_CHECK_EQUAL(derived_lag(*s, g), 0);
  g.last_delivered_id = "0-0";
  CAF_CHECK_EQUAL(derived_lag(*s, g), 10);
  CAF_CHECK(!parse_groups(str("x")));
  CAF_CHECK(!parse_stream_info(arr({str("length")})));
}

CAF_TEST_FIXTURE_SCOPE(group_probe_tests, probe_fixture)

CAF_TEST(the probe stores lag pending and ages from one pipeline and one range) {
  script->pipeline = {stream_reply(), group_reply("1005-0", num(4)),
                      arr({arr({str("1001-0"), str("c1"), num(1500), num(1)})})};
  script->range = arr({entry("1006-0")});
  probe_once();
  const auto& g = metrics->group;
  CAF_CHECK(g.exists);
  CAF_CHECK_EQUAL(g.lag, 4);
  CAF_CHECK(!g.lag_estimated);
  CAF_CHECK_EQUAL(g.pending, 4);
  CAF_CHECK_EQUAL(g.entries_read, 6);
  CAF_CHECK_EQUAL(g.length, 10);
  CAF_CHECK_EQUAL(g.oldest_pending_idle_ms, 1500);
  CAF_CHECK(g.oldest_undelivered_ms > 0); // 1006 ms after the epoch: decades old
  CAF_CHECK(g.probed_ns > 0);
  CAF_REQUIRE_EQUAL(script->log.size(), 4u);
  CAF_CHECK_EQUAL(script->log[3].argv,
                  (std::vector<std::string>{"XRANGE", "s", "(1005-0", "+", "COUNT", "1"}));
}

CAF_TEST(a nil lag in the middle of the stream is counted up to the bound) {
  script->pipeline = {stream_reply(), group_reply("1005-0", redis_reply{}), arr({})};
  script->range = arr({entry("1007-0"), entry("1009-0")}); // 1006 and 1008 deleted
  probe_once();
  CAF_CHECK_EQUAL(metrics->group.lag, 2);
  CAF_CHECK(metrics->group.lag_estimated);
  CAF_CHECK_EQUAL(metrics->group.oldest_pending_idle_ms, 0);
  CAF_CHECK_EQUAL(script->log.back().argv.back(), std::to_string(probe_count_bound));
}

CAF_TEST(a missing group reads as not existing and sends no range) {
  script->pipeline = {stream_reply(), arr({}), redis_reply::error("NOGROUP no such group")};
  probe_once();
  CAF_CHECK(!metrics->group.exists);
  CAF_CHECK_EQUAL(metrics->group.lag, -1);
  CAF_CHECK_EQUAL(script->log.size(), 3u);
}

CAF_TEST_FIXTURE_SCOPE_END()

CAF_TEST(http and metrics settings are validated with one clear line) {
  config cfg;
  CAF_CHECK(!cfg.load({"--http.listen=9464", "--metrics.interval=1s"}));
  CAF_CHECK_EQUAL(cfg.http.listen, "9464");
  std::string host;
  uint16_t port = 1;
  CAF_CHECK(!parse_listen("0", host, port));
  CAF_CHECK_EQUAL(host, "127.0.0.1");
  CAF_CHECK_EQUAL(port, 0u);
  CAF_CHECK(!parse_listen("0.0.0.0:9100", host, port));
  CAF_CHECK_EQUAL(port, 9100u);
  CAF_CHECK(parse_listen("host:", host, port));
  CAF_CHECK(parse_listen("99999", host, port));
  config bad;
  auto err = bad.load({"--http.listen=nope:x"});
  CAF_CHECK(err && describe(err).find("http.listen") != std::string::npos);
  config bad_buckets;
  err = bad_buckets.load({"--metrics.duration-buckets=[0.1, 0.01]"});
  CAF_CHECK(err && describe(err).find("ascending") != std::string::npos);
  config short_interval;
  CAF_CHECK(short_interval.load({"--metrics.interval=10ms"}));
}

CAF_TEST(the token is redacted in dump_content and taken from the flag raw) {
  config cfg;
  CAF_REQUIRE(!cfg.load({"--http.token=s3cr\"et"}));
  CAF_CHECK_EQUAL(cfg.http.token, "s3cr\"et");
  auto dumped = caf::to_string(cfg.dump_content());
  CAF_CHECK(dumped.find("s3cr") == std::string::npos);
}

CAF_TEST(liveness fails only when the watchdog goes unanswered) {
  CAF_CHECK(liveness(100, 100 + 4'000'000'000, 5'000'000'000).ok);
  auto stuck = liveness(100, 100 + 7'000'000'000, 5'000'000'000);
  CAF_CHECK(!stuck.ok);
  CAF_CHECK_EQUAL(stuck.detail, "no answer to the watchdog for 7.0 s");
  auto body = health_body({stuck});
  CAF_CHECK_EQUAL(body, "{\"ok\":false,\"checks\":[{\"name\":\"scheduler\",\"ok\":false,"
                        "\"detail\":\"no answer to the watchdog for 7.0 s\"}]}\n");
}

CAF_TEST(invalid utf8 is replaced in text and kept in base64 in json) {
  CAF_CHECK_EQUAL(utf8_or_replaced("ok"), "ok");
  CAF_CHECK_EQUAL(utf8_or_replaced("a\xff"
                                   "b"),
                  "a\xef\xbf\xbd"
                  "b");
  nlohmann::ordered_json j;
  put_bytes(j, "stream",
            "b\xff"
            "d");
  CAF_CHECK_EQUAL(j["stream_base64"], "Yv9k");
  CAF_CHECK_EQUAL(json_line(j), "{\"stream\":\"b\xef\xbf\xbd"
                                "d\",\"stream_base64\":\"Yv9k\"}");
}
