#pragma once

#include "cli_config.hpp"

#include <string>
#include <vector>

namespace rill::cli {

/// Exit status for a configuration error (one line on stderr).
constexpr int exit_config_error = 2;

/// `rill produce`: XADD --count entries (seq, payload, ts) to --stream.
int produce_command(cli_config& cfg);

/// `rill consume`: drain --stream / --group, checksum the seqs, print JSON.
int consume_command(cli_config& cfg);

/// `rill demo`: private redis-server, produce + consume with live progress.
int demo_command(cli_config& cfg);

/// `rill node`: a reader node (--listen) or a worker node (--join).
int node_command(cli_config& cfg);

/// `rill gateway`: the streams' entries as server-sent events on
/// --http.listen (GET /streams/{key}/events) until SIGINT/SIGTERM.
int gateway_command(cli_config& cfg);

/// `rill bench <case>`: consume, latency, scale, responsiveness, nodes.
int bench_command(cli_config& cfg, const std::string& which);

/// `rill dead-letters list|replay|purge`: inspect, put back or delete the
/// dead letters of --stream.
int dead_letters_command(cli_config& cfg, const std::string& action);

/// `rill status`: streams, groups and consumers as Redis holds them
/// (`streams` from every --stream; none: SCAN TYPE stream).
int status_command(cli_config& cfg, const std::vector<std::string>& streams);

/// Prints a progress line on stderr when it is a terminal (rewritten in
/// place); prints nothing otherwise.
void progress(const std::string& line);

/// Ends the progress line (newline) if one was printed.
void progress_done();

/// Formats 1234567 as "1,234,567".
std::string grouped(uint64_t value);

/// Prints "rill <command>: <what>" on stderr, returns `exit_config_error`.
int config_error(const std::string& command, const std::string& what);

} // namespace rill::cli
