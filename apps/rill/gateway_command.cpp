#include "commands.hpp"
#include "open_files.hpp"
#include <rill/runtime/runtime.hpp>

#include <spdlog/spdlog.h>

namespace rill::cli {

int gateway_command(cli_config& cfg) {
  if (cfg.http.listen.empty())
    return config_error("gateway", "--http.listen HOST:PORT is required (where clients connect)");
  cfg.gateway.enabled = true;
  auto wanted = cfg.gateway.max_clients + cfg.http.max_connections + cfg.gateway.max_streams + 256;
  auto files = raise_open_files(wanted);
  if (files < wanted)
    spdlog::warn("gateway: open-file limit {} < {} needed for gateway.max-clients={}", files,
                 wanted, cfg.gateway.max_clients);
  runtime rt{cfg};
  rt.start();
  spdlog::info("gateway: GET http://{}/streams/{{key}}/events (streams '{}', at most {} clients, "
               "{} streams){}",
               cfg.http.listen.find(':') == std::string::npos ? "127.0.0.1:" + cfg.http.listen
                                                              : cfg.http.listen,
               cfg.gateway.streams, cfg.gateway.max_clients, cfg.gateway.max_streams,
               cfg.http.token.empty() ? "" : ", token required");
  return rt.run();
}

} // namespace rill::cli
