// The `rill` binary: one entry point, one subcommand per role.

#include "commands.hpp"
#include <rill/actors/error.hpp>
#include <rill/runtime/logging.hpp>

#include <cstring>
#include <functional>
#include <iostream>

namespace {

constexpr const char* usage = R"(usage: rill <command> [flags]

commands:
  demo      start a private redis-server, produce and consume a stream live
  node      --config FILE (roles in [node]: readers, workers, listen, join)
            --listen [HOST:]PORT --plain --stream S --group G [--remote-workers-only]
            --join HOST:PORT --plain --stream S --group G --max-in-flight K
            (readers on one node, worker pools on others; CAF networking)
  bench     consume --count N --max-in-flight K [--payload-bytes B] [--rounds R]
            latency --rate R --seconds D
            scale --streams S --max-in-flight K --count N
            responsiveness --streams S
            nodes --count N --max-in-flight K [--work-us W]  (1 vs 2 worker nodes)
            (each starts its own redis-server unless --redis HOST:PORT)
  dead-letters list|replay|purge --redis HOST:PORT --stream S
            list [--count N]: one JSON line per dead letter (reason, original id,
            deliveries, fields); replay --ids ID,... | --all: back onto S (XADD
            + XDEL in one script); purge --ids ID,... | --all: delete them
  produce   --redis HOST:PORT --stream S --count N [--payload-bytes B] [--rate R]
  consume   --redis HOST:PORT --stream S --group G --count N --max-in-flight K
            [--consumer NAME] [--record FILE]

Every command also takes --config-file=FILE and the options of `rill <command>
--help` (redis.*, consumer.*, producer.*, log.level). The Redis password also
comes from RILL_REDIS_PASSWORD (user: RILL_REDIS_USER); a flag wins.

exit status: 0 done; 1 the run failed; 2 bad configuration, or the consumer
name is in use by another process; 3 acks of processed entries could not be
flushed at the stop (Redis down: they are delivered again); 130 second signal.
)";

} // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0
      || std::strcmp(argv[1], "help") == 0) {
    std::cout << usage;
    return argc < 2 ? rill::cli::exit_config_error : 0;
  }
  std::string command = argv[1];
  int first_flag = 2;
  std::string bench_case;
  if (command == "bench" || command == "dead-letters") {
    if (argc < 3 || argv[2][0] == '-')
      return rill::cli::config_error(command, command == "bench"
                                                ? "which case? consume, latency, scale, "
                                                  "responsiveness, nodes"
                                                : "which action? list, replay or purge");
    bench_case = argv[2];
    first_flag = 3;
  }
  std::function<int(rill::cli::cli_config&)> run;
  if (command == "produce")
    run = rill::cli::produce_command;
  else if (command == "consume")
    run = rill::cli::consume_command;
  else if (command == "demo")
    run = rill::cli::demo_command;
  else if (command == "node")
    run = rill::cli::node_command;
  else if (command == "dead-letters")
    run = [&bench_case](rill::cli::cli_config& cfg) {
      return rill::cli::dead_letters_command(cfg, bench_case);
    };
  else if (command == "bench")
    run = [&bench_case](rill::cli::cli_config& cfg) {
      return rill::cli::bench_command(cfg, bench_case);
    };
  else
    return rill::cli::config_error(command, "unknown command (try: rill --help)");
  rill::cli::cli_config cfg;
  if (auto err = cfg.load({argv + first_flag, argv + argc}))
    return rill::cli::config_error(command, rill::describe(err));
  if (cfg.help_printed())
    return 0;
  rill::setup_logging(cfg.log_level);
  try {
    return run(cfg);
  } catch (const std::invalid_argument& ex) {
    return rill::cli::config_error(command, ex.what());
  }
}
