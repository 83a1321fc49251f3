#define CAF_SUITE protocol
#include <rill/actors/error.hpp>
#include <rill/actors/redis/command.hpp>
#include <rill/actors/redis/reply_reader.hpp>
#include <rill/actors/stream_entry.hpp>

#include <caf/test/unit_test.hpp>

#include <hiredis/hiredis.h>

using namespace rill;

namespace {

std::vector<redis_reply> decode_all(const std::string& bytes, size_t chunk) {
  reply_reader reader;
  std::vector<redis_reply> out;
  for (size_t i = 0; i < bytes.size(); i += chunk) {
    reader.feed(bytes.data() + i, std::min(chunk, bytes.size() - i));
    redis_reply r;
    for (;;) {
      auto got = reader.next(r);
      CAF_REQUIRE(got);
      if (!*got)
        break;
      out.push_back(std::move(r));
    }
  }
  return out;
}

} // namespace

CAF_TEST(the reader decodes every RESP2 type in any chunking) {
  using namespace std::string_literals;
  auto bytes = "+OK\r\n-WRONGTYPE bad\r\n:42\r\n$-1\r\n$5\r\na\0b\r\n\r\n"
               "*2\r\n*1\r\n$1\r\nx\r\n*-1\r\n*0\r\n"s;
  for (size_t chunk : {1u, 3u, 1000u}) {
    auto replies = decode_all(bytes, chunk);
    CAF_REQUIRE_EQUAL(replies.size(), 7u);
    CAF_CHECK_EQUAL(replies[0], redis_reply::status("OK"));
    CAF_CHECK_EQUAL(replies[1], redis_reply::error("WRONGTYPE bad"));
    CAF_CHECK_EQUAL(replies[2], redis_reply::number(42));
    CAF_CHECK(replies[3].is_nil());
    CAF_CHECK_EQUAL(replies[4].str, std::string("a\0b\r\n", 5));
    CAF_CHECK_EQUAL(replies[5], redis_reply::array(
                                  {redis_reply::array({redis_reply::string("x")}), redis_reply{}}));
    CAF_CHECK_EQUAL(replies[6], redis_reply::array({}));
  }
}

CAF_TEST(the reader reports bytes that are not RESP) {
  reply_reader reader;
  reader.feed("?garbage\r\n", 10);
  redis_reply r;
  auto got = reader.next(r);
  CAF_REQUIRE(!got);
  CAF_CHECK_EQUAL(code_of(got.error()), sec::protocol_error);
}

CAF_TEST(commands are encoded binary safe and decode back identically) {
  std::string binary("\0\xff\r\n$*", 6);
  std::string big(1 << 20, 'v');
  auto cmd = make_command({"XADD", "s", "*", "bin", binary, "big", big});
  std::vector<char> buf;
  encode(cmd, buf);
  // A request is an array of bulk strings: the reply reader parses it too.
  auto decoded = decode_all(std::string{buf.begin(), buf.end()}, 4096);
  CAF_REQUIRE_EQUAL(decoded.size(), 1u);
  CAF_REQUIRE_EQUAL(decoded[0].elements.size(), cmd.argv.size());
  for (size_t i = 0; i < cmd.argv.size(); ++i)
    CAF_CHECK(decoded[0].elements[i].str == cmd.argv[i]);
  // Byte for byte what hiredis makes (rill encodes without it).
  std::vector<const char*> ptrs;
  std::vector<size_t> lens;
  for (const auto& a : cmd.argv) {
    ptrs.push_back(a.data());
    lens.push_back(a.size());
  }
  char* theirs = nullptr;
  auto len
    = redisFormatCommandArgv(&theirs, static_cast<int>(ptrs.size()), ptrs.data(), lens.data());
  CAF_REQUIRE_GREATER(len, 0);
  CAF_CHECK(std::string(theirs, static_cast<size_t>(len)) == std::string(buf.begin(), buf.end()));
  redisFreeCommand(theirs);
  std::vector<char> empty_arg;
  encode(make_command({"PING", ""}), empty_arg);
  CAF_CHECK_EQUAL(std::string(empty_arg.begin(), empty_arg.end()),
                  "*2\r\n$4\r\nPING\r\n$0\r\n\r\n");
}

CAF_TEST(describe never shows AUTH arguments) {
  auto text = describe(make_command({"AUTH", "alice", "s3cret"}));
  CAF_CHECK_EQUAL(text.find("s3cret"), std::string::npos);
  CAF_CHECK_EQUAL(text.find("alice"), std::string::npos);
  CAF_CHECK_EQUAL(describe(make_command({"xack", "s", "g", "1-1"})), "XACK s g 1-1");
}

CAF_TEST(read replies parse into entries and deleted ids) {
  using r = redis_reply;
  auto reply = r::array({r::array(
    {r::string("s"),
     r::array({r::array({r::string("1-1"), r::array({r::string("seq"), r::string("7")})}),
               r::array({r::string("1-2"), r{}}),
               r::array({r::string("1-3"), r::array({r::string("a"), r::string("")})})})})});
  auto batch = parse_read_reply(std::move(reply));
  CAF_REQUIRE(batch);
  CAF_REQUIRE_EQUAL(batch->entries.size(), 2u);
  CAF_CHECK_EQUAL(batch->entries[0].id, "1-1");
  CAF_CHECK_EQUAL(*batch->entries[0].find("seq"), "7");
  CAF_CHECK(batch->entries[0].find("nope") == nullptr);
  CAF_CHECK_EQUAL(*batch->entries[1].find("a"), "");
  CAF_CHECK_EQUAL(batch->deleted_ids, std::vector<std::string>{"1-2"});
  CAF_CHECK(parse_read_reply(r{})->entries.empty()); // BLOCK timed out
}

CAF_TEST(malformed read replies are errors not crashes) {
  using r = redis_reply;
  for (auto bad : {r::number(1), r::array({r::string("s")}),
                   r::array({r::array(
                     {r::string("s"),
                      r::array({r::array({r::string("1-1"), r::array({r::string("odd")})})})})})}) {
    auto batch = parse_read_reply(std::move(bad));
    CAF_REQUIRE(!batch);
    CAF_CHECK_EQUAL(code_of(batch.error()), sec::unexpected_reply);
  }
}

CAF_TEST(stream ids compare numerically) {
  CAF_CHECK_LESS(compare_ids("9-0", "10-0"), 0);
  CAF_CHECK_LESS(compare_ids("10-2", "10-10"), 0);
  CAF_CHECK_EQUAL(compare_ids("5-5", "5-5"), 0);
  CAF_CHECK_GREATER(compare_ids("1-0", "0"), 0);
}

CAF_TEST(error replies map to specific codes) {
  CAF_CHECK_EQUAL(code_of(error_from_reply("WRONGTYPE Operation against a key")), sec::wrong_type);
  CAF_CHECK_EQUAL(code_of(error_from_reply("NOGROUP No such key")), sec::no_group);
  CAF_CHECK_EQUAL(code_of(error_from_reply("NOPERM this user has no permissions")),
                  sec::no_permission);
  CAF_CHECK_EQUAL(code_of(error_from_reply("WRONGPASS invalid username-password pair")),
                  sec::auth_failed);
  CAF_CHECK_EQUAL(code_of(error_from_reply("ERR syntax error")), sec::reply_error);
  CAF_CHECK_EQUAL(describe(make_error(sec::wrong_type, "WRONGTYPE x")),
                  "rill::sec::wrong_type: WRONGTYPE x");
}
