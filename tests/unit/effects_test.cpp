#define CAF_SUITE effects
#include "reader_fixture.hpp"

#include <rill/actors/redis/effect_script.hpp>
#include <rill/actors/redis/key_slot.hpp>

using namespace rill;
using namespace rill::testing;

namespace {

std::vector<std::string> applied_ids(const fake_stream& s) {
  std::vector<std::string> out;
  for (const auto& line : s.applied)
    out.push_back(line.substr(0, line.find(' ')));
  return out;
}

} // namespace

// -- staging --------------------------------------------------------------------------

CAF_TEST(typed effects stage in order and a cluster slot refuses other keys) {
  auto rules = std::make_shared<effect_rules>();
  rules->slot = key_slot("{orders}");
  effects fx{rules};
  fx.hincrby("{orders}:totals", "alice", 5).xadd("{orders}:valid", {"a", "1"});
  fx.publish("news", "hi");
  CAF_CHECK(fx.error().empty());
  CAF_REQUIRE_EQUAL(fx.size(), 3u);
  CAF_CHECK_EQUAL(fx.list()[0].op, "hincrby");
  CAF_CHECK_EQUAL(fx.list()[0].args, (std::vector<std::string>{"alice", "5"}));
  CAF_CHECK_EQUAL(fx.list()[2].key, ""); // publish has no key
  fx.set("elsewhere", "x");
  CAF_CHECK_NOT_EQUAL(fx.error().find("'elsewhere' is in cluster slot"), std::string::npos);
  CAF_CHECK_EQUAL(fx.size(), 3u); // nothing staged after a mistake
  fx.set("{orders}:x", "y");
  CAF_CHECK_EQUAL(fx.size(), 3u);
}

CAF_TEST(the generic form takes only allowed writes on declared keys) {
  auto rules = std::make_shared<effect_rules>();
  rules->command_keys = {"seen:*"};
  effects ok{rules};
  ok.command({"sadd", "seen:today", "a", "b"});
  CAF_CHECK(ok.error().empty());
  CAF_REQUIRE_EQUAL(ok.size(), 1u);
  CAF_CHECK_EQUAL(ok.list()[0].op, "SADD");
  CAF_CHECK_EQUAL(ok.list()[0].key, "seen:today");
  CAF_CHECK_EQUAL(ok.list()[0].args, (std::vector<std::string>{"a", "b"}));
  effects undeclared{rules};
  undeclared.command({"SADD", "other", "a"});
  CAF_CHECK_NOT_EQUAL(undeclared.error().find("matches no declared pattern"), std::string::npos);
  effects not_a_write{rules};
  not_a_write.command({"FLUSHALL", "seen:x"});
  CAF_CHECK_NOT_EQUAL(not_a_write.error().find("not a single-key write"), std::string::npos);
  effects odd;
  odd.xadd("out", {"a"});
  CAF_CHECK_NOT_EQUAL(odd.error().find("field name/value pairs"), std::string::npos);
}

// -- the script's command and reply -----------------------------------------------------

CAF_TEST(one script call declares every key once and carries the delivery count of each entry) {
  std::vector<effect_item> items(2);
  items[0].entry = stream_entry{"1-0", {}, 1};
  items[0].effects = {{"hincrby", "t", {"total", "1"}}, {"xadd", "out", {"f", "v"}}};
  items[1].entry = stream_entry{"2-0", {}, 3};
  items[1].effects = {{"hincrby", "t", {"total", "1"}}, {"publish", "", {"ch", "m"}}};
  auto cmd = apply_effects("s", "g", "c", items, 100, false);
  std::vector<std::string> expected{
    "EVALSHA", effects_script_sha1(), "3", "s", "t", "out", "g", "c",
    // this consumer's pending entries from the lowest to the highest ID
    // (a bound on their number), then the entries
    "1-0", "2-0", "100", "2",
    // entry 1: id, deliveries, effects, their span; each: op, key index, arg count, args
    "1-0", "1", "2", "10", "hincrby", "2", "2", "total", "1", "xadd", "3", "2", "f", "v",
    // entry 2 (publish has no key: index 0)
    "2-0", "3", "2", "10", "hincrby", "2", "2", "total", "1", "publish", "0", "2", "ch", "m"};
  CAF_CHECK_EQUAL(cmd.argv, expected);
  CAF_CHECK_EQUAL(effects_script_sha1().size(), 40u);
  auto by_text = apply_effects("s", "g", "c", items, 1, true);
  CAF_CHECK_EQUAL(by_text.argv[10], "2"); // never below the batch
  CAF_CHECK_EQUAL(by_text.argv[0], "EVAL");
  CAF_CHECK_EQUAL(by_text.argv[1], effects_script());
  auto route = routing_key(cmd); // a cluster sends it to the stream's node
  CAF_REQUIRE(route);
  CAF_CHECK_EQUAL(std::string{*route}, "s");
}

