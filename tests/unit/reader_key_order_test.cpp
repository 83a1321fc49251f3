#define CAF_SUITE reader_key_order
#include "reader_fixture.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>

using namespace rill;
using namespace rill::testing;

namespace {

/// Entry n with key field k = keys[n % keys.size()].
stream_entry keyed(uint64_t n, const std::vector<std::string>& keys) {
  auto e = make_entry(n);
  e.fields.push_back("k");
  e.fields.push_back(keys[n % keys.size()]);
  return e;
}

std::string key_of(const std::string& id, const std::vector<std::string>& keys) {
  return keys[(std::stoull(id) - 1000) % keys.size()];
}

struct key_fixture : fixture {
  std::vector<std::string> keys{"a", "b", "c"};

  void fill_keyed(uint64_t n) {
    for (uint64_t i = 0; i < n; ++i)
      data->fresh.push_back(keyed(i, keys));
  }

  /// Without parking unless `max_parked` > 0: the window bound tests hold
  /// every waiting entry in memory.
  consumer_options ordered(uint32_t k, uint32_t max_waiting = 0, uint32_t max_parked = 0) {
    auto opts = options(k);
    opts.order_by = "k";
    opts.max_waiting = max_waiting;
    opts.max_parked = max_parked;
    return opts;
  }

