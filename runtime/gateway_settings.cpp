// The `gateway.*` options: registered and checked here, next to the gateway
// (runtime/gateway.hpp), rather than in config.cpp.

#include <rill/actors/error.hpp>
#include <rill/runtime/config.hpp>

#include <caf/config_option_adder.hpp>

namespace rill {

void add_gateway_options(caf::config_option_set& opts, gateway_settings& g) {
  caf::config_option_adder{opts, "gateway"}
    .add(g.event_field, "event-field", "entry field naming each event (else `message`)")
    .add(g.heartbeat, "heartbeat", "comment line to every client this often")
    .add(g.retry, "retry", "`retry:` hint: browsers wait this long to reconnect")
    .add(g.cors_origins, "cors-origins", "origins allowed cross-site: [\"https://a.example\"] or *")
    .add(g.streams, "streams", "stream keys clients may follow (glob: *, ?, [...])")
    .add(g.max_clients, "max-clients", "event-stream clients at once (503 beyond)")
    .add(g.client_buffer, "client-buffer", "bytes queued per client before it is dropped")
    .add(g.max_streams, "max-streams", "streams followed at once, a connection each (503 beyond)")
    .add(g.replay, "replay", "recent events kept per stream for resumes without Redis")
    .add(g.linger, "linger", "a stream without clients is let go after this");
}

caf::error validate(const gateway_settings& g) {
  auto bad = [](const std::string& what) {
    return make_error(sec::invalid_config, what);
  };
  if (g.heartbeat < std::chrono::milliseconds{100})
    return bad("gateway.heartbeat: at least 100ms");
  if (g.retry < std::chrono::milliseconds{1} || g.retry > std::chrono::hours{1})
    return bad("gateway.retry: 1ms to 1h");
  if (g.max_clients == 0 || g.max_clients > 1000000)
    return bad("gateway.max-clients: 1 to 1000000");
  if (g.client_buffer < 1024)
    return bad("gateway.client-buffer: at least 1024 bytes");
  if (g.max_streams == 0 || g.max_streams > 100000)
    return bad("gateway.max-streams: 1 to 100000");
  if (g.replay > 1000000)
    return bad("gateway.replay: at most 1000000");
  if (g.linger.count() < 0)
    return bad("gateway.linger: must be >= 0");
  if (g.streams.empty())
    return bad("gateway.streams: empty pattern (\"*\" allows every key)");
  for (const auto& o : g.cors_origins)
    if (o.empty() || o.find_first_of(" \t\r\n,") != std::string::npos)
      return bad("gateway.cors-origins: one origin per item, no blanks or commas: '" + o + "'");
  return caf::none;
}

} // namespace rill
