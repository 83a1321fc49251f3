// The `rill` binary: one entry point, one subcommand per role.

#include "commands.hpp"
#include <rill/actors/error.hpp>
#include <rill/runtime/logging.hpp>
#include <rill/runtime/runtime.hpp>

#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstring>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

namespace {

constexpr const char* footer = R"(examples:
  rill produce --redis 127.0.0.1:6379 --stream s --count 100000 [--payload-bytes B] [--rate R]
  rill consume --redis 127.0.0.1:6379 --stream s --group g --count 100000 --max-in-flight 64
  rill node --listen 7600 --plain --stream s --group g     (readers; workers join with --join)
  rill bench consume --count 200000 --max-in-flight 64 --rounds 5
  rill dead-letters replay --redis 127.0.0.1:6379 --stream s --all
  rill status --redis 127.0.0.1:6379 [--stream s]... [--group g] [--json] [--watch 2]
  rill consume ... --http.listen 9464    (/metrics, /livez, /readyz, dashboard at /)
  rill gateway --redis 127.0.0.1:6379 --http.listen 8080   (SSE: /streams/{key}/events)

Every command also takes --config-file=FILE and the options `rill <command>
--help` lists (redis.*, consumer.*, producer.*, node.*, log.level). The Redis
password also comes from RILL_REDIS_PASSWORD (user: RILL_REDIS_USER); a flag
wins.

exit status: 0 done; 1 the run failed; 2 bad configuration, or the consumer
name is in use by another process; 3 acks of processed entries could not be
flushed at the stop (Redis down: they are delivered again); 130 second signal.
)";

/// The subcommands and, for bench and dead-letters, their cases. CLI11 takes
/// the command words and `rill [command] --help`; every flag after them goes
/// to the command's CAF option set untouched (`rill consume --help` lists it).
struct command_line {
  CLI::App app{"rill: Redis Streams processed by actors", "rill"};
  std::string command;
  std::string which; // bench case / dead-letters action
  std::vector<std::string> flags;
  /// `rill status` takes --stream more than once: all of them, in order.
  std::vector<std::string> streams;

  /// Moves every `--stream S` / `--stream=S` out of `flags` into `streams`.
  void take_streams() {
    std::vector<std::string> rest;
    for (size_t i = 0; i < flags.size(); ++i) {
      if (flags[i] == "--stream" && i + 1 < flags.size())
        streams.push_back(flags[++i]);
      else if (flags[i].rfind("--stream=", 0) == 0)
        streams.push_back(flags[i].substr(9));
      else
        rest.push_back(flags[i]);
    }
    flags = std::move(rest);
  }

  command_line() {
    app.footer(footer);
    app.set_version_flag("--version", std::string{"rill "} + RILL_VERSION);
    app.require_subcommand(1);
    auto add = [this](CLI::App* parent, const std::string& name, const std::string& what,
                      std::string& into) {
      auto* sub = parent->add_subcommand(name, what);
      sub->prefix_command(); // the flags are CAF's to parse
      sub->set_help_flag();  // `--help` too: it prints the command's options
      sub->callback([this, sub, name, &into] {
        into = name;
        flags = sub->remaining();
      });
      return sub;
    };
    add(&app, "demo", "start a private redis-server, produce and consume a stream live", command);
    add(&app, "node", "a reader node (--listen) or a worker node (--join), or roles from --config",
        command);
    add(&app, "gateway",
        "serve streams as server-sent events: GET /streams/{key}/events on --http.listen", command);
    add(&app, "produce", "XADD --count entries (seq, payload, ts) to --stream", command);
    add(&app, "consume", "drain --stream with --group, checksum the seqs, print one JSON line",
        command);
    auto* bench = app.add_subcommand("bench", "benchmarks against a redis-server (own or --redis)");
    bench->require_subcommand(1);
    bench->footer("Each case starts its own redis-server unless --redis HOST:PORT is given;\n"
                  "`rill bench <case> --help` lists its flags.");
    bench->callback([this] { command = "bench"; });
    add(bench, "consume", "drain --count entries with --max-in-flight K vs the raw floor", which);
    add(bench, "latency", "XADD -> callback start at --rate R for --seconds D", which);
    add(bench, "scale", "--streams S consumers of --max-in-flight K", which);
    add(bench, "responsiveness", "actor and Redis round trips with --streams S blocked readers",
        which);
    add(bench, "nodes", "1 vs 2 worker nodes, --work-us W per entry", which);
    add(bench, "scrape", "/metrics and /readyz answer time and size with --streams S", which);
    add(bench, "gateway", "--clients N SSE clients of a gateway process, --rate R per stream",
        which);
    add(bench, "cluster", "--streams S (30) drained from one server vs a 3-master cluster", which);
    add(bench, "tls", "drain --count entries over TLS vs plaintext, K=64 and 512", which);
    add(bench, "effects",
        "plain acks vs one HINCRBY + forward per entry, atomic (script) and pipelined, K=64, 512",
        which);
    add(bench, "keys",
        "consumer.order-by against --keys 1..10,000 (--work-us 0-5000) and a hot key", which);
    add(&app, "status", "streams, groups, lag, pending and consumers, from Redis alone", command);
    auto* dead = app.add_subcommand("dead-letters", "the dead letters of --stream");
    dead->require_subcommand(1);
    dead->footer("`rill dead-letters <action> --help` lists the flags.");
    dead->callback([this] { command = "dead-letters"; });
    add(dead, "list", "one JSON line per dead letter (--count N)", which);
    add(dead, "replay", "back onto the stream (--ids ID,... | --all)", which);
    add(dead, "purge", "delete them (--ids ID,... | --all)", which);
  }
};

} // namespace

