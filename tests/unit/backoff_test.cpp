#define CAF_SUITE backoff
#include <rill/actors/backoff.hpp>

#include <caf/test/unit_test.hpp>

#include <chrono>
#include <vector>

using namespace rill;

CAF_TEST(backoff grows exponentially with jitter up to its cap) {
  backoff b{std::chrono::milliseconds{10}, std::chrono::milliseconds{100}};
  std::vector<int64_t> ms;
  for (int i = 0; i < 8; ++i)
    ms.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(b.next()).count());
  CAF_CHECK(ms[0] >= 5 && ms[0] <= 10);
  CAF_CHECK(ms[1] >= 10 && ms[1] <= 20);
  CAF_CHECK(ms[2] >= 20 && ms[2] <= 40);
  for (auto x : ms)
    CAF_CHECK(x <= 100);
  CAF_CHECK(ms[7] >= 50);
  b.reset();
  CAF_CHECK(b.next() <= std::chrono::milliseconds{10});
}
