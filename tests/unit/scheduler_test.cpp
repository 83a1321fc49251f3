#define CAF_SUITE scheduler
#include <rill/runtime/scheduler.hpp>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/test/unit_test.hpp>

#include <atomic>
#include <memory>
#include <string>
#include <typeinfo>

using namespace rill;

CAF_TEST(the rill scheduler runs actors and another policy asked for keeps the CAF one) {
  for (bool sharing : {false, true}) {
    caf::actor_system_config cfg;
    caf::put(cfg.content, "scheduler.max-threads", size_t{2});
    if (sharing)
      caf::put(cfg.content, "scheduler.policy", caf::atom("sharing"));
    use_rill_scheduler(cfg);
    caf::actor_system sys{cfg};
    std::string type = typeid(sys.scheduler()).name();
    CAF_CHECK_EQUAL(type.find("rill_stealing") != std::string::npos, !sharing);
    // 100 actors in a ring pass one token around 100 times: 10,000 hand-offs
    // across the scheduler's threads, each counted.
    auto hops = std::make_shared<std::atomic<int>>(0);
    caf::scoped_actor self{sys};
    caf::actor next = self;
    for (int i = 0; i < 100; ++i)
      next = sys.spawn([next, hops](caf::event_based_actor* a) -> caf::behavior {
        return {[=](int left) {
          ++*hops;
          a->send(next, left - 1);
        }};
      });
    int left = -1;
    for (int lap = 0; lap < 100; ++lap) {
      self->send(next, 100);
      self->receive([&](int x) { left = x; });
    }
    CAF_CHECK_EQUAL(left, 0);
    CAF_CHECK_EQUAL(hops->load(), 10000);
  }
}
