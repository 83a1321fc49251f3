#include <rill/runtime/node.hpp>

#include <rill/actors/ack_relay.hpp>
#include <rill/actors/error.hpp>
#include <rill/actors/messages.hpp>
#include <rill/actors/worker.hpp>
#include <rill/runtime/runtime.hpp>
#include <rill/runtime/tls_files.hpp>

#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/publish.hpp>
#include <caf/openssl/remote_actor.hpp>
#include <caf/scoped_actor.hpp>

#include <algorithm>
#include <chrono>

namespace rill {

namespace {

/// Answers lookups for the readers of this node. A reader that finished is
/// dropped (a pool joining it would lose it at once, again and again); the
/// directory goes away with the last of them, so it never keeps a finished
/// process alive.
caf::behavior directory(caf::event_based_actor* self,
                        std::vector<std::pair<std::string, caf::actor>> readers) {
  auto live = std::make_shared<std::vector<std::pair<std::string, caf::actor>>>(std::move(readers));
  for (const auto& entry : *live)
    self->monitor(entry.second);
  self->set_down_handler([self, live](const caf::down_msg& msg) {
    live->erase(std::remove_if(live->begin(), live->end(),
                               [&](const auto& e) { return e.second.address() == msg.source; }),
                live->end());
    if (live->empty())
      self->quit();
  });
  if (live->empty())
    self->quit();
  return {
    [live](lookup_atom, const std::string& stream,
           const std::string& group) -> caf::result<caf::actor> {
      for (const auto& [key, reader] : *live)
        if (key == stream + "\n" + group)
          return reader;
      return make_error(sec::invalid_argument,
                        "this node has no running reader for " + stream + "/" + group);
    },
  };
}

} // namespace

caf::expected<link_security> node_security(const config& cfg) {
  bool any
    = !cfg.openssl_certificate.empty() || !cfg.openssl_key.empty() || !cfg.openssl_cafile.empty();
  bool all
    = !cfg.openssl_certificate.empty() && !cfg.openssl_key.empty() && !cfg.openssl_cafile.empty();
  if (any && !all)
    return make_error(sec::invalid_config, "TLS between nodes needs all of "
                                           "openssl.certificate, openssl.key and openssl.cafile");
  if (all && cfg.plain)
    return make_error(sec::invalid_config, "--plain and openssl.* contradict each other");
  if (all) {
    if (auto err = check_tls_files(cfg.openssl_certificate, cfg.openssl_key, cfg.openssl_cafile,
                                   cfg.openssl_passphrase))
      return err;
    return link_security::tls;
  }
  if (cfg.plain)
    return link_security::plain;
  return make_error(sec::invalid_config,
                    "node links need TLS (--openssl.certificate=FILE --openssl.key=FILE "
                    "--openssl.cafile=FILE) or an explicit --plain");
}

caf::expected<uint16_t> serve_readers(runtime& rt, uint16_t port, const std::string& bind,
                                      link_security security) {
  std::vector<std::pair<std::string, caf::actor>> readers;
  for (const auto& c : rt.consumers())
    if (c->reader())
      readers.emplace_back(c->options().stream + "\n" + c->options().group, c->reader());
  auto dir = rt.system().spawn(directory, std::move(readers));
  auto in = bind.empty() ? nullptr : bind.c_str();
  if (security == link_security::tls)
    return caf::openssl::publish(dir, port, in, true);
  return rt.system().middleman().publish(dir, port, in, true);
}

caf::expected<caf::actor> join_reader(runtime& rt, const std::string& host, uint16_t port,
                                      const consumer_options& opts,
                                      std::shared_ptr<const callback_list> callbacks,
                                      link_security security) {
  auto dir = security == link_security::tls ? caf::openssl::remote_actor(rt.system(), host, port)
                                            : rt.system().middleman().remote_actor(host, port);
  if (!dir)
    return make_error(sec::connect_failed, "cannot reach reader node " + host + ":"
                                             + std::to_string(port) + ": "
                                             + rt.system().render(dir.error()));
  caf::scoped_actor self{rt.system()};
  caf::expected<caf::actor> reader{caf::actor{}};
  self->request(*dir, std::chrono::seconds{10}, lookup_atom::value, opts.stream, opts.group)
    .receive([&](caf::actor& r) { reader = std::move(r); },
             [&](caf::error& err) { reader = std::move(err); });
  if (!reader)
    return reader;
  // Acks leave this node in batches (one BASP message per burst).
  auto relay = spawn_ack_relay(rt.system(), *reader, opts.ack_linger, opts.stop_timeout);
  rt.add_remote_pool(relay);
  auto timings = rt.worker_pool_timings(opts.stream, opts.group);
  std::shared_ptr<const effect_rules> rules;
  try {
    rules = rt.effect_rules_for(opts);
  } catch (const std::invalid_argument& e) {
    return make_error(sec::invalid_config, e.what());
  }
  for (uint32_t i = 0; i < opts.max_in_flight; ++i)
    spawn_worker(rt.system(), caf::actor_cast<reader_actor>(*reader), callbacks,
                 rt.shared_connection(), opts.callback_timeout, false, relay, rt.producer(),
                 timings->add(), rules);
  return relay;
}

} // namespace rill
