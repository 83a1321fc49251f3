// `rill status`: how streams and their groups stand, from Redis alone (no
// rill process needed): lengths, dead letters, lag, pending, ages, consumers.

#include "commands.hpp"
#include "json_line.hpp"
#include "status_report.hpp"
#include <rill/actors/error.hpp>
#include <rill/runtime/logging.hpp>
#include <rill/runtime/runtime.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <thread>
#include <unistd.h>

namespace rill::cli {

int status_command(cli_config& cfg, const std::vector<std::string>& streams) {
  if (cfg.watch > 86400)
    return config_error("status", "--watch: at most 86400 seconds");
  cfg.take_signals = false; // Ctrl-C ends a --watch at once
  if (cfg.log_level == "info")
    setup_logging("warn"); // no connect lines around the report
  runtime rt{cfg};
  auto ask = [&rt](redis_command cmd) {
    return rt.command(std::move(cmd));
  };
  bool tty = isatty(STDOUT_FILENO) == 1;
  for (;;) {
    auto report = collect_status(ask, streams, cfg.consumer.group, cfg.consumer.dead_letter_stream,
                                 rt.cluster());
    if (!report) {
      std::fprintf(stderr, "rill status: %s\n", describe(report.error()).c_str());
      if (cfg.watch == 0)
        return 1;
    } else if (cfg.json) {
      std::puts(json_line(status_json(*report)).c_str());
    } else {
      if (cfg.watch > 0 && tty)
        std::fputs("\033[H\033[2J", stdout); // redraw in place
      std::fputs(status_table(*report).c_str(), stdout);
    }
    std::fflush(stdout);
    if (cfg.watch == 0)
      return 0;
    std::this_thread::sleep_for(std::chrono::seconds{cfg.watch});
  }
}

} // namespace rill::cli
