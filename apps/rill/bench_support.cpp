#include "apps/rill/bench.hpp"

#include "runtime/error.hpp"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <chrono>
#include <dirent.h>
#include <stdexcept>
#include <string_view>
#include <sys/resource.h>
#include <thread>

namespace rill::bench {

usage usage::now() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  usage u;
  u.user_s = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
  u.sys_s = ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
  u.max_rss_kb = ru.ru_maxrss;
  return u;
}

usage usage::operator-(const usage& earlier) const {
  usage d = *this;
  d.user_s -= earlier.user_s;
  d.sys_s -= earlier.sys_s;
  return d;
}

void prefill(blocking_client& c, const std::string& stream, const std::string& group, uint64_t n,
             uint64_t payload_bytes) {
  std::string payload(payload_bytes, 'p');
  constexpr uint64_t chunk = 1000;
  for (uint64_t first = 0; first < n; first += chunk) {
    auto last = std::min(n, first + chunk);
    for (auto seq = first; seq < last; ++seq)
      c.append({"XADD", stream, "*", "seq", std::to_string(seq), "payload", payload});
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
  const char* read_argv[] = {"XREADGROUP",  "GROUP",   group.c_str(),  "raw", "COUNT",
                             count.c_str(), "STREAMS", stream.c_str(), ">"};
  size_t read_lens[9];
  for (int i = 0; i < 9; ++i)
    read_lens[i] = std::char_traits<char>::length(read_argv[i]);
  std::vector<const char*> ack_argv;
  std::vector<size_t> ack_lens;
  uint64_t acked = 0;
  auto t0 = std::chrono::steady_clock::now();
  redisAppendCommandArgv(ctx, 9, read_argv, read_lens);
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
    ack_argv = {"XACK", stream.c_str(), group.c_str()};
    ack_lens = {4, stream.size(), group.size()};
    if (r->type == REDIS_REPLY_ARRAY && r->elements > 0) {
      auto* entries = r->element[0]->element[1];
      for (size_t i = 0; i < entries->elements; ++i) {
        auto* id = entries->element[i]->element[0];
        ack_argv.push_back(id->str); // the "callback": nothing
        ack_lens.push_back(id->len);
      }
    }
    if (ack_argv.size() > 3) {
      redisAppendCommandArgv(ctx, static_cast<int>(ack_argv.size()), ack_argv.data(),
                             ack_lens.data());
      ack_pending = true;
    }
    redisAppendCommandArgv(ctx, 9, read_argv, read_lens); // pipelined with the XACK
    freeReplyObject(r);
  }
  auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // Drain the read that is still in flight.
  void* raw = nullptr;
  if (redisGetReply(ctx, &raw) == REDIS_OK)
    freeReplyObject(raw);
  return n / seconds;
}

summary summarize(std::vector<double> xs) {
  std::sort(xs.begin(), xs.end());
  summary s;
  s.min = xs.front();
  s.max = xs.back();
  auto m = xs.size() / 2;
  s.median = xs.size() % 2 == 1 ? xs[m] : (xs[m - 1] + xs[m]) / 2;
  return s;
}

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty())
    return 0;
  auto i = static_cast<size_t>(p / 100.0 * (sorted.size() - 1) + 0.5);
  return sorted[std::min(i, sorted.size() - 1)];
}

namespace {

int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

blocking_client connect_or_throw(const std::string& host, uint16_t port) {
  auto c = blocking_client::connect(host, port);
  if (!c)
    throw std::runtime_error("raw latency: " + describe(c.error()));
  return std::move(*c);
}

} // namespace

std::vector<double> raw_latency(const std::string& host, uint16_t port, const std::string& stream,
                                uint64_t n, uint64_t rate, uint64_t payload_bytes) {
  auto producer = connect_or_throw(host, port);
  if (auto r = producer.command({"XGROUP", "CREATE", stream, "g", "$", "MKSTREAM"}); !r)
    throw std::runtime_error("raw latency: " + describe(r.error()));
  std::vector<double> latencies;
  latencies.reserve(n);
  auto reader = connect_or_throw(host, port);
  std::thread consumer{[&] {
    auto* ctx = reader.native();
    const char* read_argv[] = {"XREADGROUP", "GROUP", "g",       "raw",          "COUNT", "64",
                               "BLOCK",      "1000",  "STREAMS", stream.c_str(), ">"};
    size_t read_lens[11];
    for (int i = 0; i < 11; ++i)
      read_lens[i] = std::char_traits<char>::length(read_argv[i]);
    std::vector<const char*> ack_argv;
    std::vector<size_t> ack_lens;
    int idle_reads = 0;
    redisAppendCommandArgv(ctx, 11, read_argv, read_lens);
    bool ack_pending = false;
    while (latencies.size() < n && idle_reads < 5) {
      void* raw = nullptr;
      if (ack_pending) {
        if (redisGetReply(ctx, &raw) != REDIS_OK)
          return;
        freeReplyObject(raw);
        ack_pending = false;
      }
      if (redisGetReply(ctx, &raw) != REDIS_OK)
        return;
      auto arrived = now_us(); // the "callback start" of every entry in the reply
      auto* r = static_cast<redisReply*>(raw);
      ack_argv = {"XACK", stream.c_str(), "g"};
      ack_lens = {4, stream.size(), 1};
      if (r->type == REDIS_REPLY_ARRAY && r->elements > 0) {
        idle_reads = 0;
        auto* entries = r->element[0]->element[1];
        for (size_t i = 0; i < entries->elements; ++i) {
          auto* entry = entries->element[i];
          auto* fields = entry->element[1];
          for (size_t f = 0; f + 1 < fields->elements; f += 2)
            if (std::string_view{fields->element[f]->str, fields->element[f]->len} == "ts")
              latencies.push_back(
                static_cast<double>(arrived - std::stoll(fields->element[f + 1]->str)));
          ack_argv.push_back(entry->element[0]->str);
          ack_lens.push_back(entry->element[0]->len);
        }
      } else {
        ++idle_reads; // the producer is done or stuck: give up after 5 s of nothing
      }
      if (ack_argv.size() > 3) {
        redisAppendCommandArgv(ctx, static_cast<int>(ack_argv.size()), ack_argv.data(),
                               ack_lens.data());
        ack_pending = true;
      }
      if (latencies.size() < n)
        redisAppendCommandArgv(ctx, 11, read_argv, read_lens);
      freeReplyObject(r);
    }
  }};
  std::this_thread::sleep_for(std::chrono::milliseconds{300}); // the reader blocks
  std::string payload(payload_bytes, 'p');
  auto start = std::chrono::steady_clock::now();
  auto gap = std::chrono::nanoseconds{1'000'000'000 / std::max<uint64_t>(1, rate)};
  for (uint64_t seq = 0; seq < n; ++seq) {
    std::this_thread::sleep_until(start + seq * gap);
    producer.command({"XADD", stream, "*", "seq", std::to_string(seq), "payload", payload, "ts",
                      std::to_string(now_us())});
  }
  consumer.join();
  producer.command({"DEL", stream});
  return latencies;
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
