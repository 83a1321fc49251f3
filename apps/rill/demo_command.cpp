#include "commands.hpp"
#include "load_generator.hpp"
#include "seq_checksum.hpp"
#include <rill/actors/error.hpp>
#include <rill/runtime/logging.hpp>
#include <rill/runtime/runtime.hpp>
#include <rill/testing/blocking_client.hpp>
#include <rill/testing/local_redis.hpp>

#include <caf/send.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>

namespace rill::cli {

int demo_command(cli_config& cfg) {
  const uint64_t count = cfg.count > 0 ? cfg.count : 200'000;
  if (cfg.log_level == "info")
    setup_logging("warn"); // the demo's own lines tell the story
  std::printf("rill demo: starting a private redis-server ...\n");
  auto server = local_redis::start();
  if (!server) {
    std::fprintf(stderr, "rill demo: %s\n", describe(server.error()).c_str());
    return 1;
  }
  std::printf("  redis-server pid %d on %s (data in %s)\n", server->pid(),
              server->address().c_str(), server->dir().c_str());
  cfg.redis.host = "127.0.0.1";
  cfg.redis.port = server->port();
  consumer_options opts;
  opts.stream = "demo:orders";
  opts.group = "billing";
  opts.consumer = "demo-consumer";
  opts.max_in_flight = cfg.consumer.max_in_flight;
  opts.limit = count;
  std::printf("  producing %s entries into '%s' while group '%s' consumes them with %u "
              "workers\n\n",
              grouped(count).c_str(), opts.stream.c_str(), opts.group.c_str(), opts.max_in_flight);

  std::atomic<uint64_t> checksum{0};
  std::atomic<uint64_t> bytes{0};
  auto t0 = std::chrono::steady_clock::now();
  double seconds = 0;
  uint64_t produced = 0;
  {
    runtime rt{cfg};
    auto& c = rt.add_consumer(opts);
    // Two callbacks, run in this order for every entry; the entry is acked
    // only after both succeeded.
    c.add([](const stream_entry& e) -> caf::error { // 1: validate
       if (e.find("payload") == nullptr || !parse_seq(e.find("seq") ? *e.find("seq") : ""))
         return make_error(sec::invalid_argument, "entry " + e.id + " is malformed");
       return caf::none;
     })
      .add([&](const stream_entry& e) { // 2: tally
        checksum.fetch_add(seq_hash(*parse_seq(*e.find("seq"))), std::memory_order_relaxed);
        bytes.fetch_add(e.find("payload")->size(), std::memory_order_relaxed);
      });
    rt.start();
    load_plan plan;
    plan.stream = opts.stream;
    plan.count = count;
    auto gen_progress = std::make_shared<load_progress>();
    auto gen = spawn_load_generator(rt.system(), rt.producer(), rt.shared_connection(), plan,
                                    gen_progress);
    const auto& m = c.metrics();
    auto rc = rt.run({}, [&] {
      auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      progress("  produced " + grouped(gen_progress->produced) + "  processed "
               + grouped(m.processed) + "  acked " + grouped(m.acked) + "  in flight "
               + std::to_string(m.in_flight) + "  ~"
               + grouped(static_cast<uint64_t>(m.processed / std::max(elapsed, 1e-3))) + " msgs/s");
    });
    caf::anon_send_exit(gen, caf::exit_reason::user_shutdown);
    progress_done();
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    produced = gen_progress->produced;
    if (rc != 0)
      return rc;
  }
  // What Redis holds afterwards, asked independently of rill.
  auto admin = blocking_client::connect("127.0.0.1", server->port());
  int64_t pending = -1;
  int64_t length = -1;
  if (admin) {
    if (auto r = admin->command({"XPENDING", opts.stream, opts.group}); r && r->is_array())
      pending = r->elements[0].integer;
    if (auto r = admin->command({"XLEN", opts.stream}))
      length = r->integer;
  }
  bool ok = checksum == expected_checksum(count) && pending == 0;
  std::printf("\nsummary\n");
  std::printf("  produced    %s entries (XLEN %lld)\n", grouped(produced).c_str(),
              static_cast<long long>(length));
  std::printf("  processed   %s entries, %s payload bytes, in %.2f s (%s msgs/s)\n",
              grouped(count).c_str(), grouped(bytes).c_str(), seconds,
              grouped(static_cast<uint64_t>(count / seconds)).c_str());
  std::printf("  checksum    %s\n", checksum == expected_checksum(count)
                                      ? "matches every seq exactly once"
                                      : "MISMATCH (entries lost or duplicated)");
  std::printf("  pending     %lld entries left unacked in group '%s'\n",
              static_cast<long long>(pending), opts.group.c_str());
  server->stop();
  std::printf("  redis-server stopped\n%s\n", ok ? "demo OK" : "demo FAILED");
  return ok ? 0 : 1;
}

} // namespace rill::cli
