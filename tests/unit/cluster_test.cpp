#define CAF_SUITE cluster
#include <rill/actors/redis/cluster_map.hpp>
#include <rill/actors/redis/key_slot.hpp>
#include <rill/actors/redis/stream_commands.hpp>
#include <rill/runtime/config.hpp>
#include <rill/runtime/redis_topology.hpp>

#include <caf/test/unit_test.hpp>

using namespace rill;

namespace {

redis_reply node(const std::string& host, int64_t port) {
  return redis_reply::array(
    {redis_reply::string(host), redis_reply::number(port), redis_reply::string("id")});
}

redis_reply row(int64_t first, int64_t last, std::vector<redis_reply> nodes) {
  std::vector<redis_reply> elems{redis_reply::number(first), redis_reply::number(last)};
  for (auto& n : nodes)
    elems.push_back(std::move(n));
  return redis_reply::array(std::move(elems));
}

uint16_t port_of(const cluster_map& map, uint16_t slot) {
  auto master = map.master_of(slot);
  return master ? master->port : 0;
}

} // namespace

// Expected slots from a redis-server 7.0 in cluster mode (CLUSTER KEYSLOT).
CAF_TEST(key slots match the server including every hash tag rule) {
  CAF_CHECK_EQUAL(crc16("123456789"), uint16_t{0x31C3});
  CAF_CHECK_EQUAL(key_slot("foo"), 12182);
  CAF_CHECK_EQUAL(key_slot("bar"), 5061);
  CAF_CHECK_EQUAL(key_slot("hello"), 866);
  CAF_CHECK_EQUAL(key_slot(""), 0);
  CAF_CHECK_EQUAL(key_slot("{user1000}.following"), 3443);
  CAF_CHECK_EQUAL(key_slot("{user1000}.followers"), 3443);
  CAF_CHECK_EQUAL(key_slot("foo{}{bar}"), 8363);    // "{}": the whole key
  CAF_CHECK_EQUAL(key_slot("foo{{bar}}zap"), 4015); // the tag is "{bar"
  CAF_CHECK_EQUAL(key_slot("{bar"), 4015);          // no closing brace: all of it
  CAF_CHECK_EQUAL(key_slot("foo{bar}{zap}"), 5061); // the first tag only
  CAF_CHECK_EQUAL(key_slot("a{}b"), 13694);
  CAF_CHECK_EQUAL(key_slot("{a{}b}:dead"), 14311);
  CAF_CHECK_EQUAL(key_slot("orders"), 105);
}

CAF_TEST(derived keys share the stream slot and a stray brace is caught) {
  CAF_CHECK_EQUAL(default_dead_letter_stream("orders", false), "orders:dead");
  CAF_CHECK_EQUAL(default_dead_letter_stream("orders", true), "{orders}:dead");
  CAF_CHECK_EQUAL(default_dead_letter_stream("{orders}:eu", true), "{orders}:eu:dead");
  CAF_CHECK_EQUAL(key_slot("{orders}:eu:dead"), key_slot("{orders}:eu"));
  CAF_CHECK_EQUAL(name_lease_key("orders", "g", "c"), "rill:owner:{orders}:g:c");
  CAF_CHECK_EQUAL(name_lease_key("{orders}:eu", "g", "c"), "rill:owner:{orders}:eu:g:c");
  CAF_CHECK_EQUAL(key_slot(name_lease_key("{orders}:eu", "g", "c")), 105);
  // Braces that do not form a tag: wrapping does not help, the runtime
  // refuses such a default (redis_topology::dead_letter_stream).
  CAF_CHECK_NOT_EQUAL(key_slot(default_dead_letter_stream("a{}b", true)), key_slot("a{}b"));
}

CAF_TEST(commands route by their key wherever the command keeps it) {
  auto key = [](std::initializer_list<std::string_view> args) {
    auto k = routing_key(make_command(args));
    return k ? std::string{*k} : std::string{"<none>"};
  };
  CAF_CHECK_EQUAL(key({"XADD", "s", "*", "f", "v"}), "s");
  CAF_CHECK_EQUAL(key({"XACK", "s", "g", "1-1"}), "s");
  CAF_CHECK_EQUAL(
    key({"XREADGROUP", "GROUP", "g", "c", "COUNT", "5", "BLOCK", "100", "STREAMS", "s", ">"}), "s");
  CAF_CHECK_EQUAL(key({"xread", "count", "1", "streams", "t", "0"}), "t");
  CAF_CHECK_EQUAL(key({"XGROUP", "CREATE", "s", "g", "0", "MKSTREAM"}), "s");
  CAF_CHECK_EQUAL(key({"XINFO", "GROUPS", "s"}), "s");
  CAF_CHECK_EQUAL(key({"EVAL", "return 1", "2", "s", "{s}:dead", "g"}), "s");
  CAF_CHECK_EQUAL(key({"EVAL", "return 1", "0"}), "<none>");
  CAF_CHECK_EQUAL(key({"PING"}), "<none>");
  CAF_CHECK_EQUAL(key({"CLUSTER", "SLOTS"}), "<none>");
  CAF_CHECK_EQUAL(key({"SCAN", "0"}), "<none>");
  auto unblock = client_unblock(7, "orders");
  CAF_CHECK_EQUAL(std::string{*routing_key(unblock)}, "orders");
}

