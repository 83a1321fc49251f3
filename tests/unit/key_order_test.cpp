#define CAF_SUITE key_order
#include <rill/actors/reader/key_order.hpp>

#include <caf/test/unit_test.hpp>

using namespace rill;
using namespace rill::detail;

namespace {

stream_entry entry(std::string id, std::string key) {
  stream_entry e;
  e.id = std::move(id);
  if (!key.empty())
    e.fields = {"k", std::move(key)};
  return e;
}

} // namespace

CAF_TEST(one entry of a key is out and the others wait in stream order) {
  key_order keys{"k"};
  CAF_CHECK(keys.admit(entry("1-0", "a")));
  CAF_CHECK(keys.admit(entry("2-0", "b"))); // another key runs beside it
  CAF_CHECK(!keys.admit(entry("5-0", "a")));
  CAF_CHECK(!keys.admit(entry("3-0", "a"))); // older, via a claim: goes first
  CAF_CHECK(!keys.admit(entry("3-0", "a"))); // read again: not twice
  CAF_CHECK_EQUAL(keys.waiting(), 2u);
  CAF_CHECK_EQUAL(keys.longest(), 2u);
  CAF_CHECK_EQUAL(keys.waited(), 2u);
  CAF_CHECK_EQUAL(keys.keys(), 2u);
  CAF_CHECK(keys.holds("5-0"));
  CAF_CHECK(!keys.holds("1-0")); // out at a worker, not waiting here
  auto next = keys.settle("1-0");
  CAF_REQUIRE(next);
  CAF_CHECK_EQUAL(next->id, "3-0");
  CAF_CHECK_EQUAL(keys.longest(), 1u);
  CAF_CHECK(keys.admit(std::move(*next))); // the new holder passes
  next = keys.settle("3-0");
  CAF_REQUIRE(next);
  CAF_CHECK_EQUAL(next->id, "5-0");
  CAF_CHECK(!keys.settle("5-0"));
  CAF_CHECK(!keys.settle("2-0"));
  CAF_CHECK_EQUAL(keys.keys(), 0u); // idle keys leave no state
  CAF_CHECK_EQUAL(keys.waiting(), 0u);
  CAF_CHECK_EQUAL(keys.longest(), 0u);
}

CAF_TEST(a failing holder keeps its key through its redeliveries) {
  key_order keys{"k"};
  CAF_CHECK(keys.admit(entry("1-0", "a")));
  CAF_CHECK(!keys.admit(entry("2-0", "a")));
  // Nacked and retried: the holder comes back (XCLAIM) and passes; the
  // entry behind it still waits.
  CAF_CHECK(keys.admit(entry("1-0", "a")));
  CAF_CHECK(keys.holds("2-0"));
  auto next = keys.settle("1-0"); // dead-lettered at last: the key goes on
  CAF_REQUIRE(next);
  CAF_CHECK_EQUAL(next->id, "2-0");
}

CAF_TEST(entries without the field and a consumer without order_by are not ordered) {
  key_order keys{"k"};
  CAF_CHECK(keys.admit(entry("1-0", "")));
  CAF_CHECK(keys.admit(entry("2-0", "")));
  CAF_CHECK_EQUAL(keys.keys(), 0u);
  key_order off;
  CAF_CHECK(!off.enabled());
  CAF_CHECK(off.admit(entry("1-0", "a")));
  CAF_CHECK(off.admit(entry("2-0", "a")));
  CAF_CHECK(!off.settle("1-0"));
}

