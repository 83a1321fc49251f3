#include "bench.hpp"
#include "commands.hpp"
#include "json_line.hpp"
#include "load_generator.hpp"
#include <rill/actors/error.hpp>
#include <rill/actors/messages.hpp>
#include <rill/runtime/logging.hpp>
#include <rill/runtime/runtime.hpp>

#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cstdio>

namespace rill::bench {

namespace {

using namespace std::chrono_literals;
using ping_atom = caf::atom_constant<caf::atom("ping")>;

/// A bench consumer: group "g", consumer "rill" (the group `prefill` creates).
consumer_options bench_consumer(std::string stream, uint32_t max_in_flight, uint64_t limit = 0) {
  consumer_options opts;
  opts.stream = std::move(stream);
  opts.group = "g";
  opts.consumer = "rill";
  opts.max_in_flight = max_in_flight;
  opts.limit = limit;
  return opts;
}

double seconds_between(int64_t from_ns, int64_t to_ns) {
  return std::max(1e-9, (to_ns - from_ns) / 1e9);
}

void add_usage(nlohmann::ordered_json& line, const usage& u) {
  line["peak_rss_kb"] = u.max_rss_kb;
  line["user_s"] = cli::rounded(u.user_s, 3);
  line["sys_s"] = cli::rounded(u.sys_s, 3);
}

void print(const nlohmann::ordered_json& line) {
  std::puts(cli::json_line(line).c_str());
}

} // namespace

int consume_case(cli_config& cfg) {
  const uint64_t n = cfg.count > 0 ? cfg.count : 200'000;
  const uint32_t k = cfg.consumer.max_in_flight;
  target t;
  if (auto err = t.open(cfg))
    return cli::config_error("bench consume", describe(err));
  auto c = connect_or_throw(cfg.redis.host, cfg.redis.port);
  std::vector<double> rill_rates, raw_rates, ratios;
  usage rill_cpu, raw_cpu;
  long peak_rss = 0;
  std::printf("bench consume: %s entries, max-in-flight %u, payload %llu bytes, %llu rounds\n",
              cli::grouped(n).c_str(), k, static_cast<unsigned long long>(cfg.payload_bytes),
              static_cast<unsigned long long>(cfg.rounds));
  std::printf("%-6s %14s %14s %8s\n", "round", "rill msgs/s", "raw msgs/s", "ratio");
  for (uint64_t round = 1; round <= cfg.rounds; ++round) {
    prefill(c, "bench:rill", "g", n, cfg.payload_bytes);
    auto before = usage::now();
    double rill_rate = 0;
    {
      runtime rt{cfg};
      auto opts = bench_consumer("bench:rill", k, n);
      auto& consumer = rt.add_consumer(opts);
      consumer.add([](const stream_entry&) {});
      rt.start();
      rt.run();
      const auto& m = consumer.metrics();
      rill_rate = m.processed / seconds_between(m.first_delivery_ns, m.finished_ns);
    }
    auto after = usage::now();
    peak_rss = std::max(peak_rss, after.max_rss_kb);
    auto d = after - before;
    rill_cpu.user_s += d.user_s;
    rill_cpu.sys_s += d.sys_s;
    c.command({"DEL", "bench:rill"});
    prefill(c, "bench:raw", "g", n, cfg.payload_bytes);
    before = usage::now();
    auto raw_rate = raw_consume(c, "bench:raw", "g", n, k);
    d = usage::now() - before;
    raw_cpu.user_s += d.user_s;
    raw_cpu.sys_s += d.sys_s;
    c.command({"DEL", "bench:raw"});
    rill_rates.push_back(rill_rate);
    raw_rates.push_back(raw_rate);
    ratios.push_back(rill_rate / raw_rate);
    std::printf("%-6llu %14.0f %14.0f %8.2f\n", static_cast<unsigned long long>(round), rill_rate,
                raw_rate, rill_rate / raw_rate);
    std::fflush(stdout);
  }
  auto r = summarize(rill_rates);
  auto w = summarize(raw_rates);
  auto q = summarize(ratios);
  std::printf("%-6s %14.0f %14.0f %8.2f   (min-max: rill %.0f-%.0f, raw %.0f-%.0f)\n", "median",
              r.median, w.median, q.median, r.min, r.max, w.min, w.max);
  rill_cpu.max_rss_kb = peak_rss;
  for (auto [impl, s, u] : {std::tuple{"rill", r, rill_cpu}, std::tuple{"raw", w, raw_cpu}}) {
    nlohmann::ordered_json line{{"bench", "consume"},
                                {"impl", impl},
                                {"count", n},
                                {"max_in_flight", k},
                                {"payload_bytes", cfg.payload_bytes},
                                {"rounds", cfg.rounds},
                                {"msgs_per_s", cli::whole(s.median)},
                                {"min", cli::whole(s.min)},
                                {"max", cli::whole(s.max)},
                                {"ratio_rill_raw", cli::rounded(q.median, 3)}};
    add_usage(line, u);
    print(line);
  }
  return 0;
}

int latency_case(cli_config& cfg) {
  const uint64_t rate = cfg.rate > 0 ? cfg.rate : 5000;
  const uint64_t n = rate * cfg.seconds;
  target t;
  if (auto err = t.open(cfg))
    return cli::config_error("bench latency", describe(err));
  std::vector<double> latencies(n);
  std::atomic<size_t> next{0};
  auto before = usage::now();
  {
    runtime rt{cfg};
    auto opts = bench_consumer("bench:latency", cfg.consumer.max_in_flight, n);
    opts.start_id = "$";
    auto& consumer = rt.add_consumer(opts);
    consumer.add([&](const stream_entry& e) {
      auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
      auto i = next.fetch_add(1);
      if (i < latencies.size())
        latencies[i] = static_cast<double>(now - std::stoll(*e.find("ts")));
    });
    rt.start();
    std::this_thread::sleep_for(300ms); // the group exists and the reader blocks
    load_plan plan;
    plan.stream = opts.stream;
    plan.count = n;
    plan.rate = rate;
    plan.payload_bytes = cfg.payload_bytes;
    auto progress = std::make_shared<load_progress>();
    spawn_load_generator(rt.system(), rt.producer(), plan, progress);
    rt.run();
  }
  auto u = usage::now() - before;
  latencies.resize(std::min(next.load(), latencies.size()));
  // The floor in the same run: a synchronous hiredis reader, no actors.
  auto raw
    = raw_latency(cfg.redis.host, cfg.redis.port, "bench:latency:raw", n, rate, cfg.payload_bytes);
  std::printf("bench latency: %llu msgs/s for %llu s, XADD -> callback start\n",
              static_cast<unsigned long long>(rate), static_cast<unsigned long long>(cfg.seconds));
  std::printf("%-6s %9s %9s %9s %9s %9s\n", "impl", "p50 us", "p99 us", "p99.9 us", "max us",
              "samples");
  for (auto [impl, xs, cpu] :
       {std::tuple{"rill", &latencies, true}, std::tuple{"raw", &raw, false}}) {
    std::sort(xs->begin(), xs->end());
    auto p50 = percentile(*xs, 50);
    auto p99 = percentile(*xs, 99);
    auto p999 = percentile(*xs, 99.9);
    auto max = xs->empty() ? 0 : xs->back();
    std::printf("%-6s %9.0f %9.0f %9.0f %9.0f %9zu\n", impl, p50, p99, p999, max, xs->size());
    nlohmann::ordered_json line{{"bench", "latency"},
                                {"impl", impl},
                                {"rate", rate},
                                {"samples", xs->size()},
                                {"p50_us", cli::whole(p50)},
                                {"p99_us", cli::whole(p99)},
                                {"p999_us", cli::whole(p999)},
                                {"max_us", cli::whole(max)}};
    if (cpu)
      add_usage(line, u);
    print(line);
  }
  return 0;
}

int scale_case(cli_config& cfg) {
  const uint64_t streams = std::max<uint64_t>(1, cfg.streams);
  const uint64_t n = cfg.count > 0 ? cfg.count : 200'000;
  const uint64_t per = std::max<uint64_t>(1, n / streams);
  target t;
  if (auto err = t.open(cfg))
    return cli::config_error("bench scale", describe(err));
  auto c = connect_or_throw(cfg.redis.host, cfg.redis.port);
  for (uint64_t i = 0; i < streams; ++i)
    prefill(c, "bench:scale:" + std::to_string(i), "g", per, cfg.payload_bytes);
  auto before = usage::now();
  int threads = 0;
  int64_t connections = 0;
  double rate = 0;
  {
    runtime rt{cfg};
    std::vector<consumer*> all;
    for (uint64_t i = 0; i < streams; ++i) {
      auto& consumer = rt.add_consumer(
        bench_consumer("bench:scale:" + std::to_string(i), cfg.consumer.max_in_flight, per));
      consumer.add([](const stream_entry&) {});
      all.push_back(&consumer);
    }
    // Sample threads and Redis connections while the run is going.
    auto sample = [&] {
      threads = std::max(threads, thread_count());
      if (auto list = c.command({"CLIENT", "LIST"}))
        connections = std::max<int64_t>(
          connections, std::count(list->str.begin(), list->str.end(), '\n') - 1); // not ours
    };
    rt.start();
    sample();
    rt.run({}, sample, 100ms);
    int64_t first = INT64_MAX;
    int64_t last = 0;
    uint64_t processed = 0;
    for (auto* consumer : all) {
      const auto& m = consumer->metrics();
      first = std::min<int64_t>(first, m.first_delivery_ns);
      last = std::max<int64_t>(last, m.finished_ns);
      processed += m.processed;
    }
    rate = processed / seconds_between(first, last);
  }
  auto u = usage::now() - before;
  for (uint64_t i = 0; i < streams; ++i)
    c.command({"DEL", "bench:scale:" + std::to_string(i)});
  std::printf("bench scale: %llu streams x max-in-flight %u, %s entries\n",
              static_cast<unsigned long long>(streams), cfg.consumer.max_in_flight,
              cli::grouped(per * streams).c_str());
  std::printf("  %.0f msgs/s aggregate, %d threads, %lld redis connections, peak RSS %ld KB\n",
              rate, threads, static_cast<long long>(connections), u.max_rss_kb);
  nlohmann::ordered_json line{{"bench", "scale"},
                              {"impl", "rill"},
                              {"streams", streams},
                              {"max_in_flight", cfg.consumer.max_in_flight},
                              {"msgs_per_s", cli::whole(rate)},
                              {"threads", threads},
                              {"connections", connections}};
  add_usage(line, u);
  print(line);
  return 0;
}

namespace {

struct pinger_state {
  std::shared_ptr<std::vector<double>> actor_rtt;
  std::shared_ptr<std::vector<double>> redis_rtt;
  caf::actor pong;
  connection_actor shared_conn;
  int left = 0;
};

caf::behavior pinger(caf::stateful_actor<pinger_state>* self, caf::actor pong,
                     connection_actor shared_conn, int count,
                     std::shared_ptr<std::vector<double>> actor_rtt,
                     std::shared_ptr<std::vector<double>> redis_rtt) {
  auto& st = self->state;
  st.pong = std::move(pong);
  st.shared_conn = std::move(shared_conn);
  st.left = count;
  st.actor_rtt = std::move(actor_rtt);
  st.redis_rtt = std::move(redis_rtt);
  self->send(self, tick_atom::value);
  return {
    [self](tick_atom) {
      auto t0 = std::chrono::steady_clock::now();
      auto us = [](auto t0) {
        return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0)
          .count();
      };
      self->request(self->state.pong, 1s, ping_atom::value).then([self, t0, us](ping_atom) {
        self->state.actor_rtt->push_back(us(t0));
        auto t1 = std::chrono::steady_clock::now();
        self->request(self->state.shared_conn, 1s, make_command({"PING"}))
          .then(
            [self, t1, us](redis_reply&) {
              self->state.redis_rtt->push_back(us(t1));
              if (--self->state.left > 0)
                self->delayed_send(self, 1ms, tick_atom::value);
              else
                self->quit();
            },
            [self](caf::error&) { self->quit(); });
      });
    },
  };
}

} // namespace

