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
