// `rill bench latency`: XADD -> callback start at a steady rate, rill against
// the raw floor, alternating in one run. Both sides get their entries from the
// same kind of producer - a plain thread with its own hiredis connection,
// outside any actor system - so neither is billed for the producer's hops, and
// each side's CPU is the consumer's alone.

#include "bench.hpp"
#include "commands.hpp"
#include <rill/actors/error.hpp>
#include <rill/runtime/runtime.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

namespace rill::bench {

namespace {

using namespace std::chrono_literals;

struct latency_round {
  std::vector<double> us; ///< per entry, sorted
  double cpu_s = 0;       ///< the consumer's CPU (the producer's thread excluded)
  long sleeps = 0;        ///< the consumer's voluntary context switches (wake-ups)
  double p(double pct) const { return percentile(us, pct); }
};

latency_round rill_round(const cli_config& cfg, const std::string& stream, uint64_t n,
                         uint64_t rate) {
  latency_round out;
  out.us.resize(n);
  std::atomic<size_t> next{0};
  auto producer = connect_or_throw(cfg.redis.host, cfg.redis.port);
  {
    runtime rt{cfg};
    auto opts = bench_consumer(stream, cfg.consumer.max_in_flight, n);
    opts.start_id = "$";
    auto& consumer = rt.add_consumer(opts);
    consumer.add([&](const stream_entry& e) {
      auto now = epoch_us();
      auto i = next.fetch_add(1, std::memory_order_relaxed);
      if (i < out.us.size())
        out.us[i] = static_cast<double>(now - std::stoll(*e.find("ts")));
    });
    rt.start();
    std::this_thread::sleep_for(300ms); // the group exists and the reader blocks
    auto before = usage::now();
    usage producer_used;
    std::atomic<bool> produced{false};
    std::thread paced{[&] {
      producer_used = paced_xadd(producer, stream, n, rate, cfg.payload_bytes);
      produced = true;
    }};
    auto last_seen = std::chrono::steady_clock::now();
    size_t seen = 0;
    // Until every entry arrived, or 5 s passed after the producer finished
    // without a new one (then the round reports fewer samples).
    rt.run([&] {
      if (rt.consumers_finished())
        return true;
      auto now = std::chrono::steady_clock::now();
      if (next.load() != seen) {
        seen = next.load();
        last_seen = now;
      }
      return produced.load() && now - last_seen > 5s;
    });
    paced.join();
    auto used = usage::now() - before;
    out.cpu_s = used.cpu_s() - producer_used.cpu_s();
    out.sleeps = used.sleeps - producer_used.sleeps;
  }
  out.us.resize(std::min(next.load(), out.us.size()));
  std::sort(out.us.begin(), out.us.end());
  producer.command({"DEL", stream});
  return out;
}

latency_round raw_round(const cli_config& cfg, const std::string& stream, uint64_t n,
                        uint64_t rate) {
  auto producer = connect_or_throw(cfg.redis.host, cfg.redis.port);
  auto reader = connect_or_throw(cfg.redis.host, cfg.redis.port);
  if (auto r = producer.command({"XGROUP", "CREATE", stream, "g", "$", "MKSTREAM"}); !r)
    throw std::runtime_error("raw latency: " + describe(r.error()));
  latency_round out;
  std::thread consumer{[&] {
    auto got = raw_latency_reader(reader, stream, n);
    out.us = std::move(got.latencies_us);
    out.cpu_s = got.cpu_s;
    out.sleeps = got.sleeps;
  }};
  std::this_thread::sleep_for(300ms); // the reader blocks
  paced_xadd(producer, stream, n, rate, cfg.payload_bytes);
  consumer.join();
  std::sort(out.us.begin(), out.us.end());
  producer.command({"DEL", stream});
  return out;
}

/// Median (min-max) of one figure over the rounds.
summary over(const std::vector<latency_round>& rounds, double (*figure)(const latency_round&)) {
  std::vector<double> xs;
  for (const auto& r : rounds)
    xs.push_back(figure(r));
  return summarize(xs);
}

double cpu_us_per_entry(const latency_round& r) {
  return r.us.empty() ? 0 : r.cpu_s * 1e6 / static_cast<double>(r.us.size());
}

double wakeups_per_entry(const latency_round& r) {
  return r.us.empty() ? 0 : static_cast<double>(r.sleeps) / static_cast<double>(r.us.size());
}

} // namespace

int latency_case(cli_config& cfg) {
  const uint64_t rate = cfg.rate > 0 ? cfg.rate : 5000;
  const uint64_t n = rate * cfg.seconds;
  target t;
  if (auto err = t.open(cfg))
    return cli::config_error("bench latency", describe(err));
  std::printf("bench latency: %llu msgs/s for %llu s, %llu alternating rounds, XADD -> callback "
              "start (producer: a plain thread with its own connection)\n",
              static_cast<unsigned long long>(rate), static_cast<unsigned long long>(cfg.seconds),
              static_cast<unsigned long long>(cfg.rounds));
  std::printf("%-6s %9s %9s %12s %8s %9s %9s %12s %8s\n", "round", "rill p50", "rill p99",
              "rill cpu/e", "wakes/e", "raw p50", "raw p99", "raw cpu/e", "wakes/e");
  std::vector<latency_round> rill_rounds, raw_rounds;
  for (uint64_t round = 1; round <= cfg.rounds; ++round) {
    auto suffix = ":" + std::to_string(round);
    rill_rounds.push_back(rill_round(cfg, "bench:latency" + suffix, n, rate));
    raw_rounds.push_back(raw_round(cfg, "bench:latency:raw" + suffix, n, rate));
    const auto& a = rill_rounds.back();
    const auto& b = raw_rounds.back();
    std::printf("%-6llu %9.0f %9.0f %10.2fus %8.2f %9.0f %9.0f %10.2fus %8.2f\n",
                static_cast<unsigned long long>(round), a.p(50), a.p(99), cpu_us_per_entry(a),
                wakeups_per_entry(a), b.p(50), b.p(99), cpu_us_per_entry(b), wakeups_per_entry(b));
    std::fflush(stdout);
  }
  for (auto [impl, rounds] : {std::pair{"rill", &rill_rounds}, std::pair{"raw", &raw_rounds}}) {
    auto p50 = over(*rounds, [](const latency_round& r) { return r.p(50); });
    auto p99 = over(*rounds, [](const latency_round& r) { return r.p(99); });
    auto p999 = over(*rounds, [](const latency_round& r) { return r.p(99.9); });
    auto max = over(*rounds, [](const latency_round& r) { return r.us.empty() ? 0 : r.us.back(); });
    auto cpu = over(*rounds, cpu_us_per_entry);
    auto wakeups = over(*rounds, wakeups_per_entry);
    size_t samples = 0;
    for (const auto& r : *rounds)
      samples += r.us.size();
    std::printf("%-6s p50 %.0f us (%.0f-%.0f), p99 %.0f us (%.0f-%.0f), CPU %.2f us/entry "
                "(%.2f-%.2f), %.2f wake-ups/entry (%.2f-%.2f)\n",
                impl, p50.median, p50.min, p50.max, p99.median, p99.min, p99.max, cpu.median,
                cpu.min, cpu.max, wakeups.median, wakeups.min, wakeups.max);
    nlohmann::ordered_json line{{"bench", "latency"},
                                {"impl", impl},
                                {"rate", rate},
                                {"rounds", cfg.rounds},
                                {"samples", samples},
                                {"p50_us", cli::whole(p50.median)},
                                {"p50_min", cli::whole(p50.min)},
                                {"p50_max", cli::whole(p50.max)},
                                {"p99_us", cli::whole(p99.median)},
                                {"p99_min", cli::whole(p99.min)},
                                {"p99_max", cli::whole(p99.max)},
                                {"p999_us", cli::whole(p999.median)},
                                {"max_us", cli::whole(max.median)},
                                {"cpu_us_per_entry", cli::rounded(cpu.median, 3)},
                                {"cpu_min", cli::rounded(cpu.min, 3)},
                                {"cpu_max", cli::rounded(cpu.max, 3)},
                                {"wakeups_per_entry", cli::rounded(wakeups.median, 2)},
                                {"wakeups_min", cli::rounded(wakeups.min, 2)},
                                {"wakeups_max", cli::rounded(wakeups.max, 2)}};
    print(line);
  }
  return 0;
}

} // namespace rill::bench