int responsiveness_case(cli_config& cfg) {
  const uint64_t streams = std::max<uint64_t>(1, cfg.streams);
  target t;
  if (auto err = t.open(cfg))
    return cli::config_error("bench responsiveness", describe(err));
  auto actor_rtt = std::make_shared<std::vector<double>>();
  auto redis_rtt = std::make_shared<std::vector<double>>();
  auto before = usage::now();
  int threads = 0;
  {
    runtime rt{cfg};
    std::vector<consumer*> all;
    for (uint64_t i = 0; i < streams; ++i) {
      // Readers that wait, not workers: one each.
      auto& consumer = rt.add_consumer(bench_consumer("bench:idle:" + std::to_string(i), 1));
      consumer.add([](const stream_entry&) {});
      all.push_back(&consumer);
    }
    rt.start();
    // Wait until every reader has moved on to a blocking `>` read.
    auto until = std::chrono::steady_clock::now() + 30s;
    for (auto* consumer : all)
      while (consumer->metrics().reads.load() == 0 && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(5ms);
    std::this_thread::sleep_for(200ms);
    auto pong = rt.system().spawn([]() -> caf::behavior {
      return {[](ping_atom x) {
        return x;
      }};
    });
    auto p = rt.system().spawn(pinger, pong, rt.shared_connection(), 2000, actor_rtt, redis_rtt);
    caf::scoped_actor waiter{rt.system()};
    waiter->wait_for(p);
    threads = thread_count();
    caf::anon_send_exit(pong, caf::exit_reason::user_shutdown);
  }
  auto u = usage::now() - before;
  std::sort(actor_rtt->begin(), actor_rtt->end());
  std::sort(redis_rtt->begin(), redis_rtt->end());
  std::printf("bench responsiveness: %llu readers blocked in XREADGROUP BLOCK\n",
              static_cast<unsigned long long>(streams));
  std::printf("  actor ping round trip: p50 %.0f us, p99 %.0f us (%zu samples)\n",
              percentile(*actor_rtt, 50), percentile(*actor_rtt, 99), actor_rtt->size());
  std::printf("  redis PING on the shared connection: p50 %.0f us, p99 %.0f us\n",
              percentile(*redis_rtt, 50), percentile(*redis_rtt, 99));
  nlohmann::ordered_json line{{"bench", "responsiveness"},
                              {"impl", "rill"},
                              {"streams", streams},
                              {"ping_p50_us", cli::whole(percentile(*actor_rtt, 50))},
                              {"ping_p99_us", cli::whole(percentile(*actor_rtt, 99))},
                              {"redis_ping_p50_us", cli::whole(percentile(*redis_rtt, 50))},
                              {"redis_ping_p99_us", cli::whole(percentile(*redis_rtt, 99))},
                              {"threads", threads}};
  add_usage(line, u);
  print(line);
  return 0;
}

} // namespace rill::bench

