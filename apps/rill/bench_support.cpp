#include "bench.hpp"

#include <rill/actors/error.hpp>

#include <hiredis/hiredis.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <dirent.h>
#include <initializer_list>
#include <stdexcept>
#include <string_view>
#include <sys/resource.h>
#include <thread>

namespace rill::bench {

namespace {

/// A command for hiredis's *Argv functions, pointing into strings that
/// outlive it (no copies in the raw loops).
struct raw_argv {
  std::vector<const char*> argv;
  std::vector<size_t> lens;

  raw_argv(std::initializer_list<const char*> args) {
    for (auto* a : args)
      add(a, std::char_traits<char>::length(a));
  }
  void add(const char* str, size_t len) {
    argv.push_back(str);
    lens.push_back(len);
  }
  void append_to(redisContext* ctx) {
    redisAppendCommandArgv(ctx, static_cast<int>(argv.size()), argv.data(), lens.data());
  }
};

/// The XACK for every entry of an XREADGROUP reply (nothing if it is empty).
raw_argv xack_for(const redisReply* r, const std::string& stream, const std::string& group) {
  raw_argv ack{"XACK", stream.c_str(), group.c_str()};
  if (r->type == REDIS_REPLY_ARRAY && r->elements > 0) {
    auto* entries = r->element[0]->element[1];
    for (size_t i = 0; i < entries->elements; ++i)
      ack.add(entries->element[i]->element[0]->str, entries->element[i]->element[0]->len);
  }
  return ack;
}

} // namespace

namespace {

usage usage_of(int who) {
  rusage ru{};
  getrusage(who, &ru);
  usage u;
  u.user_s = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
  u.sys_s = ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
  u.max_rss_kb = who == RUSAGE_SELF ? ru.ru_maxrss : 0;
  u.sleeps = ru.ru_nvcsw;
  return u;
}

} // namespace

usage usage::now() {
  return usage_of(RUSAGE_SELF);
}

usage usage::this_thread() {
  return usage_of(RUSAGE_THREAD);
}

usage usage::operator-(const usage& earlier) const {
  usage d = *this;
  d.user_s -= earlier.user_s;
  d.sys_s -= earlier.sys_s;
  d.sleeps -= earlier.sleeps;
  return d;
}

consumer_options bench_consumer(std::string stream, uint32_t max_in_flight, uint64_t limit) {
  consumer_options opts;
  opts.stream = std::move(stream);
  opts.group = "g";
  opts.consumer = "rill";
  opts.max_in_flight = max_in_flight;
  opts.limit = limit;
  return opts;
}

aggregate aggregate_of(const std::vector<consumer*>& consumers) {
  aggregate out;
  int64_t first = INT64_MAX;
  int64_t last = 0;
  for (auto* c : consumers) {
    const auto& m = c->metrics();
    first = std::min<int64_t>(first, m.first_delivery_ns);
    last = std::max<int64_t>(last, m.finished_ns);
    out.processed += m.processed;
  }
  out.rate = out.processed / seconds_between(first, last);
  return out;
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

void prefill(blocking_client& c, const std::string& stream, const std::string& group, uint64_t n,
             uint64_t payload_bytes, const xadd_hook& hook) {
  std::string payload(payload_bytes, 'p');
  constexpr uint64_t chunk = 1000;
  for (uint64_t first = 0; first < n; first += chunk) {
    auto last = std::min(n, first + chunk);
    for (auto seq = first; seq < last; ++seq) {
      std::vector<std::string> argv{"XADD",    stream, "*", "seq", std::to_string(seq),
                                    "payload", payload};
      if (hook)
        hook(seq, argv);
      c.append(argv);
    }
    for (auto seq = first; seq < last; ++seq)
      if (!c.read_reply())
        throw std::runtime_error("prefill: XADD failed");
  }
  if (auto r = c.command({"XGROUP", "CREATE", stream, group, "0"}); !r)
    throw std::runtime_error("prefill: " + describe(r.error()));
}

double raw_consume(blocking_client& c, const std::string& stream, const std::string& group,
                   uint64_t n, uint64_t k) {
  auto* ctx = c.native();
  auto count = std::to_string(k);
  raw_argv read{"XREADGROUP",  "GROUP",   group.c_str(),  "raw", "COUNT",
                count.c_str(), "STREAMS", stream.c_str(), ">"};
  uint64_t acked = 0;
  auto t0 = std::chrono::steady_clock::now();
  read.append_to(ctx);
  bool ack_pending = false;
  while (acked < n) {
    void* raw = nullptr;
    if (ack_pending) { // the XACK sent with the previous read
      if (redisGetReply(ctx, &raw) != REDIS_OK)
        throw std::runtime_error("raw: XACK failed");
      acked += static_cast<redisReply*>(raw)->integer;
      freeReplyObject(raw);
      ack_pending = false;
      if (acked >= n)
        break;
    }
    if (redisGetReply(ctx, &raw) != REDIS_OK)
      throw std::runtime_error("raw: XREADGROUP failed");
    auto* r = static_cast<redisReply*>(raw);
    auto ack = xack_for(r, stream, group); // the "callback": nothing
    if (ack.argv.size() > 3) {
      ack.append_to(ctx);
      ack_pending = true;
    }
    read.append_to(ctx); // pipelined with the XACK
    freeReplyObject(r);
  }
  auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // Drain the read that is still in flight.
  void* raw = nullptr;
  if (redisGetReply(ctx, &raw) == REDIS_OK)
    freeReplyObject(raw);
  return n / seconds;
}

caf::error target::open(cli_config& cfg) {
  if (!cfg.redis_address.empty())
    return caf::none;
  auto s = local_redis::start();
  if (!s)
    return s.error();
  server.emplace(std::move(*s));
  cfg.redis.host = "127.0.0.1";
  cfg.redis.port = server->port();
  return caf::none;
}

blocking_client connect_or_throw(const std::string& host, uint16_t port) {
  auto c = blocking_client::connect(host, port);
  if (!c)
    throw std::runtime_error(describe(c.error()));
  return std::move(*c);
}

int64_t epoch_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

usage paced_xadd(blocking_client& producer, const std::string& stream, uint64_t n, uint64_t rate,
                 uint64_t payload_bytes, const xadd_hook& hook) {
  auto cpu0 = usage::this_thread();
  std::string payload(payload_bytes, 'p');
  auto start = std::chrono::steady_clock::now();
  auto gap = std::chrono::nanoseconds{1'000'000'000 / std::max<uint64_t>(1, rate)};
  for (uint64_t seq = 0; seq < n; ++seq) {
    std::this_thread::sleep_until(start + seq * gap);
    std::vector<std::string> argv{"XADD",    stream, "*", "seq", std::to_string(seq),
                                  "payload", payload};
    if (hook)
      hook(seq, argv);
    argv.insert(argv.end(), {"ts", std::to_string(epoch_us())});
    if (!producer.command(argv))
      throw std::runtime_error("paced XADD to " + stream + " failed");
  }
  return usage::this_thread() - cpu0;
}

raw_reader_result raw_latency_reader(blocking_client& reader, const std::string& stream,
                                     uint64_t n) {
  auto cpu0 = usage::this_thread();
  raw_reader_result out;
  out.latencies_us.reserve(n);
  auto& latencies = out.latencies_us;
  auto* ctx = reader.native();
  const std::string group = "g";
  raw_argv read{"XREADGROUP", "GROUP", "g",       "raw",          "COUNT", "64",
                "BLOCK",      "1000",  "STREAMS", stream.c_str(), ">"};
  int idle_reads = 0;
  read.append_to(ctx);
  bool ack_pending = false;
  bool read_pending = true;
  while (latencies.size() < n && idle_reads < 5) {
    void* raw = nullptr;
    if (ack_pending) {
      if (redisGetReply(ctx, &raw) != REDIS_OK)
        break;
      freeReplyObject(raw);
      ack_pending = false;
    }
    if (redisGetReply(ctx, &raw) != REDIS_OK)
      break;
    read_pending = false;
    auto arrived = epoch_us(); // the "callback start" of every entry in the reply
    auto* r = static_cast<redisReply*>(raw);
    if (r->type == REDIS_REPLY_ARRAY && r->elements > 0) {
      idle_reads = 0;
      auto* entries = r->element[0]->element[1];
      for (size_t i = 0; i < entries->elements; ++i) {
        auto* fields = entries->element[i]->element[1];
        for (size_t f = 0; f + 1 < fields->elements; f += 2)
          if (std::string_view{fields->element[f]->str, fields->element[f]->len} == "ts")
            latencies.push_back(
              static_cast<double>(arrived - std::stoll(fields->element[f + 1]->str)));
      }
    } else {
      ++idle_reads; // the producer is done or stuck: give up after 5 s of nothing
    }
    auto ack = xack_for(r, stream, group);
    if (ack.argv.size() > 3) {
      ack.append_to(ctx);
      ack_pending = true;
    }
    if (latencies.size() < n) {
      read.append_to(ctx);
      read_pending = true;
    }
    freeReplyObject(r);
  }
  void* raw = nullptr;
  if (ack_pending && redisGetReply(ctx, &raw) == REDIS_OK)
    freeReplyObject(raw);
  auto used = usage::this_thread() - cpu0;
  out.cpu_s = used.cpu_s();
  out.sleeps = used.sleeps;
  if (read_pending && redisGetReply(ctx, &raw) == REDIS_OK) // at most BLOCK 1000 later
    freeReplyObject(raw);
  return out;
}

int thread_count() {
  int n = 0;
  if (auto* d = opendir("/proc/self/task")) {
    while (auto* e = readdir(d))
      if (e->d_name[0] != '.')
        ++n;
    closedir(d);
  }
  return n;
}

} // namespace rill::bench
