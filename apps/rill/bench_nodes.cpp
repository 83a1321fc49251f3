// `rill bench nodes`: a reader node and one, then two, worker nodes as
// separate processes of this binary on loopback (CAF networking, plaintext),
// each worker node running K workers that wait `--work-us` asynchronously per
// entry. Reports the reader node's msgs/s for each and the ratio.

#include "bench.hpp"
#include "child_process.hpp"
#include "commands.hpp"
#include "json_line.hpp"
#include <rill/actors/error.hpp>
#include <rill/testing/local_redis.hpp> // free_loopback_port

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace rill::bench {

namespace {

using clock_type = std::chrono::steady_clock;

/// Whether something listens on 127.0.0.1:`port` (from /proc/net/tcp, so no
/// probe connection reaches the node).
bool listening(uint16_t port) {
  std::ifstream in{"/proc/net/tcp"};
  char local[32];
  std::snprintf(local, sizeof(local), "0100007F:%04X", port);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields{line};
    std::string slot, addr, remote, state;
    if (fields >> slot >> addr >> remote >> state && addr == local && state == "0A")
      return true;
  }
  return false;
}

/// The reader node's msgs/s from its JSON line (its output has other lines
/// too: progress, logs).
double reader_rate(const std::string& out) {
  std::istringstream lines{out};
  for (std::string line; std::getline(lines, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false); // no exceptions: not every line is JSON
    if (j.is_object() && j.value("role", "") == "reader" && j.contains("msgs_per_s")
        && j["msgs_per_s"].is_number())
      return j["msgs_per_s"].get<double>();
  }
  throw std::runtime_error("the reader node printed no result: " + out);
}

/// One run's figures: the reader node's msgs/s, and CPU per entry of the
/// reader node and of the worker nodes together (their user + sys from
/// wait4, divided by the entries).
struct nodes_run {
  double rate = 0;
  double reader_cpu_us = 0;
  double workers_cpu_us = 0;
};

/// One run: `nodes` worker nodes drain `n` prefilled entries.
nodes_run run_nodes(const cli_config& cfg, const std::string& dir, blocking_client& c,
                    uint32_t nodes, uint64_t n, uint32_t k, uint64_t work_us) {
  const std::string stream = "bench:nodes";
  prefill(c, stream, "g", n, cfg.payload_bytes);
  auto redis = cfg.redis.host + ":" + std::to_string(cfg.redis.port);
  auto reader_port = free_loopback_port();
  auto listen = "127.0.0.1:" + std::to_string(reader_port);
  const std::vector<std::string> common{"--redis", redis,     "--stream",    stream, "--group",
                                        "g",       "--plain", "--log.level", "warn"};
  auto args = [&](std::vector<std::string> more) {
    more.insert(more.begin(), common.begin(), common.end());
    more.insert(more.begin(), "node");
    return more;
  };
  child reader{args({"--listen", listen, "--remote-workers-only", "--count", std::to_string(n),
                     "--consumer", "bench"}),
               dir + "/reader.out", dir + "/reader.log"};
  // Worker nodes start once the reader node listens, so all of them join at
  // their first attempt: with retries, one node could start tens of ms after
  // the other and the two-node figure would include a stretch with one.
  for (auto until = clock_type::now() + std::chrono::seconds{10};
       !listening(reader_port) && clock_type::now() < until;)
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  std::vector<std::unique_ptr<child>> workers;
  for (uint32_t i = 0; i < nodes; ++i)
    workers.push_back(std::make_unique<child>(
      args({"--join", listen, "--max-in-flight", std::to_string(k), "--work-us",
            std::to_string(work_us)}),
      dir + "/worker" + std::to_string(i) + ".out", dir + "/worker" + std::to_string(i) + ".log"));
  auto limit = std::chrono::milliseconds{60'000 + n * 2};
  auto rc = reader.wait(limit);
  nodes_run out;
  for (auto& w : workers) {
    w->stop(std::chrono::milliseconds{15'000});
    out.workers_cpu_us += w->cpu_s() * 1e6 / static_cast<double>(n);
  }
  c.command({"DEL", stream});
  if (rc != 0)
    throw std::runtime_error("reader node exited with " + std::to_string(rc) + ": "
                             + slurp(dir + "/reader.log"));
  out.rate = reader_rate(slurp(dir + "/reader.out"));
  out.reader_cpu_us = reader.cpu_s() * 1e6 / static_cast<double>(n);
  return out;
}

} // namespace

int nodes_case(cli_config& cfg) {
  const uint64_t n = cfg.count > 0 ? cfg.count : 100'000;
  const uint32_t k = cfg.consumer.max_in_flight;
  const uint64_t work_us = cfg.work_us > 0 ? cfg.work_us : 1000;
  target t;
  if (auto err = t.open(cfg))
    return cli::config_error("bench nodes", describe(err));
  auto c = connect_or_throw(cfg.redis.host, cfg.redis.port);
  char tmpl[] = "/tmp/rill-bench-nodes-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr)
    return cli::config_error("bench nodes", "cannot create a temporary directory");
  const std::string dir = tmpl;
  struct remove_at_exit { // also when a run throws
    std::string path;
    ~remove_at_exit() {
      std::error_code ignored;
      std::filesystem::remove_all(path, ignored);
    }
  } scratch{dir};
  std::printf("bench nodes: %s entries, %u workers per worker node, %llu us async wait per "
              "entry, %llu rounds\n",
              cli::grouped(n).c_str(), k, static_cast<unsigned long long>(work_us),
              static_cast<unsigned long long>(cfg.rounds));
  std::printf("%-6s %14s %14s %8s %22s %22s\n", "round", "1 node msgs/s", "2 nodes msgs/s", "ratio",
              "cpu/e reader 1 | 2", "cpu/e workers 1 | 2");
  std::vector<double> one, two, ratios, reader1, reader2, workers1, workers2, busy2;
  for (uint64_t round = 1; round <= cfg.rounds; ++round) {
    auto a = run_nodes(cfg, dir, c, 1, n, k, work_us);
    auto b = run_nodes(cfg, dir, c, 2, n, k, work_us);
    one.push_back(a.rate);
    two.push_back(b.rate);
    ratios.push_back(b.rate / a.rate);
    reader1.push_back(a.reader_cpu_us);
    reader2.push_back(b.reader_cpu_us);
    workers1.push_back(a.workers_cpu_us);
    workers2.push_back(b.workers_cpu_us);
    // Against the ideal of 2 x K workers each busy W per entry.
    busy2.push_back(b.rate * static_cast<double>(work_us) / 1e6 / (2.0 * k));
    std::printf("%-6llu %14.0f %14.0f %8.2f %9.2fus |%7.2fus %9.2fus |%7.2fus\n",
                static_cast<unsigned long long>(round), a.rate, b.rate, ratios.back(),
                a.reader_cpu_us, b.reader_cpu_us, a.workers_cpu_us, b.workers_cpu_us);
    std::fflush(stdout);
  }
  auto a = summarize(one);
  auto b = summarize(two);
  auto q = summarize(ratios);
  std::printf("%-6s %14.0f %14.0f %8.2f   (min-max: 1 node %.0f-%.0f, 2 nodes %.0f-%.0f; "
              "ratio of medians %.2f)\n",
              "median", a.median, b.median, q.median, a.min, a.max, b.min, b.max,
              b.median / a.median);
  nlohmann::ordered_json line{
    {"bench", "nodes"},
    {"count", n},
    {"max_in_flight", k},
    {"work_us", work_us},
    {"rounds", cfg.rounds},
    {"one_node_msgs_per_s", cli::whole(a.median)},
    {"two_nodes_msgs_per_s", cli::whole(b.median)},
    {"ratio_median", cli::rounded(q.median, 3)},
    {"ratio_min", cli::rounded(q.min, 3)},
    {"ratio_max", cli::rounded(q.max, 3)},
    {"two_nodes_of_ideal", cli::rounded(summarize(busy2).median, 3)},
    {"reader_cpu_us_per_entry_1", cli::rounded(summarize(reader1).median, 2)},
    {"reader_cpu_us_per_entry_2", cli::rounded(summarize(reader2).median, 2)},
    {"workers_cpu_us_per_entry_1", cli::rounded(summarize(workers1).median, 2)},
    {"workers_cpu_us_per_entry_2", cli::rounded(summarize(workers2).median, 2)}};
  std::puts(cli::json_line(line).c_str());
  return 0;
}

} // namespace rill::bench