CAF_TEST(a key function orders by what it returns) {
  key_order keys{{}, [](const stream_entry& e) -> std::optional<std::string> {
                   if (e.id == "9-0")
                     return std::nullopt; // not ordered
                   return std::string{e.id[0] == '1' ? "odd" : "even"};
                 }};
  CAF_CHECK(keys.enabled());
  CAF_CHECK_EQUAL(keys.name(), "order_key");
  CAF_CHECK(keys.admit(entry("1-0", "")));
  CAF_CHECK(keys.admit(entry("2-0", "")));
  CAF_CHECK(!keys.admit(entry("1-5", ""))); // key "odd" is busy
  CAF_CHECK(keys.admit(entry("9-0", "")));
  CAF_CHECK(keys.is_holder("1-0"));
  CAF_CHECK(!keys.is_holder("9-0")); // holds no key
  auto next = keys.settle("1-0");
  CAF_REQUIRE(next);
  CAF_CHECK_EQUAL(next->id, "1-5");
}

CAF_TEST(a busy key parks what exceeds its queue and reads it back in order) {
  key_order keys{"k", {}, 2}; // two entries of a key wait in memory
  CAF_CHECK(keys.admit(entry("1-0", "a")));
  for (auto id : {"2-0", "3-0", "4-0", "5-0", "7-0"})
    CAF_CHECK(!keys.admit(entry(id, "a")));
  CAF_CHECK_EQUAL(keys.waiting(), 2u); // 2-0, 3-0
  CAF_CHECK_EQUAL(keys.parked(), 3u);  // 4-0, 5-0, 7-0: IDs only
  CAF_CHECK(keys.holds("5-0"));
  CAF_CHECK(!keys.admit(entry("5-0", "a"))); // read again: still parked once
  CAF_CHECK_EQUAL(keys.parked(), 3u);
  CAF_CHECK_EQUAL(keys.settle("1-0")->id, "2-0");
  CAF_CHECK_EQUAL(keys.settle("2-0")->id, "3-0");
  CAF_CHECK(!keys.settle("3-0")); // parked ones left: their fetch went out with 3-0
  auto fetches = keys.take_fetches();
  CAF_REQUIRE_EQUAL(fetches.size(), 1u);
  CAF_CHECK_EQUAL(fetches[0].key, "a");
  CAF_CHECK_EQUAL(fetches[0].ids, std::vector<std::string>({"4-0", "5-0"}));
  // Meanwhile an older entry of the key comes back (a claim), and a newer one
  // is read: the older waits in memory, the newer parks behind 7-0.
  CAF_CHECK(!keys.admit(entry("3-5", "a")));
  CAF_CHECK(!keys.admit(entry("8-0", "a")));
  // 5-0 was trimmed: Redis returns only 4-0.
  auto next = keys.fetched("a", {entry("4-0", "a")});
  CAF_REQUIRE(next);
  CAF_CHECK_EQUAL(next->id, "3-5");
  CAF_CHECK_EQUAL(keys.parked(), 2u); // 7-0, 8-0
  CAF_CHECK_EQUAL(keys.settle("3-5")->id, "4-0");
  CAF_CHECK(!keys.settle("4-0"));
  fetches = keys.take_fetches();
  CAF_REQUIRE_EQUAL(fetches.size(), 1u);
  CAF_CHECK_EQUAL(fetches[0].ids, std::vector<std::string>({"7-0", "8-0"}));
  keys.fetch_failed("a"); // Redis down: parked again and asked again
  fetches = keys.take_fetches();
  CAF_REQUIRE_EQUAL(fetches.size(), 1u);
  CAF_CHECK_EQUAL(fetches[0].ids, std::vector<std::string>({"7-0", "8-0"}));
  next = keys.fetched("a", {entry("8-0", "a"), entry("7-0", "a")});
  CAF_REQUIRE(next);
  CAF_CHECK_EQUAL(next->id, "7-0");
  CAF_CHECK_EQUAL(keys.settle("7-0")->id, "8-0");
  CAF_CHECK(!keys.settle("8-0"));
  CAF_CHECK_EQUAL(keys.keys(), 0u); // nothing left: no state
  CAF_CHECK_EQUAL(keys.parked(), 0u);
  CAF_CHECK_EQUAL(keys.waiting(), 0u);
}
