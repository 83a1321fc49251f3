#include <rill/runtime/node_main.hpp>

#include <rill/actors/backoff.hpp>
#include <rill/actors/error.hpp>
#include <rill/runtime/logging.hpp>
#include <rill/runtime/node.hpp>
#include <rill/runtime/node_roles.hpp>
#include <rill/runtime/runtime.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <stdexcept>

namespace rill {

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

int config_error(const std::string& program, const std::string& what) {
  std::fprintf(stderr, "%s: %s\n", program.c_str(), what.c_str());
  return 2;
}

/// A worker pool joined to a reader on another node; joins again with
/// backoff when that reader goes away.
struct remote_pool {
  pool_role role;
  std::string host;
  uint16_t port = 0;
  std::shared_ptr<const callback_list> callbacks;
  backoff retry{100ms, 5s};
  clock_type::time_point next_try = clock_type::now();
  /// The pool's ack relay while joined (see join_reader).
  caf::actor relay;
};

/// The consumer options of a worker pool joined to another node's reader.
consumer_options pool_options(const config& cfg, const pool_role& role) {
  auto opts = cfg.consumer;
  opts.stream = role.stream;
  opts.group = role.group;
  opts.max_in_flight = role.workers;
  return opts;
}

void try_join(runtime& rt, remote_pool& p, const config& cfg, link_security security) {
  auto pool = join_reader(rt, p.host, p.port, pool_options(cfg, p.role), p.callbacks, security);
  if (!pool) {
    if (p.retry.attempts() == 0)
      spdlog::warn("worker pool {}/{}: {}; retrying", p.role.stream, p.role.group,
                   describe(pool.error()));
    p.next_try = clock_type::now() + p.retry.next();
    return;
  }
  spdlog::info("worker pool: {} workers serve {}/{} at {}", p.role.workers, p.role.stream,
               p.role.group, p.role.join);
  p.retry.reset();
  p.relay = std::move(*pool);
}

} // namespace

int run_node(config& cfg, const callback_registry& callbacks,
             const std::function<void(runtime&)>& on_exit, const std::string& program) {
  auto roles = parse_node_roles(cfg);
  if (!roles)
    return config_error(program, describe(roles.error()));
  // Only links between nodes need TLS or an explicit --plain; a node whose
  // roles are all local has none.
  bool links = !roles->listen.empty()
               || std::any_of(roles->pools.begin(), roles->pools.end(),
                              [](const pool_role& p) { return !p.join.empty(); });
  auto security = links ? node_security(cfg) : caf::expected<link_security>{link_security::plain};
  if (!security)
    return config_error(program, describe(security.error()));
  std::string bind;
  uint16_t listen_port = 0;
  if (!roles->listen.empty()) {
    auto spec
      = roles->listen.find(':') == std::string::npos ? "0.0.0.0:" + roles->listen : roles->listen;
    if (parse_address(spec, bind, listen_port))
      return config_error(program, "listen: expected [HOST:]PORT, got '" + roles->listen + "'");
  }
  std::vector<remote_pool> remote;
  std::map<const pool_role*, std::shared_ptr<callback_list>> local_lists;
  for (const auto& p : roles->pools) {
    auto list = callbacks.make_list(p.callbacks);
    if (!list)
      return config_error(program, p.stream + "/" + p.group + ": " + describe(list.error()));
    if (p.join.empty()) {
      local_lists.emplace(&p, std::move(*list));
      continue;
    }
    // Checked here: a pure worker node adds no consumer that would check them.
    if (auto err = validate(pool_options(cfg, p)))
      return config_error(program, p.stream + "/" + p.group + ": " + describe(err));
    remote_pool rp;
    rp.role = p;
    if (parse_address(p.join, rp.host, rp.port))
      return config_error(program, "join: expected HOST:PORT, got '" + p.join + "'");
    rp.callbacks = std::move(*list);
    remote.push_back(std::move(rp));
  }
  try {
    runtime rt{cfg};
    for (const auto& r : roles->readers) {
      auto opts = cfg.consumer;
      opts.stream = r.stream;
      opts.group = r.group;
      if (!r.consumer.empty())
        opts.consumer = r.consumer;
      opts.limit = cfg.count;
      auto local = roles->local_pool(r);
      opts.local_workers = local != nullptr;
      if (local)
        opts.max_in_flight = local->workers;
      auto& c = rt.add_consumer(opts);
      if (local)
        c.callbacks() = *local_lists.at(local);
    }
    rt.start();
    if (!roles->listen.empty()) {
      auto bound = serve_readers(rt, listen_port, bind == "0.0.0.0" ? "" : bind, *security);
      if (!bound) {
        std::fprintf(stderr, "%s: cannot listen on %s: %s\n", program.c_str(),
                     roles->listen.c_str(), rt.system().render(bound.error()).c_str());
        return 1;
      }
      for (const auto& r : roles->readers) {
        auto local = roles->local_pool(r);
        spdlog::info("reader node: {}/{} served on port {} ({}, {} local workers)", r.stream,
                     r.group, *bound, *security == link_security::tls ? "mutual TLS" : "plaintext",
                     local ? local->workers : 0);
      }
    }
    auto readers_done = [&] {
      return !roles->readers.empty() && rt.consumers_finished();
    };
    int rc = 0;
    while (!rt.interrupted() && !readers_done()) {
      for (auto& p : remote)
        if (!p.relay && clock_type::now() >= p.next_try)
          try_join(rt, p, cfg, *security);
      rc = rt.run([&] {
        if (readers_done())
          return true;
        for (auto& p : remote)
          if (p.relay ? rt.remote_pool_gone(p.relay) : clock_type::now() >= p.next_try)
            return true;
        return false;
      });
      for (auto& p : remote)
        if (p.relay && rt.remote_pool_gone(p.relay) && !rt.interrupted()) {
          spdlog::warn("worker pool {}/{}: the reader at {} went away; joining again",
                       p.role.stream, p.role.group, p.role.join);
          p.relay = nullptr;
          // Not at once: a node that just lost its reader is often shutting
          // down, and a join caught half-way blocks this thread (and the
          // signals) until the lookup times out.
          p.next_try = clock_type::now() + p.retry.next();
        }
      if (rc != 0)
        break;
    }
    if (on_exit)
      on_exit(rt);
    return rc;
  } catch (const std::invalid_argument& ex) {
    return config_error(program, ex.what());
  } catch (const startup_error& ex) {
    std::fprintf(stderr, "%s: %s\n", program.c_str(), ex.what());
    return 1;
  }
}

int node_main(int argc, char** argv, const callback_registry& callbacks) {
  // Messages name the app, not "rill node".
  std::string program = argc > 0 ? argv[0] : "rill app";
  if (auto slash = program.rfind('/'); slash != std::string::npos)
    program.erase(0, slash + 1);
  config cfg;
  if (auto err = cfg.load({argv + 1, argv + argc}))
    return config_error(program, describe(err));
  if (cfg.help_printed())
    return 0;
  setup_logging(cfg.log_level);
  return run_node(cfg, callbacks, {}, program);
}

} // namespace rill
