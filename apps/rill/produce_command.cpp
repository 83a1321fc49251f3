#include "commands.hpp"
#include "json_line.hpp"
#include "load_generator.hpp"
#include "seq_checksum.hpp"
#include <rill/actors/error.hpp>
#include <rill/actors/stream_entry.hpp>
#include <rill/runtime/runtime.hpp>

#include <caf/send.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <thread>

namespace rill::cli {

int produce_command(cli_config& cfg) {
  if (cfg.consumer.stream.empty())
    return config_error("produce", "--stream: required");
  if (cfg.count == 0)
    return config_error("produce", "--count: required, > 0");
  // Each entry is copied a few times on its way (fields, command, RESP
  // buffer); a test tool has no business near Redis' 512 MB limit.
  if (cfg.payload_bytes > 64 * 1024 * 1024)
    return config_error("produce", "--payload-bytes: at most 64 MiB");
  runtime rt{cfg};
  load_plan plan;
  plan.stream = cfg.consumer.stream;
  plan.count = cfg.count;
  plan.payload_bytes = cfg.payload_bytes;
  plan.rate = cfg.rate;
  plan.keys = cfg.keys;
  // Explicit IDs above the stream's last one: a batch whose reply was lost is
  // sent again and Redis refuses what it already has, so no seq is written
  // twice (docs/reliability.md).
  auto now_ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
  plan.id_ms = now_ms;
  for (;;) {
    auto top = rt.command(make_command({"XREVRANGE", plan.stream, "+", "-", "COUNT", "1"}));
    if (top) {
      if (auto entries = parse_entry_list(std::move(*top)); entries && !entries->entries.empty())
        plan.id_ms = std::max<uint64_t>(now_ms, std::stoull(entries->entries[0].id) + 1);
      break;
    }
    auto code = code_of(top.error());
    if (code != sec::redis_unavailable && code != sec::connection_lost
        && code != sec::request_timeout && code != sec::server_busy) {
      std::fprintf(stderr, "rill produce: %s\n", describe(top.error()).c_str());
      return 1;
    }
    // Redis not there yet. SIGINT/SIGTERM are blocked for the runtime's run():
    // take them here too, or a produce against a dead server never stops.
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    timespec wait{0, 200'000'000};
    if (auto sig = sigtimedwait(&stop, nullptr, &wait); sig > 0) {
      std::fprintf(stderr, "rill produce: %s before Redis answered: %s\n", strsignal(sig),
                   describe(top.error()).c_str());
      return 1;
    }
  }
  auto progress_state = std::make_shared<load_progress>();
  auto start = std::chrono::steady_clock::now();
  auto gen = spawn_load_generator(rt.system(), rt.producer(), rt.shared_connection(), plan,
                                  progress_state);
  auto rc = rt.run([&] { return progress_state->finished.load(); },
                   [&] {
                     progress("produced " + grouped(progress_state->produced) + " / "
                              + grouped(plan.count));
                   });
  caf::anon_send_exit(gen, caf::exit_reason::user_shutdown);
  progress_done();
  auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  auto produced = progress_state->produced.load();
  nlohmann::ordered_json line{{"impl", "rill"},
                              {"produced", produced},
                              {"seconds", rounded(seconds, 3)},
                              {"msgs_per_s", whole(produced / seconds)},
                              {"checksum", expected_checksum(produced)}};
  std::puts(json_line(line).c_str());
  std::fflush(stdout);
  if (!progress_state->error.empty())
    std::fprintf(stderr, "rill produce: %s\n", progress_state->error.c_str());
  if (rc != 0)
    return rc;
  return produced == plan.count ? 0 : 1;
}

} // namespace rill::cli
