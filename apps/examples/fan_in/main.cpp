// Fan-in: several streams ("orders:eu", "orders:us", "orders:apac") feed one
// pool of processing actors. Each stream has its reader, and its workers
// only hand entries on: they forward each entry to the shared pool (a
// caf::actor_pool of 4 actors, round robin) and ack when the pool answers.
// So the pool sees at most the sum of the streams' max-in-flight entries at
// once (each stream's credits bound its share), an entry is acked only after
// the pool processed it, and adding a stream adds no processing threads.
//
//   fan_in --redis 127.0.0.1:6379 [--count N (per stream)] [--max-in-flight K]

#include <rill/rill.hpp>

#include <caf/actor_pool.hpp>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_execution_unit.hpp>

#include <chrono>
#include <cstdio>
#include <string>

namespace {

using process_atom = caf::atom_constant<caf::atom("process")>;

/// One processing actor of the pool: books the order into the hash of its
/// region, through the runtime's shared connection, and answers when done.
caf::behavior processor(caf::event_based_actor* self, rill::connection_actor redis) {
  return {
    [self, redis](process_atom, const std::string& region, const std::string& amount) {
      auto rp = self->make_response_promise<bool>();
      self
        ->request(redis, std::chrono::seconds{5},
                  rill::make_command({"HINCRBY", "revenue", region, amount}))
        .then([rp](rill::redis_reply&) mutable { rp.deliver(true); },
              [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
      return rp;
    },
  };
}

} // namespace

int main(int argc, char** argv) {
  rill::config cfg;
  if (auto err = cfg.load({argv + 1, argv + argc})) {
    std::fprintf(stderr, "fan_in: %s\n", rill::describe(err).c_str());
    return 2;
  }
  if (cfg.help_printed())
    return 0;
  rill::runtime rt{cfg};
  auto& sys = rt.system();
  caf::scoped_execution_unit context{&sys};
  auto redis = rt.shared_connection();
  auto pool = caf::actor_pool::make(
    &context, 4, [&] { return sys.spawn(processor, redis); }, caf::actor_pool::round_robin());

  for (std::string region : {"eu", "us", "apac"}) {
    auto opts = cfg.consumer;
    opts.stream = "orders:" + region;
    opts.group = "revenue";
    opts.limit = cfg.count; // per stream
    auto& c = rt.add_consumer(opts);
    c.add_async([pool, region](const rill::stream_entry& e, rill::async_context ctx) {
      auto amount = e.find("amount");
      if (!amount) {
        ctx.done(rill::fail_permanently("no amount"));
        return;
      }
      ctx.self->request(pool, std::chrono::seconds{10}, process_atom::value, region, *amount)
        .then([done = ctx.done](bool) { done(); },
              [done = ctx.done](caf::error& err) { done(std::move(err)); });
    });
  }
  rt.start();
  int rc = rt.run();
  caf::anon_send_exit(pool, caf::exit_reason::user_shutdown);
  return rc;
}