CAF_TEST(outcomes are parsed entry by entry) {
  auto reply = redis_reply::array(
    {redis_reply::string("ok"), redis_reply::string("fenced not pending for this consumer"),
     redis_reply::string("error effect #2: WRONGTYPE t holds a string")});
  auto out = parse_effect_outcomes(reply, 3);
  CAF_REQUIRE(out);
  CAF_CHECK((*out)[0].what == effect_outcome::kind::applied);
  CAF_CHECK((*out)[1].what == effect_outcome::kind::fenced);
  CAF_CHECK_EQUAL((*out)[1].detail, "not pending for this consumer");
  CAF_CHECK((*out)[2].what == effect_outcome::kind::failed);
  CAF_CHECK_EQUAL((*out)[2].detail, "effect #2: WRONGTYPE t holds a string");
  CAF_CHECK(!parse_effect_outcomes(reply, 4));
  CAF_CHECK(!parse_effect_outcomes(redis_reply::array({redis_reply::string("maybe")}), 1));
}

// -- the reader applies them with the XACK ------------------------------------------------

CAF_TEST_FIXTURE_SCOPE(reader_effects_tests, fixture)

CAF_TEST(effects go with their XACK in one script - loaded again on NOSCRIPT) {
  fill(6);
  callbacks->add([](const stream_entry& e, effects& fx) {
    fx.hincrby("counter", "total", 1).xadd("out", {"src", e.id});
  });
  start(options(3));
  flush();
  // EVALSHA first: NOSCRIPT (not cached yet), then EVAL, then EVALSHA again.
  CAF_CHECK_EQUAL(data->commands("EVAL").size() + data->commands("EVALSHA").size() >= 2, true);
  CAF_CHECK(data->script_cached);
  CAF_CHECK_EQUAL(data->acked.size(), 6u);
  CAF_CHECK(data->commands("XACK").empty()); // the script acked them
  CAF_CHECK_EQUAL(data->applied.size(), 12u);
  CAF_CHECK_EQUAL(data->applied[0], "1000-0 hincrby counter total 1");
  CAF_CHECK_EQUAL(data->applied[1], "1000-0 xadd out src 1000-0");
  CAF_CHECK_EQUAL(metrics->effects_applied.load(), 6u);
  CAF_CHECK_EQUAL(metrics->acked.load(), 6u);
  CAF_CHECK_EQUAL(metrics->fenced.load(), 0u);
}

CAF_TEST(an entry another consumer claimed is fenced and its effects are not applied) {
  fill(4);
  callbacks->add_async(hold());
  callbacks->add([](const stream_entry& e, effects& fx) { fx.hincrby("counter", "total", 1); });
  start(options(4));
  CAF_REQUIRE_EQUAL(held.size(), 4u);
  data->stolen = {"1001-0", "1003-0"}; // claimed while this consumer was paused
  release_from(0);
  flush();
  CAF_CHECK_EQUAL(applied_ids(*data), (std::vector<std::string>{"1000-0", "1002-0"}));
  CAF_CHECK_EQUAL(metrics->fenced.load(), 2u);
  CAF_CHECK_EQUAL(metrics->effects_applied.load(), 2u);
  CAF_CHECK_EQUAL(data->pel.count("1001-0"), 1u); // never acked by this consumer
}

