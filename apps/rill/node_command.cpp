#include "commands.hpp"
#include "json_line.hpp"
#include "seq_callbacks.hpp"
#include <rill/runtime/node_main.hpp>
#include <rill/runtime/runtime.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace rill::cli {

int node_command(cli_config& cfg) {
  if (!cfg.forward_to.empty() && cfg.effect_counter.empty())
    return config_error("node", "--forward-to needs --effect-counter");
  seq_tally tally;
  if (!cfg.record.empty())
    if (auto err = tally.open_record(cfg.record); !err.empty())
      return config_error("node", err);
  callback_registry callbacks;
  register_seq_callbacks(callbacks, cfg, tally);
  return run_node(cfg, callbacks, [&](runtime& rt) {
    // One JSON line per reader (what its workers, local or remote, acked) ...
    for (const auto& c : rt.consumers()) {
      const auto& m = c->metrics();
      auto seconds = m.first_delivery_ns == 0 || m.finished_ns == 0
                       ? 0.0
                       : (m.finished_ns - m.first_delivery_ns) / 1e9;
      nlohmann::ordered_json line{{"impl", "rill"}, {"role", "reader"}};
      put_bytes(line, "stream", c->options().stream);
      put_bytes(line, "group", c->options().group);
      line["processed"] = m.processed.load();
      line["seconds"] = std::round(seconds * 1000) / 1000;
      line["msgs_per_s"] = seconds > 0 ? std::round(m.processed / seconds) : 0.0;
      std::puts(json_line(line).c_str());
    }
    // ... and one for what this node's callbacks processed.
    nlohmann::ordered_json line{{"impl", "rill"},
                                {"role", "workers"},
                                {"processed", tally.processed.load()},
                                {"checksum", tally.checksum.load()}};
    tally.add_latency(line);
    std::puts(json_line(line).c_str());
    std::fflush(stdout);
  });
}

} // namespace rill::cli
