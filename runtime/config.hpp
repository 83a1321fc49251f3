#pragma once

#include <rill/actors/options.hpp>

#include <caf/actor_system_config.hpp>

#include <string>
#include <vector>

namespace rill {

/// The process configuration: CAF's config file (`--config-file=FILE`, INI
/// syntax) and command-line flags. rill's own options live in the categories
/// `redis.*`, `consumer.*`, `producer.*`, `node.*` and `log.*`, with short
/// flags for the common ones (`--redis HOST:PORT`, `--stream S`, ...). Tools
/// built on rill add their own flags by deriving from it (the `rill` binary's
/// are in apps/rill/cli_config.hpp). Flags take `--name=value` or
/// `--name value`.
class config : public caf::actor_system_config {
public:
  config();

  // -- rill options ---------------------------------------------------------------

  redis_options redis;
  consumer_options consumer;
  producer_options producer;
  /// spdlog level: trace, debug, info, warn, error, critical, off.
  std::string log_level = "info";

  // -- short flags ------------------------------------------------------------------

  /// `--redis HOST:PORT`, overrides redis.host and redis.port.
  std::string redis_address;
  /// `--count N`: entries to produce, or to consume before exiting (0: until
  /// SIGINT/SIGTERM).
  uint64_t count = 0;
  /// `rill node`: publish this node's readers on `--listen [HOST:]PORT`,
  /// and/or run workers for a reader node at `--join HOST:PORT`.
  std::string listen;
  std::string join;
  /// `node.readers` / `node.workers`: the roles of a `rill node` (see
  /// runtime/node_roles.hpp).
  std::vector<std::string> node_readers;
  std::vector<std::string> node_workers;
  /// Without TLS, nodes must say so.
  bool plain = false;
  /// A reader node whose workers all run on other nodes.
  bool remote_workers_only = false;
  /// `--scheduler-threads N` shortcut for CAF's scheduler.max-threads (0: the
  /// number of cores).
  uint64_t scheduler_threads = 0;

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

/// Splits "HOST:PORT" (IPv6 as "[::1]:6379").
caf::error parse_address(const std::string& address, std::string& host, uint16_t& port);

} // namespace rill
