// `rill bench keys`: consumer.order-by=key against key cardinality, next to
// the unordered consumer, alternating in one run, each run bounded by time (a
// single key runs at ~1/latency); then a hot-key case: one key is half of an
// offered rate the unordered consumer handles at half load, and the other
// keys' latency is compared with a run without the hot key.

#include "bench.hpp"
#include "commands.hpp"
#include "load_generator.hpp" // drill_key: the keys `rill produce --keys` gives
#include "seq_checksum.hpp"   // parse_seq
#include <rill/actors/error.hpp>
#include <rill/runtime/runtime.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>
#include <thread>

namespace rill::bench {

namespace {

using namespace std::chrono_literals;

/// The entry's async wait in µs: fixed per seq (so ordered and unordered
/// runs get the same work), uniform in min..max.
uint64_t work_of(uint64_t seq, uint64_t min, uint64_t max) {
  return max > min ? min + drill_key(seq + (uint64_t{1} << 40), max - min + 1) : min;
}

std::string key_name(uint64_t seq, uint64_t keys) {
  return "k" + std::to_string(drill_key(seq, keys));
}

/// Adds the async work callback: waits work_of(seq) µs.
void add_work(consumer& consumer, const cli_config& cfg) {
  auto min = cfg.work_us;
  auto max = std::max(cfg.work_us, cfg.work_us_max);
  consumer.add_async([min, max](const stream_entry& e, async_context ctx) {
    auto seq = parse_seq(*e.find("seq"));
    ctx.done.after(std::chrono::microseconds{work_of(seq ? *seq : 0, min, max)});
  });
}

struct keys_run {
  double rate = 0;   ///< msgs/s from the first delivery to the deadline
  double cpu_us = 0; ///< the process's CPU per entry processed
};

/// Drains a stream of `keys` keys for `seconds` (or until it is empty).
keys_run run_keys(const cli_config& cfg, blocking_client& c, uint64_t keys, bool ordered,
                  uint64_t n) {
  const std::string stream = "bench:keys";
  // `key` as `rill produce --keys` gives it.
  prefill(c, stream, "g", n, cfg.payload_bytes,
          [keys](uint64_t seq, std::vector<std::string>& argv) {
            argv.insert(argv.end(), {"key", key_name(seq, keys)});
          });
  keys_run out;
  auto before = usage::now();
  uint64_t processed = 0;
  {
    runtime rt{cfg};
    auto opts = bench_consumer(stream, cfg.consumer.max_in_flight);
    if (ordered)
      opts.order_by = "key";
    opts.max_waiting = cfg.consumer.max_waiting; // the order-by settings given
    opts.max_parked = cfg.consumer.max_parked;
    auto& consumer = rt.add_consumer(opts);
    add_work(consumer, cfg);
    rt.start();
    const auto& m = consumer.metrics();
    const auto limit = static_cast<int64_t>(cfg.seconds) * 1'000'000'000;
    rt.run([&] {
      auto first = m.first_delivery_ns.load();
      auto done = m.processed.load();
      if (first == 0 || (steady_ns() - first < limit && done < n))
        return false;
      processed = done;
      out.rate = static_cast<double>(done) / seconds_between(first, steady_ns());
      return true;
    });
  }
  auto used = usage::now() - before;
  out.cpu_us = processed > 0 ? used.cpu_s() * 1e6 / static_cast<double>(processed) : 0;
  c.command({"DEL", stream});
  return out;
}

/// Entries to prefill for a run: what the run can reach in --seconds at the
/// ideal rate (min(K, keys) entries out, each busy the mean work), plus room.
uint64_t entries_for(const cli_config& cfg, uint64_t keys) {
  double mean_us = (cfg.work_us + std::max(cfg.work_us, cfg.work_us_max)) / 2.0;
  double out = std::min<double>(cfg.consumer.max_in_flight, static_cast<double>(keys));
  double ideal = mean_us > 0 ? out * 1e6 / mean_us : 1e6;
  auto n = static_cast<uint64_t>(ideal * static_cast<double>(cfg.seconds) * 1.3) + 1000;
  return std::min<uint64_t>(n, 2'000'000);
}

/// Other keys' latency (entry ts -> first callback), hot key on or off.
struct hot_run {
  std::vector<double> others_us; ///< sorted; entries never started count until the end
  uint64_t hot_done = 0;
  uint64_t hot_sent = 0;
};

hot_run run_hot(const cli_config& cfg, uint64_t rate, bool hot) {
  const std::string stream = hot ? "bench:keys:hot" : "bench:keys:even";
  const uint64_t n = rate * cfg.seconds;
  const uint64_t keys = 1000;
  auto producer = connect_or_throw(cfg.redis.host, cfg.redis.port);
  if (auto r = producer.command({"XGROUP", "CREATE", stream, "g", "$", "MKSTREAM"}); !r)
    throw std::runtime_error("bench keys: " + describe(r.error()));
  auto is_hot = [hot](uint64_t seq) {
    return hot && seq % 2 == 0;
  };
  constexpr double never = -1;
  std::vector<double> started(n, never);
  std::vector<int64_t> sent_us(n, 0);
  std::atomic<uint64_t> hot_done{0};
  std::atomic<bool> produced{false};
  int64_t end_us = 0;
  {
    runtime rt{cfg};
    auto opts = bench_consumer(stream, cfg.consumer.max_in_flight);
    opts.order_by = "key";
    opts.max_waiting = cfg.consumer.max_waiting;
    opts.max_parked = cfg.consumer.max_parked;
    auto& consumer = rt.add_consumer(opts);
    consumer.add([&](const stream_entry& e) {
      auto now = epoch_us();
      auto seq = parse_seq(*e.find("seq"));
      if (!seq || *seq >= n)
        return;
      if (is_hot(*seq))
        hot_done.fetch_add(1, std::memory_order_relaxed);
      else if (started[*seq] == never) // a redelivery keeps its first start
        started[*seq] = static_cast<double>(now - std::stoll(*e.find("ts")));
    });
    add_work(consumer, cfg);
    rt.start();
    std::this_thread::sleep_for(300ms); // the reader blocks
    std::thread paced{[&] {
      paced_xadd(producer, stream, n, rate, cfg.payload_bytes,
                 [&](uint64_t seq, std::vector<std::string>& argv) {
                   argv.insert(argv.end(), {"key", is_hot(seq) ? "hot" : key_name(seq, keys)});
                   sent_us[seq] = epoch_us();
                 });
      produced = true;
    }};
    // Until the producer is done and 2 s more (the hot key's backlog never
    // drains at this rate: it is cut off, and what never started counts).
    std::optional<std::chrono::steady_clock::time_point> done_at;
    rt.run([&] {
      if (!produced.load())
        return false;
      auto now = std::chrono::steady_clock::now();
      if (!done_at)
        done_at = now;
      return now - *done_at > 2s;
    });
    end_us = epoch_us();
    paced.join();
  }
  hot_run out;
  for (uint64_t seq = 0; seq < n; ++seq) {
    if (is_hot(seq)) {
      ++out.hot_sent;
      continue;
    }
    // Still waiting at the end: at least end - sent (a lower bound).
    out.others_us.push_back(started[seq] != never ? started[seq]
                                                  : static_cast<double>(end_us - sent_us[seq]));
  }
  out.hot_done = hot_done.load();
  std::sort(out.others_us.begin(), out.others_us.end());
  producer.command({"DEL", stream});
  return out;
}

std::vector<uint64_t> cardinalities(const cli_config& cfg) {
  if (cfg.keys > 0)
    return {cfg.keys};
  return {1, 10, 100, 1000, 10000};
}

} // namespace

int keys_case(cli_config& cfg) {
  if (cfg.work_us_text.empty()) { // the drill: 0-5 ms of async work
    cfg.work_us = 0;
    cfg.work_us_max = 5000;
  }
  const uint32_t k = cfg.consumer.max_in_flight;
  target t;
  if (auto err = t.open(cfg))
    return cli::config_error("bench keys", describe(err));
  auto c = connect_or_throw(cfg.redis.host, cfg.redis.port);
  std::printf("bench keys: %u workers, %llu-%llu us async work per entry, %llu s per run, "
              "%llu alternating rounds (ordered = consumer.order-by=key)\n",
              k, static_cast<unsigned long long>(cfg.work_us),
              static_cast<unsigned long long>(std::max(cfg.work_us, cfg.work_us_max)),
              static_cast<unsigned long long>(cfg.seconds),
              static_cast<unsigned long long>(cfg.rounds));
  std::printf("%-7s %-6s %14s %14s %8s %12s %12s\n", "keys", "round", "ordered msgs/s", "unordered",
              "ratio", "ordered cpu/e", "unord. cpu/e");
  double single_key = 0;
  double unordered_1000 = 0;
  for (auto keys : cardinalities(cfg)) {
    std::vector<double> ordered, unordered, ratios, ordered_cpu, unordered_cpu;
    auto n = entries_for(cfg, keys);
    auto n_unordered = entries_for(cfg, k);
    for (uint64_t round = 1; round <= cfg.rounds; ++round) {
      keys_run a, b;
      if (round % 2 == 1) { // alternate which goes first
        a = run_keys(cfg, c, keys, true, n);
        b = run_keys(cfg, c, keys, false, n_unordered);
      } else {
        b = run_keys(cfg, c, keys, false, n_unordered);
        a = run_keys(cfg, c, keys, true, n);
      }
      ordered.push_back(a.rate);
      unordered.push_back(b.rate);
      ratios.push_back(a.rate / b.rate);
      ordered_cpu.push_back(a.cpu_us);
      unordered_cpu.push_back(b.cpu_us);
      std::printf("%-7llu %-6llu %14.0f %14.0f %8.3f %10.1fus %10.1fus\n",
                  static_cast<unsigned long long>(keys), static_cast<unsigned long long>(round),
                  a.rate, b.rate, a.rate / b.rate, a.cpu_us, b.cpu_us);
      std::fflush(stdout);
    }
    auto o = summarize(ordered);
    auto u = summarize(unordered);
    auto r = summarize(ratios);
    auto oc = summarize(ordered_cpu);
    auto uc = summarize(unordered_cpu);
    if (keys == 1)
      single_key = o.median;
    if (keys == 1000)
      unordered_1000 = u.median;
    nlohmann::ordered_json line{{"bench", "keys"},
                                {"keys", keys},
                                {"max_in_flight", k},
                                {"work_us", cfg.work_us_text.empty() ? "0-5000" : cfg.work_us_text},
                                {"rounds", cfg.rounds},
                                {"ordered_msgs_per_s", cli::whole(o.median)},
                                {"ordered_min", cli::whole(o.min)},
                                {"ordered_max", cli::whole(o.max)},
                                {"unordered_msgs_per_s", cli::whole(u.median)},
                                {"ratio", cli::rounded(r.median, 3)},
                                {"ratio_min", cli::rounded(r.min, 3)},
                                {"ratio_max", cli::rounded(r.max, 3)},
                                {"ordered_cpu_us_per_entry", cli::rounded(oc.median, 2)},
                                {"unordered_cpu_us_per_entry", cli::rounded(uc.median, 2)}};
    if (single_key > 0 && keys > 1)
      line["x_single_key"] = cli::rounded(o.median / single_key, 2);
    print(line);
  }
  if (cfg.keys > 0)
    return 0; // one cardinality asked for: no hot-key case
  // Hot key: offered = half what the unordered consumer handles at 1,000 keys
  // (measured above); one key carries half of it.
  auto rate = static_cast<uint64_t>(unordered_1000 / 2);
  std::printf("hot key: %llu msgs/s offered over 1,000 keys for %llu s, with and without one "
              "key carrying half of them\n",
              static_cast<unsigned long long>(rate), static_cast<unsigned long long>(cfg.seconds));
  std::printf("%-6s %16s %16s %16s %16s %12s\n", "round", "even p50 us", "even p99 us",
              "hot: others p50", "hot: others p99", "hot key done");
  std::vector<double> even99, hot99, even50, hot50, ratio99;
  uint64_t hot_done = 0, hot_sent = 0;
  for (uint64_t round = 1; round <= cfg.rounds; ++round) {
    auto even = run_hot(cfg, rate, false);
    auto hot = run_hot(cfg, rate, true);
    even50.push_back(percentile(even.others_us, 50));
    even99.push_back(percentile(even.others_us, 99));
    hot50.push_back(percentile(hot.others_us, 50));
    hot99.push_back(percentile(hot.others_us, 99));
    ratio99.push_back(hot99.back() / std::max(1.0, even99.back()));
    hot_done += hot.hot_done;
    hot_sent += hot.hot_sent;
    std::printf("%-6llu %16.0f %16.0f %16.0f %16.0f %6llu/%llu\n",
                static_cast<unsigned long long>(round), even50.back(), even99.back(), hot50.back(),
                hot99.back(), static_cast<unsigned long long>(hot.hot_done),
                static_cast<unsigned long long>(hot.hot_sent));
    std::fflush(stdout);
  }
  auto r99 = summarize(ratio99);
  print(nlohmann::ordered_json{{"bench", "keys"},
                               {"case", "hot_key"},
                               {"rate", rate},
                               {"rounds", cfg.rounds},
                               {"even_p50_us", cli::whole(summarize(even50).median)},
                               {"even_p99_us", cli::whole(summarize(even99).median)},
                               {"hot_others_p50_us", cli::whole(summarize(hot50).median)},
                               {"hot_others_p99_us", cli::whole(summarize(hot99).median)},
                               {"p99_ratio", cli::rounded(r99.median, 2)},
                               {"p99_ratio_min", cli::rounded(r99.min, 2)},
                               {"p99_ratio_max", cli::rounded(r99.max, 2)},
                               {"hot_key_done", hot_done},
                               {"hot_key_sent", hot_sent}});
  return 0;
}

} // namespace rill::bench
