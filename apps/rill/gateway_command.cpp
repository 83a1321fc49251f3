#include "commands.hpp"
#include <rill/runtime/runtime.hpp>

#include <spdlog/spdlog.h>

#include <sys/resource.h>

namespace rill::cli {

namespace {

/// Each client holds a socket: take the hard limit of open files (as root,
/// raise it too) so gateway.max-clients is not cut short by the default 1,024.
uint64_t raise_open_files(uint64_t wanted) {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0)
    return 0;
  if (lim.rlim_max != RLIM_INFINITY && lim.rlim_max < wanted) {
    rlimit more{wanted, wanted};
    if (setrlimit(RLIMIT_NOFILE, &more) == 0)
      lim = more;
  }
  lim.rlim_cur = lim.rlim_max;
  setrlimit(RLIMIT_NOFILE, &lim);
  getrlimit(RLIMIT_NOFILE, &lim);
  return lim.rlim_cur;
}

} // namespace

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
