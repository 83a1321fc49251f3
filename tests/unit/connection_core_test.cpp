#define CAF_SUITE connection_core
#include <rill/actors/redis/connection_core.hpp>

#include <rill/actors/error.hpp>

#include <caf/test/unit_test.hpp>

#include <string>
#include <vector>

using namespace rill;
using namespace std::chrono_literals;
using clock_type = connection_core::clock_type;

namespace {

/// Records what the core puts out, as the connection actor would act on it.
struct recorder : connection_core::sink {
  std::vector<char> bytes;
  std::vector<connection_core::answer> answers;
  std::vector<int64_t> ups;
  std::vector<caf::error> downs;

  std::vector<char>& wire() override { return bytes; }
  void answer(connection_core::answer&& x) override { answers.push_back(std::move(x)); }
  void up(int64_t id) override { ups.push_back(id); }
  void down(const caf::error& err, caf::timespan) override { downs.push_back(err); }

  /// The bytes written since the last call, as text.
  std::string take() {
    std::string s(bytes.begin(), bytes.end());
    bytes.clear();
    return s;
  }
};

std::string resp(const redis_command& cmd) {
  std::vector<char> buf;
  encode(cmd, buf);
  return {buf.begin(), buf.end()};
}

/// The replies to CLIENT SETNAME (the default options name the client),
/// CONFIG GET proto-max-bulk-len and CLIENT ID.
const std::string handshake_done = "+OK\r\n*2\r\n$18\r\nproto-max-bulk-len\r\n$3\r\n100\r\n:42\r\n";

struct fixture {
  redis_options opts;
  recorder out;
  clock_type::time_point t0 = clock_type::time_point{} + 1h;

  fixture() {
    opts.request_timeout = 2s;
    opts.connect_timeout = 1s;
  }

  void feed(connection_core& core, const std::string& text, size_t chunk = 1) {
    for (size_t i = 0; i < text.size(); i += chunk)
      core.received(text.data() + i, std::min(chunk, text.size() - i));
  }

