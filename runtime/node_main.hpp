#pragma once

#include <rill/runtime/callback_registry.hpp>
#include <rill/runtime/config.hpp>

#include <functional>
#include <string>

namespace rill {

class runtime;

/// The entry point of a rill node, for the `rill` binary and for apps that
/// link rill and register their own callbacks:
///
///     int main(int argc, char** argv) {
///       rill::callback_registry cbs;
///       cbs.add("parse", [](const rill::stream_entry& e) { ... });
///       return rill::node_main(argc, argv, cbs);
///     }
///
/// Loads the config from the flags and `--config FILE`, runs the roles it
/// names (node_roles.hpp) until they finish or SIGINT / SIGTERM, and returns
/// the exit status: 0, 1 (a runtime failure, e.g. the listen port is taken),
/// or 2 (bad config, one line on stderr, starting with the app's name).
/// Roles that are all local (readers with their workers in this process)
/// need neither `--listen` nor `--plain`: only links between nodes do.
int node_main(int argc, char** argv, const callback_registry& callbacks);

/// `node_main` with a loaded config. `on_exit` runs after the roles stopped,
/// before the runtime shuts down (to report, e.g. from consumer metrics).
/// `program` starts every error line (node_main passes the app's name).
int run_node(config& cfg, const callback_registry& callbacks,
             const std::function<void(runtime&)>& on_exit = {},
             const std::string& program = "rill node");

} // namespace rill
