#define CAF_SUITE tail
#include "redis_fixture.hpp"
#include <rill/runtime/runtime.hpp>

#include <caf/test/unit_test.hpp>

#include <mutex>
#include <sstream>
#include <thread>

using namespace rill;
using namespace rill::testing;
using namespace std::chrono_literals;

namespace {

/// What one subscriber saw, from the scheduler thread its callback runs on.
struct collected {
  std::mutex mtx;
  std::vector<std::string> ids;
  std::vector<std::string> gaps;

  size_t size() {
    std::lock_guard<std::mutex> guard{mtx};
    return ids.size();
  }
};

/// rill's connections to the server: CLIENT LIST minus the admin asking.
size_t rill_connections(const redis_fixture& fx) {
  auto list = fx.redis({"CLIENT", "LIST"}).str;
  std::istringstream lines{list};
  size_t n = 0;
  for (std::string line; std::getline(lines, line);)
    if (!line.empty() && line.find("cmd=client|list") == std::string::npos)
      ++n;
  return n;
}

std::vector<std::string> stream_ids(const redis_fixture& fx, const std::string& stream) {
  std::vector<std::string> out;
  for (const auto& row : fx.redis({"XRANGE", stream, "-", "+"}).elements)
    out.push_back(row.elements.at(0).str);
  return out;
}

} // namespace

// Bursts with pauses longer than the BLOCK time (1 s): the usual tail loop
// loses what arrives right after an empty BLOCK reply. Three subscribers, one
// tailer, one connection for it.
CAF_TEST(three_subscribers_get_every_entry_once_in_order_across_idle_blocks) {
  redis_fixture fx;
  config cfg;
  fx.point(cfg);
  constexpr size_t bursts = 3;
  constexpr size_t per_burst = 300;
  std::vector<std::unique_ptr<collected>> seen;
  {
    runtime rt{cfg};
    auto& feed = rt.tail("feed", "0-0");
    for (int i = 0; i < 3; ++i) {
      seen.push_back(std::make_unique<collected>());
      auto* out = seen.back().get();
      feed.subscribe([out](const stream_entry& e) {
        std::lock_guard<std::mutex> guard{out->mtx};
        out->ids.push_back(e.id);
      });
    }
    rt.start();
    size_t connections_while_running = 0;
    for (size_t b = 0; b < bursts; ++b) {
      fx.fill("feed", b * per_burst, per_burst);
      std::this_thread::sleep_for(1300ms); // longer than BLOCK: the read came back empty
      if (b == 0)
        connections_while_running = rill_connections(fx);
    }
    deadline limit{20s};
    rt.run([&] {
      bool all = true;
      for (auto& s : seen)
        all = all && s->size() >= bursts * per_burst;
      return all || limit.passed();
    });
    CAF_CHECK_EQUAL(feed.subscribers(), 3u);
    // The shared connection and the tailer's, however many subscribers.
    CAF_CHECK_EQUAL(connections_while_running, 2u);
  }
  auto want = stream_ids(fx, "feed");
  CAF_REQUIRE_EQUAL(want.size(), bursts * per_burst);
  for (auto& s : seen)
    CAF_CHECK(s->ids == want);
}

CAF_TEST(a_subscriber_from_a_trimmed_id_hears_of_the_gap_then_gets_what_remains) {
  redis_fixture fx;
  fx.fill("feed", 0, 100);
  auto ids = stream_ids(fx, "feed");
  fx.redis({"XTRIM", "feed", "MAXLEN", "50"});
  config cfg;
  fx.point(cfg);
  collected out;
  {
    runtime rt{cfg};
    rt.tail("feed").subscribe(
      [&](const stream_entry& e) {
        std::lock_guard<std::mutex> guard{out.mtx};
        out.ids.push_back(e.id);
      },
      ids.at(9), // 10 entries in: trimmed away
      [&](const std::string& first) {
        std::lock_guard<std::mutex> guard{out.mtx};
        out.gaps.push_back(first);
      });
    rt.start();
    deadline limit{10s};
    rt.run([&] { return out.size() >= 50 || limit.passed(); });
  }
  CAF_CHECK_EQUAL(out.gaps, (std::vector<std::string>{ids.at(50)}));
  CAF_CHECK(out.ids == std::vector<std::string>(ids.begin() + 50, ids.end()));
}