CAF_TEST(redirects and retryable errors are told apart) {
  auto moved = parse_redirect("MOVED 3999 127.0.0.1:6381", "10.0.0.1");
  CAF_REQUIRE(moved);
  CAF_CHECK(!moved->ask);
  CAF_CHECK_EQUAL(moved->slot, 3999);
  CAF_CHECK_EQUAL(moved->to.host, "127.0.0.1");
  CAF_CHECK_EQUAL(moved->to.port, 6381);
  auto ask = parse_redirect("ASK 12 :7002", "10.0.0.1");
  CAF_REQUIRE(ask);
  CAF_CHECK(ask->ask);
  CAF_CHECK_EQUAL(ask->to.host, "10.0.0.1"); // empty: the node that answered
  CAF_CHECK_EQUAL(ask->to.port, 7002);
  auto v6 = parse_redirect("MOVED 1 [::1]:7000", "x");
  CAF_REQUIRE(v6);
  CAF_CHECK_EQUAL(v6->to.host, "::1");
  CAF_CHECK(!parse_redirect("MOVED 99999 h:1", "x"));
  CAF_CHECK(!parse_redirect("MOVED 1 h", "x"));
  CAF_CHECK(!parse_redirect("ERR MOVED 1 h:1", "x"));
  CAF_CHECK(retry_after_refresh("TRYAGAIN Multiple keys request during rehashing of slot"));
  CAF_CHECK(retry_after_refresh("CLUSTERDOWN The cluster is down"));
  CAF_CHECK(retry_after_refresh("UNBLOCKED the stream key no longer exists"));
  CAF_CHECK(retry_after_refresh("READONLY You can't write against a read only replica."));
  CAF_CHECK(!retry_after_refresh("WRONGTYPE Operation against a key"));
}

CAF_TEST(the slot map follows CLUSTER SLOTS and MOVED) {
  auto reply = redis_reply::array({row(0, 5460, {node("127.0.0.1", 7000), node("127.0.0.1", 7003)}),
                                   row(5461, 10922, {node("", 7001)}),
                                   row(10923, 16383, {node("?", 7002)})});
  auto ranges = parse_cluster_slots(reply, "10.0.0.9");
  CAF_REQUIRE(ranges);
  CAF_REQUIRE_EQUAL(ranges->size(), 2u); // the "?" master is left out
  CAF_CHECK_EQUAL((*ranges)[1].master.host, "10.0.0.9");
  cluster_map map;
  CAF_CHECK(map.empty());
  map.replace(*ranges);
  auto v1 = map.version();
  CAF_CHECK_EQUAL(port_of(map, 5460), 7000);
  CAF_CHECK_EQUAL(port_of(map, 5461), 7001);
  CAF_CHECK(!map.master_of(16383));
  CAF_CHECK_EQUAL(map.masters().size(), 2u);
  CAF_CHECK_EQUAL(map.nodes().size(), 3u); // with the replica
  map.replace(*ranges);
  CAF_CHECK_EQUAL(map.version(), v1); // nothing changed
  map.moved(100, redis_endpoint{"127.0.0.1", 7001});
  CAF_CHECK_EQUAL(port_of(map, 100), 7001);
  CAF_CHECK_EQUAL(port_of(map, 101), 7000);
  CAF_CHECK_GREATER(map.version(), v1);
  CAF_CHECK(!parse_cluster_slots(redis_reply::string("x"), "h"));
  CAF_CHECK(!parse_cluster_slots(redis_reply::array({row(5, 2, {node("h", 1)})}), "h"));
}

CAF_TEST(several redis addresses are cluster seeds) {
  redis_options r;
  CAF_REQUIRE(!parse_seeds("10.0.0.1:7000,[::1]:7001,h:7002", r));
  CAF_CHECK_EQUAL(r.host, "10.0.0.1");
  CAF_CHECK_EQUAL(r.port, 7000);
  CAF_REQUIRE_EQUAL(r.seeds.size(), 2u);
  CAF_CHECK_EQUAL(r.seeds[0].host, "::1");
  CAF_CHECK_EQUAL(r.seeds[1].port, 7002);
  CAF_CHECK(parse_seeds("h:1,", r));
  CAF_CHECK(parse_seeds("h:1,,h:2", r));
}
