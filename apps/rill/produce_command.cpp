#include "actors/load_generator.hpp"
#include "apps/rill/commands.hpp"
#include "runtime/runtime.hpp"
#include "runtime/seq_checksum.hpp"

#include <caf/send.hpp>

#include <chrono>
#include <cstdio>

namespace rill::cli {

int produce_command(config& cfg) {
  if (cfg.consumer.stream.empty())
    return config_error("produce", "--stream: required");
  if (cfg.count == 0)
    return config_error("produce", "--count: required, > 0");
  if (cfg.payload_bytes > 512 * 1024 * 1024)
    return config_error("produce", "--payload-bytes: at most 512 MiB (Redis' limit)");
  runtime rt{cfg};
  load_plan plan;
  plan.stream = cfg.consumer.stream;
  plan.count = cfg.count;
  plan.payload_bytes = cfg.payload_bytes;
  plan.rate = cfg.rate;
  auto progress_state = std::make_shared<load_progress>();
  auto start = std::chrono::steady_clock::now();
  auto gen = spawn_load_generator(rt.system(), rt.producer(), plan, progress_state);
  auto rc = rt.run([&] { return progress_state->finished.load(); },
                   [&] {
                     progress("produced " + grouped(progress_state->produced) + " / "
                              + grouped(plan.count));
                   });
  caf::anon_send_exit(gen, caf::exit_reason::user_shutdown);
  progress_done();
  auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  auto produced = progress_state->produced.load();
  std::printf("{\"impl\":\"rill\",\"produced\":%llu,\"seconds\":%.3f,\"msgs_per_s\":%.0f,"
              "\"checksum\":%llu}\n",
              static_cast<unsigned long long>(produced), seconds, produced / seconds,
              static_cast<unsigned long long>(expected_checksum(produced)));
  std::fflush(stdout);
  if (rc != 0)
    return rc;
  return produced == plan.count ? 0 : 1;
}

} // namespace rill::cli