  /// Per key, the IDs in the order their callbacks started.
  std::map<std::string, std::vector<std::string>> starts() const {
    std::map<std::string, std::vector<std::string>> out;
    for (auto& [id, n] : ran)
      out[key_of(id, keys)].push_back(id);
    return out;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(reader_key_order_tests, key_fixture)

CAF_TEST(each key runs in stream order one entry at a time while keys overlap) {
  fill_keyed(30);
  callbacks->add_async(hold());
  start(ordered(4));
  // 4 workers, but only one entry per key out: a, b, c.
  CAF_REQUIRE_EQUAL(held.size(), 3u);
  // Complete the newest first, again and again: the reader must still start
  // each key's entries in order and never two of one key at once.
  std::set<size_t> done;
  while (done.size() < held.size()) {
    // Read and not acked: never more than 4 workers + 4 waiting.
    CAF_CHECK_LESS_OR_EQUAL(30u - data->fresh.size() - data->acked.size(), 8u);
    std::set<std::string> out;
    for (size_t i = 0; i < held.size(); ++i)
      if (done.count(i) == 0)
        CAF_CHECK(out.insert(key_of(ran[i].first, keys)).second);
    size_t last = held.size() - 1;
    while (done.count(last) > 0)
      --last;
    done.insert(last);
    held[last]();
    consume_messages();
    flush();
  }
  CAF_CHECK_EQUAL(ran.size(), 30u);
  for (auto& [key, ids] : starts())
    for (size_t i = 1; i < ids.size(); ++i)
      CAF_CHECK_LESS(std::stoull(ids[i - 1]), std::stoull(ids[i]));
  CAF_CHECK_EQUAL(data->acked.size(), 30u);
}

CAF_TEST(one hot key fills the window and reading pauses instead of buffering) {
  keys = {"hot"};
  fill_keyed(50);
  callbacks->add_async(hold());
  start(ordered(4, 6));
  CAF_CHECK_EQUAL(held.size(), 1u);
  CAF_CHECK_EQUAL(data->fresh.size(), 50u - 10u); // 4 workers + 6 waiting, no more
  CAF_CHECK_EQUAL(metrics->keys_active.load(), 1u);
  CAF_CHECK_EQUAL(metrics->keys_waiting.load(), 9u);
  CAF_CHECK_EQUAL(metrics->key_longest_queue.load(), 9u);
  push(); // nothing more is read
  CAF_CHECK_EQUAL(data->fresh.size(), 40u);
  held[0]();
  consume_messages();
  CAF_CHECK_EQUAL(held.size(), 2u);
  CAF_CHECK_EQUAL(data->fresh.size(), 40u); // one credit: not worth a read yet
  held[1]();
  consume_messages();
  CAF_CHECK_EQUAL(held.size(), 3u);
  CAF_CHECK_EQUAL(data->fresh.size(), 38u); // two settled, two read, still 10 out
}

CAF_TEST(a failing entry holds only its key until it goes to the dead letters) {
  fill_keyed(9);
  callbacks->add([this](const stream_entry& e) -> caf::error {
    ran.emplace_back(e.id, 1);
    if (e.id == "1000-0") // the first of key a
      return make_error(sec::invalid_argument, "boom");
    return caf::none;
  });
  auto opts = ordered(4);
  opts.max_deliveries = 3;
  opts.redeliver_base = std::chrono::milliseconds{10};
  start(opts);
  flush();
  // b and c went on; a waits behind its failing first entry.
  auto s = starts();
  CAF_CHECK_EQUAL(s["b"].size(), 3u);
  CAF_CHECK_EQUAL(s["c"].size(), 3u);
  CAF_CHECK_EQUAL(s["a"].size(), 1u);
  for (int i = 0; i < 20; ++i) {
    advance_time(std::chrono::milliseconds{100});
    consume_messages();
  }
  s = starts();
  CAF_REQUIRE_EQUAL(s["a"].size(), 5u); // 3 deliveries of 1000-0, then 1003-0, 1006-0
  CAF_CHECK_EQUAL(s["a"][2], "1000-0");
  CAF_CHECK_EQUAL(s["a"][3], "1003-0");
  CAF_CHECK_EQUAL(data->dead.size(), 1u);
  CAF_CHECK_EQUAL(data->acked.size(), 9u); // the dead letter's script acks it too
}

CAF_TEST(max_key_hold sends a failing holder to the dead letters so its key goes on) {
  fill_keyed(6);
  callbacks->add([this](const stream_entry& e) -> caf::error {
    ran.emplace_back(e.id, 1);
    if (e.id == "1000-0")
      return make_error(sec::invalid_argument, "boom");
    return caf::none;
  });
  auto opts = ordered(4);
  opts.max_deliveries = 100; // not what ends it
  opts.redeliver_base = std::chrono::milliseconds{100};
  opts.max_key_hold = std::chrono::seconds{1};
  start(opts);
  for (int i = 0; i < 8; ++i) { // 0.8 s: redelivered, still holding key a
    advance_time(std::chrono::milliseconds{100});
    consume_messages();
  }
  CAF_CHECK(data->dead.empty());
  CAF_CHECK_EQUAL(starts()["a"].back(), "1000-0");
  for (int i = 0; i < 5; ++i) { // the retry due at 1.5 s comes at 1 s and ends it
    advance_time(std::chrono::milliseconds{100});
    consume_messages();
  }
  CAF_CHECK_EQUAL(data->dead.size(), 1u);
  CAF_CHECK_EQUAL(starts()["a"].back(), "1003-0");
  CAF_CHECK_EQUAL(data->acked.size(), 6u);
}

CAF_TEST(max_key_hold leaves entries without a key to max_deliveries) {
  data->fresh.push_back(make_entry(0)); // no key field
  callbacks->add(
    [](const stream_entry&) -> caf::error { return make_error(sec::invalid_argument, "boom"); });
  auto opts = ordered(2);
  opts.max_deliveries = 100;
  opts.redeliver_base = std::chrono::milliseconds{100};
  opts.redeliver_cap = std::chrono::milliseconds{100};
  opts.max_key_hold = std::chrono::milliseconds{300};
  start(opts);
  for (int i = 0; i < 10; ++i) {
    advance_time(std::chrono::milliseconds{100});
    consume_messages();
  }
  CAF_CHECK(data->dead.empty()); // a second past max_key_hold, still retried
  CAF_CHECK_GREATER(metrics->failed.load(), 3u);
}

CAF_TEST(a key function orders like a field and an entry it throws on is dead lettered) {
  fill_keyed(9);
  data->fresh[4].fields.push_back("poison"); // 1004-0, key b
  data->fresh[4].fields.push_back("1");
  callbacks->add_async(hold());
  auto opts = options(4);
  opts.order_key = [](const stream_entry& e) -> std::optional<std::string> {
    if (e.find("poison") != nullptr)
      throw std::runtime_error("no key in this entry");
    return "key-" + *e.find("k");
  };
  start(opts);
  CAF_CHECK_EQUAL(held.size(), 3u);          // one entry per key out
  for (size_t i = 0; i < held.size(); ++i) { // complete in start order, one at a time
    held[i]();
    consume_messages();
  }
  flush();
  CAF_CHECK_EQUAL(ran.size(), 8u); // all but the poisoned entry
  for (auto& [key, ids] : starts())
    for (size_t i = 1; i < ids.size(); ++i)
      CAF_CHECK_LESS(std::stoull(ids[i - 1]), std::stoull(ids[i]));
  CAF_REQUIRE_EQUAL(data->dead.size(), 1u);
  auto& argv = data->dead[0];
  CAF_CHECK(std::find(argv.begin(), argv.end(), "1004-0") != argv.end());
  CAF_CHECK(std::any_of(argv.begin(), argv.end(), [](const std::string& a) {
    return a.find("order_key threw: no key in this entry") != std::string::npos;
  }));
  CAF_CHECK_EQUAL(data->acked.size(), 9u);
}

CAF_TEST(a hot key parks its backlog in Redis while the other keys go on) {
  // Even seqs: key "hot", whose first entry is held; odd: ten other keys.
  for (uint64_t i = 0; i < 120; ++i) {
    auto e = make_entry(i);
    e.fields.push_back("k");
    e.fields.push_back(i % 2 == 0 ? "hot" : "c" + std::to_string(i % 10));
    data->fresh.push_back(std::move(e));
  }
  auto is_hot = [](const std::string& id) {
    return (std::stoull(id) - 1000) % 2 == 0;
  };
  callbacks->add_async([this, is_hot](const stream_entry& e, async_context ctx) {
    ran.emplace_back(e.id, 0);
    if (is_hot(e.id))
      held.push_back(ctx.done);
    else
      ctx.done();
  });
  start(ordered(4, 8, 1000)); // a key keeps 8 / 4 = 2 waiting in memory
  flush();
  size_t others = 0;
  for (auto& [id, n] : ran)
    others += is_hot(id) ? 0 : 1;
  CAF_CHECK_EQUAL(others, 60u); // none of them waited for the hot key's backlog
  CAF_CHECK(data->fresh.empty());
  CAF_CHECK_EQUAL(metrics->keys_waiting.load(), 2u);
  CAF_CHECK_EQUAL(metrics->keys_parked.load(), 57u); // 60 hot: 1 out, 2 waiting
  CAF_REQUIRE_EQUAL(held.size(), 1u);
  for (size_t i = 0; i < held.size(); ++i) { // the hot key, one at a time
    held[i]();
    consume_messages();
    flush();
  }
  std::vector<uint64_t> hot;
  for (auto& [id, n] : ran)
    if (is_hot(id))
      hot.push_back(std::stoull(id));
  CAF_CHECK_EQUAL(hot.size(), 60u);
  CAF_CHECK(std::is_sorted(hot.begin(), hot.end()));
  CAF_CHECK_EQUAL(std::adjacent_find(hot.begin(), hot.end()), hot.end()); // none twice
  CAF_CHECK_EQUAL(data->xranges, 57u); // each parked entry read back once
  CAF_CHECK_EQUAL(metrics->keys_parked.load(), 0u);
  CAF_CHECK_EQUAL(data->acked.size(), 120u);
}

CAF_TEST(a parked entry trimmed from the stream is acked as deleted) {
  keys = {"hot"};
  fill_keyed(10);
  data->trimmed.insert("1005-0");
  callbacks->add_async(hold());
  start(ordered(2, 4, 100)); // one entry of a key waits in memory, the rest park
  CAF_CHECK_EQUAL(metrics->keys_parked.load(), 8u);
  for (size_t i = 0; i < held.size(); ++i) {
    held[i]();
    consume_messages();
    flush();
  }
  CAF_CHECK_EQUAL(ran.size(), 9u);
  CAF_CHECK(std::none_of(ran.begin(), ran.end(), [](auto& r) { return r.first == "1005-0"; }));
  CAF_CHECK_EQUAL(metrics->deleted.load(), 1u);
  CAF_CHECK_EQUAL(data->acked.size(), 10u);
  CAF_CHECK(data->pel.empty());
}

CAF_TEST_FIXTURE_SCOPE_END()