CAF_TEST(a failing effect nacks its entry only and it is dead - lettered with nothing applied) {
  fill(3);
  callbacks->add([](const stream_entry& e, effects& fx) {
    fx.set("last", e.id);
    fx.hincrby(*e.find("seq") == "1" ? "a-string" : "counter", "total", 1);
  });
  data->wrong_type = {"a-string"};
  auto opts = options(2);
  opts.max_deliveries = 2;
  start(opts);
  for (int i = 0; i < 20; ++i) { // redeliveries after their backoff
    advance_time(std::chrono::milliseconds{200});
    consume_messages();
  }
  CAF_CHECK_EQUAL(applied_ids(*data),
                  (std::vector<std::string>{"1000-0", "1000-0", "1002-0", "1002-0"}));
  CAF_CHECK_EQUAL(metrics->failed.load(), 2u); // two deliveries of 1001-0
  CAF_REQUIRE_EQUAL(data->dead.size(), 1u);
  CAF_CHECK_EQUAL(data->dead[0][6], "1001-0");
  auto reason = std::find(data->dead[0].begin(), data->dead[0].end(), "dead_reason");
  CAF_REQUIRE(reason != data->dead[0].end());
  CAF_CHECK_NOT_EQUAL((reason + 1)->find("WRONGTYPE"), std::string::npos);
}

CAF_TEST(a script refused as a whole is sent again entry by entry) {
  fill(5);
  callbacks->add([](const stream_entry& e, effects& fx) { fx.hincrby("counter", "total", 1); });
  data->script_cached = true;
  data->script_errors = 1;
  auto opts = options(8);
  opts.ack_batch = 100;
  start(opts);
  flush();
  flush();
  CAF_CHECK_EQUAL(data->acked.size(), 5u);
  CAF_CHECK_EQUAL(metrics->effects_applied.load(), 5u);
  CAF_CHECK_EQUAL(metrics->effect_script_failures.load(), 1u);
  // The refused batch, then one script per entry (each gets its own answer).
  auto scripts = data->commands("EVALSHA");
  CAF_CHECK_GREATER_OR_EQUAL(scripts.size(), 6u);
  CAF_CHECK_EQUAL(scripts.back().argv[10], "1");
}

CAF_TEST(a staging mistake dead - letters the entry at once) {
  fill(2);
  callbacks->add([](const stream_entry& e, effects& fx) {
    if (*e.find("seq") == "0")
      fx.command({"SADD", "undeclared", "x"});
    else
      fx.hincrby("counter", "total", 1);
  });
  start(options(2));
  flush();
  CAF_REQUIRE_EQUAL(data->dead.size(), 1u);
  CAF_CHECK_EQUAL(data->dead[0][6], "1000-0");
  CAF_CHECK_EQUAL(applied_ids(*data), (std::vector<std::string>{"1001-0"}));
}

CAF_TEST(effects of a remote worker pool travel in the relay batches) {
  fill(40);
  callbacks->add([](const stream_entry& e, effects& fx) { fx.hincrby("counter", "total", 1); });
  start(options(8), true); // workers behind an ack relay, as on another node
  flush();
  flush();
  CAF_CHECK_EQUAL(data->acked.size(), 40u);
  CAF_CHECK_EQUAL(data->applied.size(), 40u);
  CAF_CHECK_EQUAL(metrics->effects_applied.load(), 40u);
  CAF_CHECK(data->commands("XACK").empty());
}

CAF_TEST(entries waiting for a slow script hold credits beyond a pool of them) {
  fill(100);
  callbacks->add([](const stream_entry& e, effects& fx) { fx.hincrby("counter", "total", 1); });
  data->script_cached = true;
  data->hold_scripts = true;
  start(options(4));
  flush();
  // 4 in the script Redis sits on, 4 more waiting for the next one: then no
  // read, however many workers are idle.
  CAF_CHECK_EQUAL(data->held_scripts.size(), 1u);
  CAF_CHECK_EQUAL(data->handed_out, 8u);
  CAF_CHECK_EQUAL(metrics->idle_workers.load(), 4u); // idle, and yet no read
  data->hold_scripts = false;
  for (int i = 0; i < 50 && data->acked.size() < 100; ++i) {
    caf::anon_send(conn, scripts_atom::value);
    consume_messages();
    flush();
  }
  CAF_CHECK_EQUAL(data->acked.size(), 100u);
  CAF_CHECK_EQUAL(metrics->effects_applied.load(), 100u);
}

CAF_TEST_FIXTURE_SCOPE_END()