namespace rill::cli {

int bench_command(cli_config& cfg, const std::string& which) {
  setup_logging(cfg.log_level == "info" ? "warn" : cfg.log_level);
  // Checked before any server starts: `--rounds 0` took the median of no
  // rounds (a crash), `--seconds 0` and `--max-in-flight 0` waited forever.
  if (cfg.rounds == 0)
    return config_error("bench " + which, "--rounds: must be >= 1");
  if (which == "latency" && cfg.seconds == 0)
    return config_error("bench latency", "--seconds: must be >= 1");
  auto consumer = cfg.consumer; // what each case's consumers start from
  consumer.stream = "bench";
  consumer.group = "g";
  if (auto err = validate(consumer))
    return config_error("bench " + which, describe(err));
  try {
    if (which == "consume")
      return bench::consume_case(cfg);
    if (which == "latency")
      return bench::latency_case(cfg);
    if (which == "scale")
      return bench::scale_case(cfg);
    if (which == "responsiveness")
      return bench::responsiveness_case(cfg);
    if (which == "nodes")
      return bench::nodes_case(cfg);
  } catch (const std::exception& ex) {
    std::fprintf(stderr, "rill bench %s: %s\n", which.c_str(), ex.what());
    return 1;
  }
  return config_error("bench", "unknown case '" + which
                                 + "' (consume, latency, scale, responsiveness, nodes)");
}

} // namespace rill::cli
