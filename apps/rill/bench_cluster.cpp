// `rill bench cluster`: --streams S streams (default 30) drained by one
// process, from one redis-server and from a 3-master Redis Cluster of private
// servers on this machine, in alternating rounds. Both run on the same cores,
// so the ratio measures what routing by slot costs, not what more servers
// would give.

#include "bench.hpp"
#include "commands.hpp"
#include <rill/actors/error.hpp>
#include <rill/actors/redis/key_slot.hpp>
#include <rill/runtime/runtime.hpp>

#include <algorithm>
#include <array>
#include <cstdio>
#include <thread>

namespace rill::bench {

namespace {

constexpr size_t masters = 3;

/// The slots of master i (the split `redis-cli --cluster create` makes).
std::pair<uint16_t, uint16_t> slots_of(size_t i) {
  std::array<uint16_t, masters + 1> bounds{0, 5461, 10923, cluster_slots};
  return {bounds[i], static_cast<uint16_t>(bounds[i + 1] - 1)};
}

size_t master_of(const std::string& key) {
  auto slot = key_slot(key);
  for (size_t i = 0; i < masters; ++i)
    if (slot <= slots_of(i).second)
      return i;
  return masters - 1;
}

/// Three cluster-enabled servers, each given a third of the slots and
/// introduced to the first; waits for cluster_state:ok everywhere.
std::vector<local_redis> start_cluster() {
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::vector<local_redis> nodes;
    for (size_t i = 0; i < masters; ++i) {
      local_redis::options o;
      o.extra_args = {"--cluster-enabled",      "yes", "--cluster-config-file", "nodes.conf",
                      "--cluster-node-timeout", "3000"};
      auto s = local_redis::start(o);
      if (!s)
        throw std::runtime_error(describe(s.error()));
      nodes.push_back(std::move(*s));
    }
    for (size_t i = 0; i < masters; ++i) {
      auto c = connect_or_throw("127.0.0.1", nodes[i].port());
      auto [first, last] = slots_of(i);
      c.command({"CLUSTER", "ADDSLOTSRANGE", std::to_string(first), std::to_string(last)});
      if (i > 0)
        c.command({"CLUSTER", "MEET", "127.0.0.1", std::to_string(nodes[0].port())});
    }
    auto ok = [&] {
      for (auto& n : nodes) {
        auto c = blocking_client::connect("127.0.0.1", n.port());
        if (!c)
          return false;
        auto info = c->command({"CLUSTER", "INFO"});
        if (!info || info->str.find("cluster_state:ok") == std::string::npos
            || info->str.find("cluster_known_nodes:3") == std::string::npos)
          return false;
      }
      return true;
    };
    for (int i = 0; i < 200 && !ok(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds{50});
    if (ok())
      return nodes;
    // A bus port (port + 10000) that was taken: try other ports.
  }
  throw std::runtime_error("the 3-node cluster did not reach cluster_state:ok");
}

struct round_result {
  double rate = 0;
  double cpu_us_per_entry = 0;
};

/// Prefills, then drains every stream with one runtime (a consumer each).
round_result drain(cli_config& cfg, const std::vector<std::string>& streams, uint64_t per,
                   const std::vector<uint16_t>& ports, bool cluster) {
  std::vector<blocking_client> conns;
  for (auto port : ports)
    conns.push_back(connect_or_throw("127.0.0.1", port));
  auto conn_for = [&](const std::string& s) -> blocking_client& {
    return conns[cluster ? master_of(s) : 0];
  };
  for (const auto& s : streams)
    prefill(conn_for(s), s, "g", per, cfg.payload_bytes);
  cfg.redis.host = "127.0.0.1";
  cfg.redis.port = ports[0];
  cfg.redis.cluster = cluster;
  cfg.redis_cluster = cluster ? "true" : "false";
  round_result out;
  auto before = usage::now();
  uint64_t processed = 0;
  {
    runtime rt{cfg};
    std::vector<consumer*> all;
    for (const auto& s : streams) {
      auto& c = rt.add_consumer(bench_consumer(s, cfg.consumer.max_in_flight, per));
      c.add([](const stream_entry&) {});
      all.push_back(&c);
    }
    rt.start();
    rt.run();
    auto done = aggregate_of(all);
    processed = done.processed;
    out.rate = done.rate;
  }
  auto u = usage::now() - before;
  out.cpu_us_per_entry = processed > 0 ? u.cpu_s() * 1e6 / processed : 0;
  for (const auto& s : streams)
    conn_for(s).command({"DEL", s});
  return out;
}

} // namespace

int cluster_case(cli_config& cfg) {
  if (!cfg.redis_address.empty())
    return cli::config_error("bench cluster", "starts its own servers: no --redis");
  const uint64_t n_streams = cfg.streams > 1 ? cfg.streams : 30;
  const uint64_t per = cfg.count > 0 ? cfg.count : 20'000;
  auto single = local_redis::start();
  if (!single)
    return cli::config_error("bench cluster", describe(single.error()));
  auto nodes = start_cluster();
  std::vector<uint16_t> cluster_ports;
  for (auto& n : nodes)
    cluster_ports.push_back(n.port());
  std::vector<std::string> streams;
  std::array<int, masters> spread{};
  for (uint64_t i = 0; i < n_streams; ++i) {
    streams.push_back("bench:cluster:" + std::to_string(i));
    ++spread[master_of(streams.back())];
  }
  std::printf("bench cluster: %llu streams x %s entries, max-in-flight %u; streams per master "
              "%d/%d/%d; %llu alternating rounds\n",
              static_cast<unsigned long long>(n_streams), cli::grouped(per).c_str(),
              cfg.consumer.max_in_flight, spread[0], spread[1], spread[2],
              static_cast<unsigned long long>(cfg.rounds));
  std::vector<double> rate_ratios;
  std::vector<double> cpu_ratios;
  for (uint64_t r = 0; r < cfg.rounds; ++r) {
    round_result one;
    round_result three;
    if (r % 2 == 0) {
      one = drain(cfg, streams, per, {single->port()}, false);
      three = drain(cfg, streams, per, cluster_ports, true);
    } else {
      three = drain(cfg, streams, per, cluster_ports, true);
      one = drain(cfg, streams, per, {single->port()}, false);
    }
    rate_ratios.push_back(three.rate / one.rate);
    cpu_ratios.push_back(three.cpu_us_per_entry / one.cpu_us_per_entry);
    std::printf("  round %llu: one server %.0f msgs/s (%.2f us CPU/entry), cluster %.0f msgs/s "
                "(%.2f us CPU/entry): %.2fx\n",
                static_cast<unsigned long long>(r + 1), one.rate, one.cpu_us_per_entry, three.rate,
                three.cpu_us_per_entry, rate_ratios.back());
    nlohmann::ordered_json line{{"bench", "cluster"},
                                {"round", r + 1},
                                {"streams", n_streams},
                                {"max_in_flight", cfg.consumer.max_in_flight},
                                {"single_msgs_per_s", cli::whole(one.rate)},
                                {"cluster_msgs_per_s", cli::whole(three.rate)},
                                {"single_cpu_us_per_entry", one.cpu_us_per_entry},
                                {"cluster_cpu_us_per_entry", three.cpu_us_per_entry}};
    print(line);
  }
  auto rates = summarize(rate_ratios);
  auto cpus = summarize(cpu_ratios);
  std::printf("  cluster / one server: throughput %.2fx median (%.2f-%.2f), CPU per entry %.2fx "
              "median (%.2f-%.2f)\n",
              rates.median, rates.min, rates.max, cpus.median, cpus.min, cpus.max);
  nlohmann::ordered_json line{{"bench", "cluster"},
                              {"streams", n_streams},
                              {"rounds", cfg.rounds},
                              {"throughput_ratio_median", rates.median},
                              {"throughput_ratio_min", rates.min},
                              {"throughput_ratio_max", rates.max},
                              {"cpu_ratio_median", cpus.median}};
  print(line);
  return 0;
}

} // namespace rill::bench
