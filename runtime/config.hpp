#pragma once

#include <rill/runtime/settings.hpp>

#include <caf/actor_system_config.hpp>

#include <optional>
#include <string>
#include <vector>

namespace rill {

/// The process configuration: CAF's config file (`--config-file=FILE`, INI
/// syntax) and command-line flags. rill's own options live in the categories
/// `redis.*`, `consumer.*`, `producer.*`, `node.*` and `log.*`, with short
/// flags for the common ones (`--redis HOST:PORT`, `--stream S`, ...). Tools
/// built on rill add their own flags by deriving from it (the `rill` binary's
/// are in apps/rill/cli_config.hpp). Flags take `--name=value` or
/// `--name value`. What it parses lands in its `settings` part, a plain
/// struct the runtime copies (CAF's part is for the actor system).
class config : public caf::actor_system_config, public settings {
public:
  config();

  // -- loading ------------------------------------------------------------------------

  /// Parses `args` (flags only, no program name) and the config file, rejects
  /// unknown keys, and validates every value. The error is one line that names
  /// the offending option.
  caf::error load(std::vector<std::string> args);

  /// CAF's `--dump-config`, with redis.password redacted.
  caf::settings dump_content() const override;

  /// True if `--help` was given (the help text was printed).
  bool help_printed() const noexcept { return cli_helptext_printed; }
};

/// Checks `http.*` and `metrics.*`; one line naming the option.
caf::error validate(const http_settings& h);
caf::error validate(const metrics_settings& m);
/// Checks `gateway.*`.
caf::error validate(const gateway_settings& g);

/// Registers the `gateway.*` options (runtime/gateway_settings.cpp).
void add_gateway_options(caf::config_option_set& opts, gateway_settings& g);

/// `http.listen`: "HOST:PORT", or a bare port on 127.0.0.1.
caf::error parse_listen(const std::string& listen, std::string& host, uint16_t& port);

/// Splits "HOST:PORT" (IPv6 as "[::1]:6379").
caf::error parse_address(const std::string& address, std::string& host, uint16_t& port);

/// "HOST:PORT,HOST:PORT,...".
caf::error parse_address_list(const std::string& addresses, std::vector<redis_endpoint>& out);

/// Parses `--redis`: one HOST:PORT, a comma-separated list of cluster seeds
/// (the first becomes redis.host/port, the rest redis.seeds), or a URL
/// (host, port, db and TLS from it; its user and password are the caller's
/// to apply, see `parse_redis_url`).
caf::error parse_seeds(const std::string& addresses, redis_options& redis);

/// What `redis://[user[:password]@]host[:port][/db]` (or `rediss://`, TLS)
/// says; user and password percent-decoded, port 6379 and db 0 by default.
struct redis_url {
  std::string host;
  uint16_t port = 6379;
  std::string user;
  std::optional<std::string> password;
  int db = 0;
  bool tls = false;
};
caf::expected<redis_url> parse_redis_url(const std::string& url);

/// `url` with its password replaced by "<redacted>", for messages.
std::string redacted_url(const std::string& url);

} // namespace rill