  sec code(size_t i) const {
    auto* err = std::get_if<caf::error>(&out.answers.at(i));
    return err != nullptr ? code_of(*err) : sec::none;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(connection_core_tests, fixture)

CAF_TEST(the handshake goes first and requests wait behind it until CLIENT ID answers) {
  opts.user = "app";
  opts.password = "s3cret";
  opts.db = 2;
  opts.client_name = "rill-test";
  connection_core core{opts, out};
  core.connecting(t0);
  CAF_CHECK(core.current() == connection_core::phase::connecting);
  CAF_CHECK_EQUAL(out.take(), resp(make_command({"AUTH", "app", "s3cret"}))
                                + resp(make_command({"SELECT", "2"}))
                                + resp(make_command({"CLIENT", "SETNAME", "rill-test"}))
                                + resp(make_command({"CONFIG", "GET", "proto-max-bulk-len"}))
                                + resp(make_command({"CLIENT", "ID"})));
  CAF_CHECK(!core.refuse(make_command({"PING"}))); // admitted while connecting...
  core.submit(make_command({"PING"}), t0);
  CAF_CHECK_EQUAL(out.take(), ""); // ...but held, not on the socket
  feed(core, "+OK\r\n+OK\r\n" + handshake_done);
  CAF_CHECK(core.current() == connection_core::phase::ready);
  CAF_REQUIRE_EQUAL(out.ups.size(), 1u);
  CAF_CHECK_EQUAL(out.ups[0], 42);
  CAF_CHECK_EQUAL(out.take(), resp(make_command({"PING"}))); // released now
  CAF_CHECK_EQUAL(core.max_bulk(), 100u);
  feed(core, "+PONG\r\n");
  CAF_REQUIRE_EQUAL(out.answers.size(), 1u);
  CAF_CHECK_EQUAL(std::get<redis_reply>(out.answers[0]).str, "PONG");
}

CAF_TEST(replies match requests first in first out in any chunking) {
  connection_core core{opts, out};
  core.connecting(t0);
  feed(core, handshake_done);
  out.take();
  core.submit(make_command({"GET", "a"}), t0);
  core.submit(std::vector<redis_command>{make_command({"INCR", "n"}), make_command({"LPOP", "n"})},
              t0);
  core.submit(make_command({"XADD", "s"}), t0);
  feed(core, "$1\r\nA\r\n:1\r\n-WRONGTYPE Operation against a key\r\n-ERR wrong number\r\n", 3);
  CAF_REQUIRE_EQUAL(out.answers.size(), 3u);
  CAF_CHECK_EQUAL(std::get<redis_reply>(out.answers[0]).str, "A");
  auto& pipe = std::get<std::vector<redis_reply>>(out.answers[1]);
  CAF_REQUIRE_EQUAL(pipe.size(), 2u); // error replies stay in a pipeline
  CAF_CHECK_EQUAL(pipe[0].integer, 1);
  CAF_CHECK(pipe[1].is_error());
  CAF_CHECK(code(2) == sec::reply_error); // a single request's error reply is an error
  CAF_CHECK_EQUAL(core.pending(), 0u);
  feed(core, "+OK\r\n"); // nobody asked: the stream is out of step
  CAF_REQUIRE_EQUAL(out.downs.size(), 1u);
  CAF_CHECK(code_of(out.downs[0]) == sec::protocol_error);
}

CAF_TEST(a request past its deadline closes the connection and fails everything pending) {
  connection_core core{opts, out};
  core.connecting(t0);
  feed(core, handshake_done);
  auto blocking = make_command({"XREADGROUP", "BLOCK", "5000"});
  blocking.blocks_for = 5s;
  core.submit(blocking, t0);
  core.submit(make_command({"PING"}), t0);
  CAF_REQUIRE(core.next_deadline());
  CAF_CHECK(*core.next_deadline() == t0 + 7s); // request_timeout + BLOCK
  core.check_deadline(t0 + 6s);
  CAF_CHECK(out.downs.empty());
  core.check_deadline(t0 + 7s);
  CAF_REQUIRE_EQUAL(out.downs.size(), 1u);
  CAF_CHECK(code_of(out.downs[0]) == sec::request_timeout);
  CAF_CHECK(is_unreachable(out.downs[0]));
  CAF_REQUIRE_EQUAL(out.answers.size(), 2u);
  CAF_CHECK(code(0) == sec::connection_lost); // sent: it may have run
  CAF_CHECK(code(1) == sec::connection_lost);
  CAF_CHECK(core.current() == connection_core::phase::down);
  CAF_CHECK(code_of(core.refuse(make_command({"PING"}))) == sec::redis_unavailable);
  core.check_deadline(t0 + 1h); // down: nothing more
  CAF_CHECK_EQUAL(out.downs.size(), 1u);
}

CAF_TEST(a lost connection while connecting fails held requests as not sent and reconnects) {
  connection_core core{opts, out};
  core.connecting(t0);
  core.submit(make_command({"PING"}), t0);
  // The oldest pending request is a handshake step: request + connect timeout.
  CAF_CHECK(*core.next_deadline() == t0 + 3s);
  core.close(make_error(sec::connect_failed, "cannot connect"));
  CAF_REQUIRE_EQUAL(out.answers.size(), 1u);
  CAF_CHECK(code(0) == sec::redis_unavailable);         // never written: safe to retry
  core.close(make_error(sec::connect_failed, "again")); // down already: ignored
  CAF_CHECK_EQUAL(out.downs.size(), 1u);
  out.take();
  core.connecting(t0 + 1s); // the reconnect: a fresh handshake, fresh decoder
  CAF_CHECK_EQUAL(out.take(), resp(make_command({"CLIENT", "SETNAME", opts.client_name}))
                                + resp(make_command({"CONFIG", "GET", "proto-max-bulk-len"}))
                                + resp(make_command({"CLIENT", "ID"})));
  feed(core, handshake_done);
  CAF_CHECK_EQUAL(out.ups.size(), 1u);
}

CAF_TEST(a refused password closes with auth_failed and later requests say so) {
  opts.password = "wrong";
  connection_core core{opts, out};
  core.connecting(t0);
  feed(core, "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
  CAF_REQUIRE_EQUAL(out.downs.size(), 1u);
  CAF_CHECK(code_of(out.downs[0]) == sec::auth_failed);
  CAF_CHECK(is_refusal(out.downs[0]));
  CAF_CHECK(out.ups.empty());
  auto err = core.refuse(make_command({"PING"}));
  CAF_CHECK(code_of(err) == sec::auth_failed);                 // not a generic "unavailable"
  CAF_CHECK(describe(err).find("wrong") == std::string::npos); // no secret in the text
}

CAF_TEST(requests are refused beyond max_queued and above proto max bulk len) {
  connection_core core{opts, out};
  core.connecting(t0);
  feed(core, "+OK\r\n-NOPERM this user has no permissions to run the 'config' command\r\n:7\r\n");
  CAF_CHECK_EQUAL(core.max_bulk(), 512u << 20); // a refused probe keeps the default
  CAF_CHECK_EQUAL(out.ups.size(), 1u);
  opts.max_queued = 3;
  connection_core small{opts, out};
  small.connecting(t0);
  feed(small, handshake_done);
  CAF_CHECK(code_of(small.refuse(make_command({"SET", "k", std::string(101, 'x')})))
            == sec::invalid_argument);
  CAF_CHECK(!small.refuse(make_command({"SET", "k", std::string(100, 'x')})));
  for (int i = 0; i < 3; ++i)
    small.submit(make_command({"PING"}), t0);
  CAF_CHECK(code_of(small.refuse(make_command({"PING"}))) == sec::backpressure);
  CAF_CHECK_EQUAL(small.pending(), 3u);
  CAF_CHECK(!is_unreachable(small.refuse(make_command({"PING"}))));
}

namespace {

/// Sentinel mode: the handshake's replies up to ROLE (SETNAME, the probe).
const std::string before_role = "+OK\r\n*2\r\n$18\r\nproto-max-bulk-len\r\n$3\r\n100\r\n";
const std::string role_master = "*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n";
const std::string role_replica
  = "*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n:6379\r\n$9\r\nconnected\r\n:0\r\n";

} // namespace

CAF_TEST(with sentinels the handshake asks ROLE and a replica is left at once) {
  opts.sentinels = {redis_endpoint{"127.0.0.1", 26379}};
  opts.sentinel_master = "m";
  connection_core core{opts, out};
  core.connecting(t0);
  CAF_CHECK_EQUAL(out.take(), resp(make_command({"CLIENT", "SETNAME", "rill"}))
                                + resp(make_command({"CONFIG", "GET", "proto-max-bulk-len"}))
                                + resp(make_command({"ROLE"}))
                                + resp(make_command({"CLIENT", "ID"})));
  core.submit(make_command({"PING"}), t0);
  feed(core, before_role + role_replica);
  CAF_REQUIRE_EQUAL(out.downs.size(), 1u); // the sentinels' answer was stale
  CAF_CHECK(code_of(out.downs[0]) == sec::redis_unavailable);
  CAF_CHECK(describe(out.downs[0]).find("is a slave, not a master") != std::string::npos);
  CAF_CHECK(out.ups.empty());
  CAF_REQUIRE_EQUAL(out.answers.size(), 1u); // the held PING never ran there
  CAF_CHECK(is_unreachable(std::get<caf::error>(out.answers[0])));
  core.connecting(t0 + 1s);
  out.take();
  feed(core, before_role + role_master + ":7\r\n");
  CAF_REQUIRE_EQUAL(out.ups.size(), 1u);
  CAF_CHECK_EQUAL(out.ups[0], 7);
  core.connecting(t0 + 2s); // an ACL user without ROLE cannot tell: it stands
  feed(core, before_role + "-NOPERM no permission for 'role'\r\n:8\r\n");
  CAF_CHECK_EQUAL(out.ups.size(), 2u);
}

CAF_TEST(with sentinels a READONLY reply closes the connection to ask them again) {
  opts.sentinels = {redis_endpoint{"127.0.0.1", 26379}};
  opts.sentinel_master = "m";
  connection_core core{opts, out};
  core.connecting(t0);
  feed(core, before_role + role_master + ":7\r\n");
  core.submit(make_command({"XACK", "s", "g", "1-1"}), t0);
  core.submit(make_command({"GET", "k"}), t0);
  feed(core, "-READONLY You can't write against a read only replica.\r\n");
  CAF_REQUIRE_EQUAL(out.downs.size(), 1u);
  CAF_CHECK(code_of(out.downs[0]) == sec::redis_unavailable);
  CAF_CHECK(describe(out.downs[0]).find("asking the sentinels again") != std::string::npos);
  CAF_REQUIRE_EQUAL(out.answers.size(), 2u); // both fail as unreachable: retried elsewhere
  CAF_CHECK(is_unreachable(std::get<caf::error>(out.answers[0])));
  CAF_CHECK(is_unreachable(std::get<caf::error>(out.answers[1])));
  opts.sentinels.clear(); // without sentinels READONLY is the caller's error reply
  connection_core plain{opts, out};
  plain.connecting(t0);
  feed(plain, handshake_done);
  plain.submit(make_command({"XACK", "s", "g", "1-1"}), t0);
  feed(plain, "-READONLY You can't write against a read only replica.\r\n");
  CAF_CHECK_EQUAL(out.downs.size(), 1u);
  CAF_CHECK(code(2) == sec::reply_error);
}

CAF_TEST(after SUBSCRIBE messages are pushes and replies still match requests) {
  struct pushes : recorder {
    std::vector<redis_reply> got;
    void push(redis_reply&& msg) override { got.push_back(std::move(msg)); }
  } sub;
  connection_core core{opts, sub};
  core.connecting(t0);
  core.received(handshake_done.data(), handshake_done.size());
  auto message = std::string{"*3\r\n$7\r\nmessage\r\n$14\r\n+switch-master\r\n$5\r\nm a b\r\n"};
  core.submit(make_command({"SUBSCRIBE", "+switch-master"}), t0);
  auto replies = "*3\r\n$9\r\nsubscribe\r\n$14\r\n+switch-master\r\n:1\r\n" + message;
  core.received(replies.data(), replies.size());
  CAF_REQUIRE_EQUAL(sub.answers.size(), 1u); // the subscription's confirmation
  CAF_REQUIRE_EQUAL(sub.got.size(), 1u);
  CAF_CHECK_EQUAL(sub.got[0].elements[2].str, "m a b");
  core.submit(make_command({"PING"}), t0);
  auto pong = message + "*2\r\n$4\r\npong\r\n$0\r\n\r\n";
  core.received(pong.data(), pong.size());
  CAF_CHECK_EQUAL(sub.got.size(), 2u);
  CAF_REQUIRE_EQUAL(sub.answers.size(), 2u);
  CAF_CHECK_EQUAL(std::get<redis_reply>(sub.answers[1]).elements[0].str, "pong");
  CAF_CHECK(sub.downs.empty());
}

CAF_TEST_FIXTURE_SCOPE_END()
