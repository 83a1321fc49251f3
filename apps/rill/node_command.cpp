#include "apps/rill/commands.hpp"
#include "apps/rill/seq_callbacks.hpp"
#include "runtime/backoff.hpp"
#include "runtime/error.hpp"
#include "runtime/node.hpp"
#include "runtime/runtime.hpp"

#include <caf/event_based_actor.hpp>

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

namespace rill::cli {

namespace {

using namespace std::chrono_literals;

int run_reader_node(config& cfg, seq_tally& tally, link_security security) {
  std::string bind;
  uint16_t port = 0;
  auto spec = cfg.listen.find(':') == std::string::npos ? "0.0.0.0:" + cfg.listen : cfg.listen;
  if (auto err = parse_address(spec, bind, port))
    return config_error("node", "--listen: expected [HOST:]PORT, got '" + cfg.listen + "'");
  cfg.consumer.limit = cfg.count;
  cfg.consumer.local_workers = !cfg.remote_workers_only;
  if (auto err = validate(cfg.consumer))
    return config_error("node", describe(err));
  runtime rt{cfg};
  auto& c = rt.add_consumer(cfg.consumer);
  add_seq_callbacks(c.callbacks(), cfg, tally);
  rt.start();
  auto bound = serve_readers(rt, port, bind == "0.0.0.0" ? "" : bind, security);
  if (!bound) {
    std::fprintf(stderr, "rill node: cannot listen on %s: %s\n", cfg.listen.c_str(),
                 rt.system().render(bound.error()).c_str());
    return 1;
  }
  spdlog::info("reader node: {}/{} served on port {} ({}, {} local workers)", cfg.consumer.stream,
               cfg.consumer.group, *bound,
               security == link_security::tls ? "mutual TLS" : "plaintext",
               c.options().local_workers ? cfg.consumer.max_in_flight : 0);
  auto rc = rt.run();
  const auto& m = c.metrics();
  auto seconds = std::max(1e-9, (m.finished_ns - m.first_delivery_ns) / 1e9);
  std::printf("{\"impl\":\"rill\",\"role\":\"reader\",\"processed\":%llu,\"seconds\":%.3f,"
              "\"msgs_per_s\":%.0f,\"checksum\":%llu}\n",
              static_cast<unsigned long long>(m.processed.load()), seconds, m.processed / seconds,
              static_cast<unsigned long long>(tally.checksum.load()));
  std::fflush(stdout);
  return rc;
}

int run_worker_node(config& cfg, seq_tally& tally, link_security security) {
  std::string host;
  uint16_t port = 0;
  if (auto err = parse_address(cfg.join, host, port))
    return config_error("node", "--join: expected HOST:PORT, got '" + cfg.join + "'");
  if (cfg.consumer.stream.empty() || cfg.consumer.group.empty())
    return config_error("node", "--join needs --stream and --group (the consumer to serve)");
  auto callbacks = std::make_shared<callback_list>();
  add_seq_callbacks(*callbacks, cfg, tally);
  runtime rt{cfg};
  rt.start();
  rill::backoff retry{100ms, 5s};
  while (!rt.interrupted()) {
    auto reader = join_reader(rt, host, port, cfg.consumer, callbacks, security);
    if (!reader) {
      if (retry.attempts() == 0)
        spdlog::warn("worker node: {}; retrying", describe(reader.error()));
      auto until = std::chrono::steady_clock::now() + retry.next();
      rt.run([&] { return std::chrono::steady_clock::now() >= until; });
      continue;
    }
    spdlog::info("worker node: {} workers serve {}/{} at {}", cfg.consumer.max_in_flight,
                 cfg.consumer.stream, cfg.consumer.group, cfg.join);
    retry.reset();
    auto gone = std::make_shared<std::atomic<bool>>(false);
    rt.system().spawn([r = *reader, gone](caf::event_based_actor* self) -> caf::behavior {
      self->monitor(r);
      self->set_down_handler([self, gone](const caf::down_msg&) {
        *gone = true;
        self->quit();
      });
      return {[](int) {
      }};
    });
    rt.run([&] { return gone->load(); });
    if (!rt.interrupted())
      spdlog::warn("worker node: the reader at {} went away; joining again", cfg.join);
  }
  std::printf("{\"impl\":\"rill\",\"role\":\"workers\",\"processed\":%llu,\"checksum\":%llu%s}\n",
              static_cast<unsigned long long>(tally.processed.load()),
              static_cast<unsigned long long>(tally.checksum.load()), tally.latency_json().c_str());
  std::fflush(stdout);
  return 0;
}

} // namespace

int node_command(config& cfg) {
  if (cfg.listen.empty() == cfg.join.empty())
    return config_error("node", "give exactly one role: --listen [HOST:]PORT (readers) or "
                                "--join HOST:PORT (workers)");
  auto security = node_security(cfg);
  if (!security)
    return config_error("node", describe(security.error()));
  seq_tally tally;
  if (!cfg.record.empty())
    if (auto err = tally.open_record(cfg.record); !err.empty())
      return config_error("node", err);
  return cfg.listen.empty() ? run_worker_node(cfg, tally, *security)
                            : run_reader_node(cfg, tally, *security);
}

} // namespace rill::cli
