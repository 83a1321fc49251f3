// `rill bench effects` (also `rill bench consume --effect-counter KEY
// [--forward-to STREAM]`): what exactly-once effects cost (docs/exactly-once.md).
// Per max-in-flight K (64 and 512, or --max-in-flight), rounds rotate three
// consumers over --count entries: plain acks; one `HINCRBY bench:cnt total 1`
// and one XADD of the entry's fields + src to bench:fwd per entry, staged and
// applied with the XACK in the effects script (atomic); and the same two
// writes sent as a pipeline from an async callback before a plain ack (what
// a callback does without rill's effects: not atomic). Reported: msgs/s and
// the ratios to plain, rill's CPU per entry, Redis's CPU per entry (INFO cpu)
// and the script's own time per entry (INFO commandstats).

#include "bench.hpp"
#include "commands.hpp"
#include "seq_callbacks.hpp"
#include <rill/actors/error.hpp>

#include <cstdio>
#include <sstream>

namespace rill::bench {

namespace {

enum class mode { plain, atomic, pipelined };

const char* name_of(mode m) {
  return m == mode::plain ? "plain" : m == mode::atomic ? "atomic" : "pipelined";
}

/// The keys the effects go to: --effect-counter and --forward-to (none: no
/// forward) when given, else bench:cnt and bench:fwd.
struct effect_keys {
  std::string counter;
  std::string forward;
};

/// Plain: a callback that does nothing; atomic and pipelined: the drill's
/// "effects" callback of `rill consume --effect-counter` (seq_callbacks.hpp).
void add_callbacks(consumer& c, mode m, const effect_keys& keys) {
  if (m == mode::plain) {
    c.add([](const stream_entry&) {});
    return;
  }
  callback_registry registry;
  cli::register_effect_callbacks(registry, keys.counter, keys.forward, m == mode::pipelined);
  auto all = registry.make_list({});
  for (size_t i = 0; i < (*all)->size(); ++i)
    c.callbacks().append((**all)[i]);
}

/// `field:value` of an INFO section, as a number (0 if missing).
double info_number(const std::string& info, const std::string& field) {
  auto at = info.find(field + ":");
  return at == std::string::npos ? 0 : std::stod(info.substr(at + field.size() + 1));
}

/// usec= of a commandstats line.
double command_usec(const std::string& stats, const std::string& command) {
  auto at = stats.find("cmdstat_" + command + ":");
  if (at == std::string::npos)
    return 0;
  auto u = stats.find("usec=", at);
  return std::stod(stats.substr(u + 5));
}

struct sample {
  double rate = 0;
  double rill_cpu_us = 0;
  double redis_cpu_us = 0;
  double script_us = 0; // EVALSHA/EVAL time per entry
  bool exact = true;    // the counter says n afterwards
};

sample run_round(cli_config& cfg, blocking_client& c, uint64_t n, uint32_t k, mode m,
                 const effect_keys& keys) {
  c.command({"DEL", keys.counter, keys.forward.empty() ? keys.counter : keys.forward});
  prefill(c, "bench:rill", "g", n, cfg.payload_bytes);
  c.command({"CONFIG", "RESETSTAT"});
  auto cpu_before = c.command({"INFO", "cpu"})->str;
  auto before = usage::now();
  auto round
    = rill_consume_round(cfg, n, k, [m, &keys](consumer& x) { add_callbacks(x, m, keys); });
  auto d = usage::now() - before;
  auto cpu_after = c.command({"INFO", "cpu"})->str;
  auto stats = c.command({"INFO", "commandstats"})->str;
  sample s;
  s.rate = round.rate;
  s.rill_cpu_us = d.cpu_s() * 1e6 / n;
  auto redis_cpu = [](const std::string& info) {
    return info_number(info, "used_cpu_user") + info_number(info, "used_cpu_sys");
  };
  s.redis_cpu_us = (redis_cpu(cpu_after) - redis_cpu(cpu_before)) * 1e6 / n;
  s.script_us = (command_usec(stats, "evalsha") + command_usec(stats, "eval")) / n;
  if (m != mode::plain) {
    auto total = c.command({"HGET", keys.counter, "total"});
    s.exact = total && total->str == std::to_string(n);
  }
  c.command({"DEL", "bench:rill"});
  return s;
}

} // namespace

int effects_case(cli_config& cfg) {
  const uint64_t n = cfg.count > 0 ? cfg.count : 200'000;
  effect_keys keys{"bench:cnt", "bench:fwd"};
  if (!cfg.effect_counter.empty())
    keys = effect_keys{cfg.effect_counter, cfg.forward_to};
  target t;
  if (auto err = t.open(cfg))
    return cli::config_error("bench effects", describe(err));
  auto c = connect_or_throw(cfg.redis.host, cfg.redis.port);
  std::vector<uint32_t> ks{cfg.consumer.max_in_flight};
  if (cfg.consumer.max_in_flight == consumer_options{}.max_in_flight)
    ks = {64, 512};
  std::printf("bench effects: %s entries, payload %llu bytes, %llu rounds per K; per entry "
              "HINCRBY %s%s%s, atomic (with the XACK, one script) or pipelined (before a plain "
              "ack), against plain acks\n",
              cli::grouped(n).c_str(), static_cast<unsigned long long>(cfg.payload_bytes),
              static_cast<unsigned long long>(cfg.rounds), keys.counter.c_str(),
              keys.forward.empty() ? "" : " + XADD ", keys.forward.c_str());
  const mode modes[] = {mode::plain, mode::atomic, mode::pipelined};
  for (auto k : ks) {
    std::vector<sample> got[3];
    std::vector<double> atomic_ratio, pipelined_ratio;
    for (uint64_t r = 0; r < cfg.rounds; ++r) {
      for (int i = 0; i < 3; ++i) { // rotate which goes first
        auto m = modes[(i + r) % 3];
        got[static_cast<int>(m)].push_back(run_round(cfg, c, n, k, m, keys));
      }
      auto& p = got[0].back();
      auto& a = got[1].back();
      auto& q = got[2].back();
      atomic_ratio.push_back(a.rate / p.rate);
      pipelined_ratio.push_back(q.rate / p.rate);
      std::printf("  K=%-4u round %llu: plain %.0f msgs/s, atomic %.0f (%.2fx, script %.2f "
                  "us/entry%s), pipelined %.0f (%.2fx%s); rill CPU/entry %.2f / %.2f / %.2f us; "
                  "Redis CPU/entry %.2f / %.2f / %.2f us\n",
                  k, static_cast<unsigned long long>(r + 1), p.rate, a.rate, atomic_ratio.back(),
                  a.script_us, a.exact ? "" : ", COUNTER WRONG", q.rate, pipelined_ratio.back(),
                  q.exact ? "" : ", counter off", p.rill_cpu_us, a.rill_cpu_us, q.rill_cpu_us,
                  p.redis_cpu_us, a.redis_cpu_us, q.redis_cpu_us);
      std::fflush(stdout);
    }
    auto median = [](const std::vector<sample>& v, double sample::*f) {
      std::vector<double> xs;
      for (const auto& s : v)
        xs.push_back(s.*f);
      return summarize(xs).median;
    };
    auto ar = summarize(atomic_ratio);
    auto pr = summarize(pipelined_ratio);
    std::printf("  K=%u: atomic / plain %.2fx median (%.2f-%.2f), pipelined / plain %.2fx "
                "(%.2f-%.2f); script %.2f us per entry\n",
                k, ar.median, ar.min, ar.max, pr.median, pr.min, pr.max,
                median(got[1], &sample::script_us));
    nlohmann::ordered_json line{{"bench", "effects"}, {"max_in_flight", k}, {"count", n}};
    for (auto m : modes) {
      const auto& v = got[static_cast<int>(m)];
      std::string prefix = name_of(m);
      line[prefix + "_msgs_per_s"] = cli::whole(median(v, &sample::rate));
      line[prefix + "_rill_cpu_us"] = cli::rounded(median(v, &sample::rill_cpu_us), 2);
      line[prefix + "_redis_cpu_us"] = cli::rounded(median(v, &sample::redis_cpu_us), 2);
    }
    line["atomic_ratio"] = cli::rounded(ar.median, 3);
    line["atomic_ratio_min"] = cli::rounded(ar.min, 3);
    line["atomic_ratio_max"] = cli::rounded(ar.max, 3);
    line["pipelined_ratio"] = cli::rounded(pr.median, 3);
    line["script_us_per_entry"] = cli::rounded(median(got[1], &sample::script_us), 2);
    print(line);
  }
  return 0;
}

} // namespace rill::bench