int main(int argc, char** argv) {
  command_line cl;
  try {
    cl.app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return cl.app.exit(e); // `rill --help`, `rill bench --help`: 0
  } catch (const CLI::CallForVersion& e) {
    return cl.app.exit(e); // `rill --version`: 0
  } catch (const CLI::ParseError& e) {
    // One line, exit 2: no command, an unknown one, or bench/dead-letters
    // without their case.
    std::string first = argc > 1 ? argv[1] : "";
    if (first == "bench")
      return rill::cli::config_error(first, "which case? consume, latency, scale, "
                                            "responsiveness, nodes, scrape, gateway");
    if (first == "dead-letters")
      return rill::cli::config_error(first, "which action? list, replay or purge");
    if (argc < 2) {
      std::cout << cl.app.help();
      std::cerr << "rill: no command given\n";
      return rill::cli::exit_config_error;
    }
    return rill::cli::config_error(first, "unknown command (try: rill --help)");
  }
  if (cl.command == "status")
    cl.take_streams();
  const auto& command = cl.command;
  const auto& which = cl.which;
  std::function<int(rill::cli::cli_config&)> run;
  if (command == "produce")
    run = rill::cli::produce_command;
  else if (command == "consume")
    run = rill::cli::consume_command;
  else if (command == "demo")
    run = rill::cli::demo_command;
  else if (command == "node")
    run = rill::cli::node_command;
  else if (command == "gateway")
    run = rill::cli::gateway_command;
  else if (command == "status")
    run = [&cl](rill::cli::cli_config& cfg) {
      return rill::cli::status_command(cfg, cl.streams);
    };
  else if (command == "dead-letters")
    run = [&which](rill::cli::cli_config& cfg) {
      return rill::cli::dead_letters_command(cfg, which);
    };
  else
    run = [&which](rill::cli::cli_config& cfg) {
      return rill::cli::bench_command(cfg, which);
    };
  rill::cli::cli_config cfg;
  // `rill <command> --help`: that command's options (CAF's own help lists
  // the short flags of every command and none of the option groups).
  for (const auto& f : cl.flags)
    if (f == "--help" || f == "-h") {
      auto title = "rill " + command + (which.empty() ? "" : " " + which);
      std::cout << cfg.help_for(command, title);
      return 0;
    }
  if (auto err = cfg.load(cl.flags))
    return rill::cli::config_error(command, rill::describe(err));
  if (auto err = cfg.parse_work_us(); !err.empty())
    return rill::cli::config_error(command, err);
  if (cfg.help_printed())
    return 0;
  rill::setup_logging(cfg.log_level);
  try {
    return run(cfg);
  } catch (const std::invalid_argument& ex) {
    return rill::cli::config_error(command, ex.what());
  } catch (const rill::startup_error& ex) { // e.g. a certificate that does not verify
    std::fprintf(stderr, "rill %s: %s\n", command.c_str(), ex.what());
    return 1;
  }
}
