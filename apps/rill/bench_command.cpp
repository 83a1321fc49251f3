#include "bench.hpp"
#include "commands.hpp"
#include "json_line.hpp"
#include "seq_checksum.hpp"
#include <rill/actors/error.hpp>
#include <rill/runtime/logging.hpp>
#include <rill/runtime/runtime.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>

namespace rill::bench {

consume_round rill_consume_round(const cli_config& cfg, uint64_t n, uint32_t k,
                                 const std::function<void(consumer&)>& callbacks) {
  consume_round out;
  runtime rt{cfg};
  auto& consumer = rt.add_consumer(bench_consumer("bench:rill", k, n));
  // With --work-us each entry waits asynchronously (a timer, no thread held):
  // an I/O-bound callback. The second callback runs once the wait is done, so
  // start -> second callback is the callback's measured duration.
  std::vector<int64_t> started(cfg.work_us > 0 ? n : 0);
  std::atomic<int64_t> waited_ns{0};
  if (cfg.work_us > 0) {
    auto work = std::chrono::microseconds{cfg.work_us};
    consumer.add_async([&started, work](const stream_entry& e, async_context ctx) {
      if (auto seq = parse_seq(*e.find("seq")); seq && *seq < started.size())
        started[*seq] = steady_ns();
      ctx.done.after(work);
    });
    consumer.add([&started, &waited_ns](const stream_entry& e) {
      if (auto seq = parse_seq(*e.find("seq")); seq && *seq < started.size())
        waited_ns.fetch_add(steady_ns() - started[*seq], std::memory_order_relaxed);
    });
  } else if (callbacks) {
    callbacks(consumer);
  } else {
    consumer.add([](const stream_entry&) {});
  }
  rt.start();
  rt.run();
  const auto& m = consumer.metrics();
  out.wall_s = seconds_between(m.first_delivery_ns, m.finished_ns);
  out.rate = m.processed / out.wall_s;
  if (m.processed > 0)
    out.callback_us = waited_ns.load() / 1e3 / static_cast<double>(m.processed);
  out.per_read = m.reads > 0 ? static_cast<double>(m.processed) / m.reads : 0;
  out.per_xack = m.ack_batches > 0 ? static_cast<double>(m.acked) / m.ack_batches : 0;
  return out;
}

int consume_case(cli_config& cfg) {
  if (!cfg.effect_counter.empty()) // with staged effects: plain vs atomic vs pipelined
    return effects_case(cfg);
  const uint64_t n = cfg.count > 0 ? cfg.count : 200'000;
  const uint32_t k = cfg.consumer.max_in_flight;
  const bool io_bound = cfg.work_us > 0;
  target t;
  if (auto err = t.open(cfg))
    return cli::config_error("bench consume", describe(err));
  auto c = connect_or_throw(cfg.redis.host, cfg.redis.port);
  std::vector<double> rill_rates, raw_rates, ratios, busy, overshoot, rill_cpu_e, raw_cpu_e,
    per_read, per_xack;
  usage rill_cpu, raw_cpu;
  long peak_rss = 0;
  std::printf("bench consume: %s entries, max-in-flight %u, payload %llu bytes, %llu rounds\n",
              cli::grouped(n).c_str(), k, static_cast<unsigned long long>(cfg.payload_bytes),
              static_cast<unsigned long long>(cfg.rounds));
  // The bound an I/O-bound run can reach: K workers, each busy W µs per entry.
  const double ideal = io_bound ? k * 1e6 / static_cast<double>(cfg.work_us) : 0;
  if (io_bound)
    std::printf("each callback waits %llu us asynchronously: ideal K/W = %.0f msgs/s (the raw "
                "loop has no callbacks to wait for: not run)\n",
                static_cast<unsigned long long>(cfg.work_us), ideal);
  std::printf("%-6s %14s %14s %8s %12s %12s\n", "round", "rill msgs/s",
              io_bound ? "busy" : "raw msgs/s", io_bound ? "of K/W" : "ratio", "rill cpu/e",
              io_bound ? "callback us" : "raw cpu/e");
  for (uint64_t round = 1; round <= cfg.rounds; ++round) {
    prefill(c, "bench:rill", "g", n, cfg.payload_bytes);
    auto before = usage::now();
    auto rill = rill_consume_round(cfg, n, k);
    auto after = usage::now();
    peak_rss = std::max(peak_rss, after.max_rss_kb);
    auto d = after - before;
    rill_cpu.user_s += d.user_s;
    rill_cpu.sys_s += d.sys_s;
    rill_cpu_e.push_back(d.cpu_s() * 1e6 / n);
    c.command({"DEL", "bench:rill"});
    rill_rates.push_back(rill.rate);
    per_read.push_back(rill.per_read);
    per_xack.push_back(rill.per_xack);
    if (io_bound) {
      // Busy fraction: entries x measured callback time / (K x wall time).
      busy.push_back(n * rill.callback_us / 1e6 / (k * rill.wall_s));
      overshoot.push_back(rill.callback_us / static_cast<double>(cfg.work_us) - 1);
      std::printf("%-6llu %14.0f %14.3f %8.3f %10.2fus %12.1f\n",
                  static_cast<unsigned long long>(round), rill.rate, busy.back(), rill.rate / ideal,
                  rill_cpu_e.back(), rill.callback_us);
      std::fflush(stdout);
      continue;
    }
    prefill(c, "bench:raw", "g", n, cfg.payload_bytes);
    before = usage::now();
    auto raw_rate = raw_consume(c, "bench:raw", "g", n, k);
    d = usage::now() - before;
    raw_cpu.user_s += d.user_s;
    raw_cpu.sys_s += d.sys_s;
    raw_cpu_e.push_back(d.cpu_s() * 1e6 / n);
    c.command({"DEL", "bench:raw"});
    raw_rates.push_back(raw_rate);
    ratios.push_back(rill.rate / raw_rate);
    std::printf("%-6llu %14.0f %14.0f %8.2f %10.2fus %10.2fus\n",
                static_cast<unsigned long long>(round), rill.rate, raw_rate, rill.rate / raw_rate,
                rill_cpu_e.back(), raw_cpu_e.back());
    std::fflush(stdout);
  }
  auto r = summarize(rill_rates);
  auto rc = summarize(rill_cpu_e);
  rill_cpu.max_rss_kb = peak_rss;
  if (io_bound) {
    auto b = summarize(busy);
    auto o = summarize(overshoot);
    std::printf("median %.0f msgs/s (%.0f-%.0f) = %.3f of K/W; workers busy %.3f (%.3f-%.3f); "
                "timer overshoot %.1f%% (%.1f-%.1f); CPU %.2f us/entry\n",
                r.median, r.min, r.max, r.median / ideal, b.median, b.min, b.max, o.median * 100,
                o.min * 100, o.max * 100, rc.median);
    nlohmann::ordered_json line{{"bench", "consume"},
                                {"impl", "rill"},
                                {"count", n},
                                {"max_in_flight", k},
                                {"work_us", cfg.work_us},
                                {"rounds", cfg.rounds},
                                {"msgs_per_s", cli::whole(r.median)},
                                {"min", cli::whole(r.min)},
                                {"max", cli::whole(r.max)},
                                {"ideal_msgs_per_s", cli::whole(ideal)},
                                {"of_ideal", cli::rounded(r.median / ideal, 3)},
                                {"busy_fraction", cli::rounded(b.median, 3)},
                                {"busy_min", cli::rounded(b.min, 3)},
                                {"busy_max", cli::rounded(b.max, 3)},
                                {"timer_overshoot", cli::rounded(o.median, 3)},
                                {"entries_per_read", cli::rounded(summarize(per_read).median, 1)},
                                {"entries_per_xack", cli::rounded(summarize(per_xack).median, 1)},
                                {"cpu_us_per_entry", cli::rounded(rc.median, 3)}};
    add_usage(line, rill_cpu);
    print(line);
    return 0;
  }
  auto w = summarize(raw_rates);
  auto q = summarize(ratios);
  auto wc = summarize(raw_cpu_e);
  std::printf("%-6s %14.0f %14.0f %8.2f %10.2fus %10.2fus   (min-max: rill %.0f-%.0f, raw "
              "%.0f-%.0f)\n",
              "median", r.median, w.median, q.median, rc.median, wc.median, r.min, r.max, w.min,
              w.max);
  for (auto [impl, s, u, cpu] :
       {std::tuple{"rill", r, rill_cpu, rc}, std::tuple{"raw", w, raw_cpu, wc}}) {
    nlohmann::ordered_json line{{"bench", "consume"},
                                {"impl", impl},
                                {"count", n},
                                {"max_in_flight", k},
                                {"payload_bytes", cfg.payload_bytes},
                                {"rounds", cfg.rounds},
                                {"msgs_per_s", cli::whole(s.median)},
                                {"min", cli::whole(s.min)},
                                {"max", cli::whole(s.max)},
                                {"ratio_rill_raw", cli::rounded(q.median, 3)},
                                {"cpu_us_per_entry", cli::rounded(cpu.median, 3)},
                                {"cpu_min", cli::rounded(cpu.min, 3)},
                                {"cpu_max", cli::rounded(cpu.max, 3)}};
    if (impl == std::string{"rill"}) {
      line["entries_per_read"] = cli::rounded(summarize(per_read).median, 1);
      line["entries_per_xack"] = cli::rounded(summarize(per_xack).median, 1);
    }
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
    rate = aggregate_of(all).rate;
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
    if (which == "scrape")
      return bench::scrape_case(cfg);
    if (which == "gateway")
      return bench::gateway_case(cfg);
    if (which == "cluster")
      return bench::cluster_case(cfg);
    if (which == "tls")
      return bench::tls_case(cfg);
    if (which == "keys")
      return bench::keys_case(cfg);
    if (which == "effects")
      return bench::effects_case(cfg);
  } catch (const std::exception& ex) {
    std::fprintf(stderr, "rill bench %s: %s\n", which.c_str(), ex.what());
    return 1;
  }
  return config_error(
    "bench",
    "unknown case '" + which
      + "' (consume, latency, scale, responsiveness, nodes, scrape, gateway, cluster, tls, keys, "
        "effects)");
}

} // namespace rill::cli
