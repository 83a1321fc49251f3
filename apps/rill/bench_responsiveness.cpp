// `rill bench responsiveness`: with S readers blocked in XREADGROUP BLOCK,
// how long an actor ping and a Redis PING on the shared connection take.

#include "bench.hpp"
#include "commands.hpp"
#include <rill/actors/error.hpp>
#include <rill/actors/messages.hpp>
#include <rill/runtime/runtime.hpp>

#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

#include <chrono>
#include <cstdio>
#include <thread>

namespace rill::bench {

namespace {

using namespace std::chrono_literals;
using ping_atom = caf::atom_constant<caf::atom("ping")>;

} // namespace

namespace {

struct pinger_state {
  std::shared_ptr<std::vector<double>> actor_rtt;
  std::shared_ptr<std::vector<double>> redis_rtt;
  caf::actor pong;
  connection_actor shared_conn;
  int left = 0;
};

caf::behavior pinger(caf::stateful_actor<pinger_state>* self, caf::actor pong,
                     connection_actor shared_conn, int count,
                     std::shared_ptr<std::vector<double>> actor_rtt,
                     std::shared_ptr<std::vector<double>> redis_rtt) {
  auto& st = self->state;
  st.pong = std::move(pong);
  st.shared_conn = std::move(shared_conn);
  st.left = count;
  st.actor_rtt = std::move(actor_rtt);
  st.redis_rtt = std::move(redis_rtt);
  self->send(self, tick_atom::value);
  return {
    [self](tick_atom) {
      auto t0 = std::chrono::steady_clock::now();
      auto us = [](auto t0) {
        return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0)
          .count();
      };
      self->request(self->state.pong, 1s, ping_atom::value).then([self, t0, us](ping_atom) {
        self->state.actor_rtt->push_back(us(t0));
        auto t1 = std::chrono::steady_clock::now();
        self->request(self->state.shared_conn, 1s, make_command({"PING"}))
          .then(
            [self, t1, us](redis_reply&) {
              self->state.redis_rtt->push_back(us(t1));
              if (--self->state.left > 0)
                self->delayed_send(self, 1ms, tick_atom::value);
              else
                self->quit();
            },
            [self](caf::error&) { self->quit(); });
      });
    },
  };
}

} // namespace

int responsiveness_case(cli_config& cfg) {
  const uint64_t streams = std::max<uint64_t>(1, cfg.streams);
  target t;
  if (auto err = t.open(cfg))
    return cli::config_error("bench responsiveness", describe(err));
  auto actor_rtt = std::make_shared<std::vector<double>>();
  auto redis_rtt = std::make_shared<std::vector<double>>();
  auto before = usage::now();
  int threads = 0;
  {
    runtime rt{cfg};
    std::vector<consumer*> all;
    for (uint64_t i = 0; i < streams; ++i) {
      // Readers that wait, not workers: one each.
      auto& consumer = rt.add_consumer(bench_consumer("bench:idle:" + std::to_string(i), 1));
      consumer.add([](const stream_entry&) {});
      all.push_back(&consumer);
    }
    rt.start();
    // Wait until every reader has moved on to a blocking `>` read.
    auto until = std::chrono::steady_clock::now() + 30s;
    for (auto* consumer : all)
      while (consumer->metrics().reads.load() == 0 && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(5ms);
    std::this_thread::sleep_for(200ms);
    auto pong = rt.system().spawn([]() -> caf::behavior {
      return {[](ping_atom x) {
        return x;
      }};
    });
    auto p = rt.system().spawn(pinger, pong, rt.shared_connection(), 2000, actor_rtt, redis_rtt);
    caf::scoped_actor waiter{rt.system()};
    waiter->wait_for(p);
    threads = thread_count();
    caf::anon_send_exit(pong, caf::exit_reason::user_shutdown);
  }
  auto u = usage::now() - before;
  std::sort(actor_rtt->begin(), actor_rtt->end());
  std::sort(redis_rtt->begin(), redis_rtt->end());
  std::printf("bench responsiveness: %llu readers blocked in XREADGROUP BLOCK\n",
              static_cast<unsigned long long>(streams));
  std::printf("  actor ping round trip: p50 %.0f us, p99 %.0f us (%zu samples)\n",
              percentile(*actor_rtt, 50), percentile(*actor_rtt, 99), actor_rtt->size());
  std::printf("  redis PING on the shared connection: p50 %.0f us, p99 %.0f us\n",
              percentile(*redis_rtt, 50), percentile(*redis_rtt, 99));
  nlohmann::ordered_json line{{"bench", "responsiveness"},
                              {"impl", "rill"},
                              {"streams", streams},
                              {"ping_p50_us", cli::whole(percentile(*actor_rtt, 50))},
                              {"ping_p99_us", cli::whole(percentile(*actor_rtt, 99))},
                              {"redis_ping_p50_us", cli::whole(percentile(*redis_rtt, 50))},
                              {"redis_ping_p99_us", cli::whole(percentile(*redis_rtt, 99))},
                              {"threads", threads}};
  add_usage(line, u);
  print(line);
  return 0;
}

} // namespace rill::bench
