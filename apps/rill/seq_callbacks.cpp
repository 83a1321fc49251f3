#include "seq_callbacks.hpp"

#include "percentile.hpp"
#include "seq_checksum.hpp"
#include <rill/actors/error.hpp>
#include <rill/actors/redis/command.hpp>

#include <caf/event_based_actor.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <random>
#include <unistd.h>

namespace rill::cli {

seq_tally::~seq_tally() {
  if (record_fd >= 0)
    ::close(record_fd);
}

std::string seq_tally::open_record(const std::string& path) {
  record_fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  return record_fd < 0 ? "--record " + path + ": " + std::strerror(errno) : std::string{};
}

namespace {

/// p50 and p99 of the recorded latencies (empty if none).
std::vector<double> percentiles(seq_tally& tally) {
  auto n = std::min(tally.latency_count.load(), tally.latencies.size());
  if (n == 0)
    return {};
  std::vector<double> sorted(tally.latencies.begin(),
                             tally.latencies.begin() + static_cast<long>(n));
  std::sort(sorted.begin(), sorted.end());
  return {percentile(sorted, 50), percentile(sorted, 99)};
}

} // namespace

void seq_tally::add_latency(nlohmann::ordered_json& line) {
  auto p = percentiles(*this);
  if (p.empty())
    return;
  line["p50_us"] = std::llround(p[0]);
  line["p99_us"] = std::llround(p[1]);
}

void register_effect_callbacks(callback_registry& list, const std::string& counter,
                               const std::string& forward, bool pipelined) {
  if (counter.empty())
    return;
  auto forwarded = [forward](const stream_entry& e) {
    auto fields = e.fields;
    fields.emplace_back("src");
    fields.push_back(e.id);
    return fields;
  };
  if (!pipelined) {
    list.add("effects", [counter, forward, forwarded](const stream_entry& e, effects& fx) {
      fx.hincrby(counter, "total", 1);
      if (!forward.empty())
        fx.xadd(forward, forwarded(e));
    });
    return;
  }
  // The yardstick: the same writes, pipelined, then a plain ack - no fence,
  // no atomicity (a redelivery applies them again).
  list.add_async(
    "effects", [counter, forward, forwarded](const stream_entry& e, async_context ctx) {
      std::vector<redis_command> cmds{make_command({"HINCRBY", counter, "total", "1"})};
      if (!forward.empty()) {
        redis_command xadd = make_command({"XADD", forward, "*"});
        for (auto& f : forwarded(e))
          xadd.arg(std::move(f));
        cmds.push_back(std::move(xadd));
      }
      ctx.self->request(ctx.shared_conn, std::chrono::seconds{10}, std::move(cmds))
        .then(
          [done = ctx.done](std::vector<redis_reply>& replies) {
            for (auto& r : replies)
              if (r.is_error())
                return done(error_from_reply(r.str));
            done();
          },
          [done = ctx.done](caf::error& err) { done(std::move(err)); });
    });
}

void register_seq_callbacks(callback_registry& list, const cli_config& cfg, seq_tally& tally) {
  if (cfg.measure_latency) {
    tally.latencies.resize(1 << 20); // the first million entries
    list.add("latency", [&tally](const stream_entry& e) {
      auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
      if (auto ts = e.find("ts"))
        if (auto sent = parse_seq(*ts)) {
          auto i = tally.latency_count.fetch_add(1, std::memory_order_relaxed);
          if (i < tally.latencies.size())
            tally.latencies[i] = static_cast<double>(now - static_cast<int64_t>(*sent));
        }
    });
  }
  // Before "seq": in registration order (rill consume, and pools without a
  // callbacks= list) --record then notes an entry when its work is done,
  // just before the ack, so a record file shows completion order.
  if (cfg.work_us_max > cfg.work_us) {
    auto lo = cfg.work_us;
    auto hi = cfg.work_us_max;
    list.add_async("work", [lo, hi](const stream_entry&, async_context ctx) {
      thread_local std::minstd_rand random{std::random_device{}()};
      std::uniform_int_distribution<uint64_t> pick{lo, hi};
      ctx.done.after(std::chrono::microseconds{pick(random)});
    });
  } else if (cfg.work_us > 0) {
    auto work = std::chrono::microseconds{cfg.work_us};
    list.add_async("work",
                   [work](const stream_entry&, async_context ctx) { ctx.done.after(work); });
  }
  auto fail_percent = cfg.fail_percent;
  list.add("seq", [&tally, fail_percent](const stream_entry& e) -> caf::error {
    auto field = e.find("seq");
    if (field == nullptr)
      return fail_permanently("entry has no seq field");
    auto seq = parse_seq(*field);
    if (!seq)
      return fail_permanently("seq is not a number");
    if (*seq % 100 < fail_percent)
      return make_error(sec::invalid_argument, "drill: --fail-percent fails this seq");
    if (tally.record_fd >= 0) {
      // One write(2) per seq before the callback returns: a SIGKILL right
      // after cannot lose the record of a processed entry.
      char line[32];
      auto len = std::snprintf(line, sizeof(line), "%llu\n", static_cast<unsigned long long>(*seq));
      if (::write(tally.record_fd, line, static_cast<size_t>(len)) != len)
        return make_error(sec::callback_failed, std::string{"--record: "} + std::strerror(errno));
    }
    tally.checksum.fetch_add(seq_hash(*seq), std::memory_order_relaxed);
    tally.processed.fetch_add(1, std::memory_order_relaxed);
    return caf::none;
  });
  register_effect_callbacks(list, cfg.effect_counter, cfg.forward_to, cfg.effects_pipelined);
}

void add_seq_callbacks(callback_list& list, const cli_config& cfg, seq_tally& tally) {
  callback_registry registry;
  register_seq_callbacks(registry, cfg, tally);
  auto all = registry.make_list({});
  for (size_t i = 0; i < (*all)->size(); ++i)
    list.append((**all)[i]);
}

} // namespace rill::cli
