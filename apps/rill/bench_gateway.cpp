// `rill bench gateway`: a `rill gateway` process and --clients SSE clients
// on --streams streams, fed --rate entries/s per stream for --seconds. The
// clients and the producer run in this process, pinned to the last core; the
// gateway runs on the others. Reports XADD -> event latency at the clients,
// the gateway's CPU and RSS (per event, per client), the Redis connections it
// holds, the clients' own CPU, and how long one client takes to catch up on
// --count missed entries.

#include "bench.hpp"
#include "child_process.hpp"
#include "commands.hpp"
#include "open_files.hpp"
#include "sse_clients.hpp"
#include <rill/actors/error.hpp>

#include <fstream>
#include <regex>
#include <sched.h>
#include <thread>
#include <unistd.h>

namespace rill::bench {

namespace {

/// CPU seconds (user + system) of process `pid` so far.
double process_cpu_s(pid_t pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/stat"};
  std::string text{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
  auto close = text.rfind(')'); // the name may hold blanks
  std::istringstream fields{text.substr(close + 2)};
  std::string f;
  double ticks = 0;
  for (int i = 3; fields >> f && i <= 15; ++i)
    if (i == 14 || i == 15)
      ticks += std::stod(f);
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

/// Resident memory of process `pid`, KiB.
long process_rss_kb(pid_t pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/status"};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0)
      return std::stol(line.substr(6));
  return 0;
}

/// Connections Redis holds whose name starts with `prefix`.
int named_connections(blocking_client& c, const std::string& prefix) {
  auto list = c.command({"CLIENT", "LIST"});
  if (!list)
    return -1;
  std::istringstream lines{list->str};
  std::string line;
  int n = 0;
  while (std::getline(lines, line))
    if (line.find(" name=" + prefix) != std::string::npos)
      ++n;
  return n;
}

void pin_to(int cpu) {
  cpu_set_t mask;
  CPU_ZERO(&mask);
  CPU_SET(cpu, &mask);
  sched_setaffinity(0, sizeof mask, &mask);
}

template <class Pred>
bool wait_for(Pred done, std::chrono::milliseconds limit) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= until)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  return true;
}

std::string stream_name(uint64_t i) {
  return "bench:gw:" + std::to_string(i);
}

} // namespace

int gateway_case(cli_config& cfg) {
  const uint64_t clients = std::max<uint64_t>(1, cfg.clients);
  const uint64_t streams = std::max<uint64_t>(1, cfg.streams);
  const uint64_t rate = cfg.rate == 0 ? 100 : cfg.rate; // per stream
  const uint64_t seconds = cfg.seconds;
  const uint64_t missed = cfg.count == 0 ? 10000 : cfg.count;
  auto files = cli::raise_open_files(clients + 1024);
  if (files < clients + 64)
    return cli::config_error("bench gateway", "open-file limit " + std::to_string(files)
                                                + " is too low for --clients "
                                                + std::to_string(clients));
  target t;
  if (auto err = t.open(cfg))
    return cli::config_error("bench gateway", describe(err));
  auto admin = connect_or_throw(cfg.redis.host, cfg.redis.port);
  for (uint64_t s = 0; s < streams; ++s)
    admin.command({"DEL", stream_name(s)});
  int cores = static_cast<int>(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)));
  std::vector<int> gateway_cpus;
  for (int c = 0; c + 1 < cores; ++c)
    gateway_cpus.push_back(c);
  auto dir = "/tmp/rill-bench-gateway-" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  auto redis_at = cfg.redis.host + ":" + std::to_string(cfg.redis.port);
  child gw{{"gateway", "--redis", redis_at, "--http.listen", "127.0.0.1:0", "--gateway.max-clients",
            std::to_string(clients + 16), "--gateway.max-streams", std::to_string(streams + 1),
            "--redis.client-name", "rill-gw"},
           dir + "/gateway.out",
           dir + "/gateway.log",
           gateway_cpus};
  if (cores > 1)
    pin_to(cores - 1); // this process: the clients and the producer
  uint16_t port = 0;
  wait_for(
    [&] {
      std::smatch m;
      auto log = slurp(dir + "/gateway.log");
      static const std::regex serving{"dashboard on port ([0-9]+)"};
      if (std::regex_search(log, m, serving))
        port = static_cast<uint16_t>(std::stoul(m[1]));
      return port != 0;
    },
    std::chrono::seconds{10});
  if (port == 0)
    throw std::runtime_error("the gateway did not start: " + slurp(dir + "/gateway.log"));
  auto rss_base = process_rss_kb(gw.pid());

  cli::sse_client_plan plan;
  plan.port = port;
  for (uint64_t i = 0; i < clients; ++i)
    plan.targets.push_back("/streams/" + stream_name(i % streams) + "/events");
  cli::sse_client_stats stats;
  stats.latencies_us.reserve(clients * rate * seconds / streams + 1024);
  std::thread loop{[&] {
    cli::run_sse_clients(plan, stats);
  }};
  auto t0 = steady_ns();
  bool all_in = wait_for(
    [&] {
      cli::progress("connected " + cli::grouped(stats.connected) + " / " + cli::grouped(clients));
      return stats.connected + stats.failed >= clients;
    },
    std::chrono::seconds{120});
  cli::progress_done();
  auto connect_s = seconds_between(t0, steady_ns());
  std::this_thread::sleep_for(std::chrono::milliseconds{500}); // the tailers' snapshots
  auto rss_connected = process_rss_kb(gw.pid());
  auto cpu0 = process_cpu_s(gw.pid());
  auto self0 = usage::now();

  // The producer: every stream gets `rate` entries per second, stamped.
  auto producer = connect_or_throw(cfg.redis.host, cfg.redis.port);
  const uint64_t per_stream = rate * seconds;
  const std::string payload(cfg.payload_bytes, 'p');
  auto start = std::chrono::steady_clock::now();
  auto gap = std::chrono::nanoseconds{1'000'000'000 / rate};
  for (uint64_t seq = 0; seq < per_stream; ++seq) {
    std::this_thread::sleep_until(start + seq * gap);
    auto ts = std::to_string(epoch_us());
    for (uint64_t s = 0; s < streams; ++s)
      producer.append(
        {"XADD", stream_name(s), "*", "seq", std::to_string(seq), "payload", payload, "ts", ts});
    for (uint64_t s = 0; s < streams; ++s)
      if (!producer.read_reply())
        throw std::runtime_error("XADD failed");
    if (seq % rate == 0)
      cli::progress("produced " + cli::grouped(seq * streams) + ", events at the clients "
                    + cli::grouped(stats.events));
  }
  const uint64_t expected = per_stream * clients;
  wait_for([&] { return stats.events >= expected; }, std::chrono::seconds{10});
  cli::progress_done();
  auto cpu1 = process_cpu_s(gw.pid());
  auto rss_run = process_rss_kb(gw.pid());
  auto tailer_connections = named_connections(admin, "rill-gw-tail");
  auto gateway_connections = named_connections(admin, "rill-gw");
  auto self_used = usage::now() - self0;
  stats.stop = true;
  loop.join();

  // One client that missed `missed` entries of stream 0 catches up.
  auto last = admin.command({"XREVRANGE", stream_name(0), "+", "-", "COUNT", "1"});
  std::string last_id = last && !last->elements.empty() && !last->elements[0].elements.empty()
                          ? last->elements[0].elements[0].str
                          : "0-0";
  for (uint64_t i = 0; i < missed; ++i)
    producer.append({"XADD", stream_name(0), "*", "seq", std::to_string(i), "payload", payload});
  for (uint64_t i = 0; i < missed; ++i)
    producer.read_reply();
  cli::sse_client_plan resume;
  resume.port = port;
  resume.targets = {"/streams/" + stream_name(0) + "/events"};
  resume.headers = {"Last-Event-ID: " + last_id};
  cli::sse_client_stats caught;
  auto r0 = steady_ns();
  std::thread again{[&] {
    cli::run_sse_clients(resume, caught);
  }};
  bool caught_up = wait_for([&] { return caught.events >= missed; }, std::chrono::seconds{60});
  auto catch_up_ms = (steady_ns() - r0) / 1e6;
  caught.stop = true;
  again.join();
  gw.stop(std::chrono::seconds{10});

  auto& lat = stats.latencies_us;
  std::vector<double> ms(lat.begin(), lat.end());
  for (auto& x : ms)
    x /= 1000.0;
  std::sort(ms.begin(), ms.end());
  auto delivered = stats.events.load();
  auto gw_cpu = cpu1 - cpu0;
  std::printf("bench gateway: %llu clients on %llu streams, %llu entries/s per stream for %llu s\n",
              static_cast<unsigned long long>(clients), static_cast<unsigned long long>(streams),
              static_cast<unsigned long long>(rate), static_cast<unsigned long long>(seconds));
  std::printf("  connected %llu (%s) in %.1f s; events %llu of %llu\n",
              static_cast<unsigned long long>(stats.connected.load()), all_in ? "all" : "NOT all",
              connect_s, static_cast<unsigned long long>(delivered),
              static_cast<unsigned long long>(expected));
  std::printf("  XADD -> event p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", cli::percentile(ms, 50),
              cli::percentile(ms, 99), ms.empty() ? 0.0 : ms.back());
  std::printf("  gateway CPU %.2f s (%.2f us per event), RSS %ld KiB (+%.1f KiB per client)\n",
              gw_cpu, gw_cpu * 1e6 / std::max<uint64_t>(1, delivered), rss_run,
              (rss_connected - rss_base) / double(clients));
  std::printf("  Redis connections: %d tailer(s), %d in all; catch-up of %llu missed: %.0f ms%s\n",
              tailer_connections, gateway_connections, static_cast<unsigned long long>(missed),
              catch_up_ms, caught_up ? "" : " (NOT complete)");
  nlohmann::ordered_json line{
    {"bench", "gateway"},
    {"clients", clients},
    {"streams", streams},
    {"rate_per_stream", rate},
    {"seconds", seconds},
    {"connected", stats.connected.load()},
    {"connect_s", cli::rounded(connect_s, 2)},
    {"events_expected", expected},
    {"events_delivered", delivered},
    {"latency_ms_p50", cli::rounded(cli::percentile(ms, 50), 3)},
    {"latency_ms_p99", cli::rounded(cli::percentile(ms, 99), 3)},
    {"latency_ms_max", cli::rounded(ms.empty() ? 0.0 : ms.back(), 3)},
    {"gateway_cpu_s", cli::rounded(gw_cpu, 3)},
    {"gateway_cpu_us_per_event", cli::rounded(gw_cpu * 1e6 / std::max<uint64_t>(1, delivered), 3)},
    {"gateway_rss_kb", rss_run},
    {"gateway_rss_kb_per_client", cli::rounded((rss_connected - rss_base) / double(clients), 2)},
    {"tailer_connections", tailer_connections},
    {"gateway_connections", gateway_connections},
    {"clients_cpu_s", cli::rounded(stats.cpu_s, 3)},
    {"bench_process_cpu_s", cli::rounded(self_used.cpu_s(), 3)},
    {"catch_up_entries", missed},
    {"catch_up_ms", cli::rounded(catch_up_ms, 1)},
    {"caught_up", caught_up}};
  print(line);
  std::filesystem::remove_all(dir);
  return delivered >= expected && caught_up ? 0 : 1;
}

} // namespace rill::bench
