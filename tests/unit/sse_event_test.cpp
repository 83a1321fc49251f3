#define CAF_SUITE sse_event
#include <rill/runtime/http_credentials.hpp>
#include <rill/runtime/http_server.hpp>
#include <rill/runtime/sse_event.hpp>

#include <caf/test/dsl.hpp>

using namespace rill;

namespace {

stream_entry entry(std::string id, std::vector<std::string> fields) {
  stream_entry e;
  e.id = std::move(id);
  e.fields = std::move(fields);
  return e;
}

} // namespace

CAF_TEST(an_entry_is_one_event_with_its_id_its_name_and_its_fields_as_one_json_line) {
  auto text = sse_event(entry("5-1", {"event", "token", "text", "a\nb"}), "event");
  CAF_CHECK_EQUAL(text,
                  "id: 5-1\nevent: token\ndata: {\"event\":\"token\",\"text\":\"a\\nb\"}\n\n");
}

CAF_TEST(without_the_event_field_an_entry_is_a_message_event) {
  auto text = sse_event(entry("1-0", {"n", "1"}), "event");
  CAF_CHECK_EQUAL(text, "id: 1-0\nevent: message\ndata: {\"n\":\"1\"}\n\n");
  CAF_CHECK_EQUAL(sse_event(entry("1-0", {"event", "\r\n"}), "event").find("event: message\n"), 8u);
}

CAF_TEST(line_breaks_in_the_event_name_are_removed_so_it_cannot_forge_lines) {
  auto text = sse_event(entry("1-0", {"kind", "a\r\nid: 9-9\ndata: x"}), "kind");
  CAF_CHECK_EQUAL(text.substr(0, 39), "id: 1-0\nevent: aid: 9-9data: x\ndata: {\"");
  CAF_CHECK_EQUAL(std::count(text.begin(), text.end(), '\n'), 4);
}

CAF_TEST(repeated_field_names_keep_every_value_in_order) {
  auto text = sse_event(entry("1-0", {"a", "1", "b", "x", "a", "2", "a", "3"}), "");
  CAF_CHECK_EQUAL(text,
                  "id: 1-0\nevent: message\ndata: {\"a\":[\"1\",\"2\",\"3\"],\"b\":\"x\"}\n\n");
}

CAF_TEST(values_and_names_that_are_not_utf8_are_replaced_and_flagged_with_their_base64) {
  auto text = sse_event(entry("1-0", {"v", std::string{"ok\xff", 3}, "n\xfe", "1"}), "");
  CAF_CHECK_EQUAL(text,
                  "id: 1-0\nevent: message\ndata: {\"v\":\"ok\xef\xbf\xbd\",\"v_base64\":"
                  "\"b2v/\",\"n\xef\xbf\xbd_name_base64\":\"bv4=\",\"n\xef\xbf\xbd\":\"1\"}\n\n");
}

CAF_TEST(utf8_validation) {
  CAF_CHECK(valid_utf8("plain"));
  CAF_CHECK(valid_utf8("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"));
  CAF_CHECK(!valid_utf8("\xc0\xaf"));         // overlong
  CAF_CHECK(!valid_utf8("\xed\xa0\x80"));     // surrogate
  CAF_CHECK(!valid_utf8("\xe2\x82"));         // cut short
  CAF_CHECK(!valid_utf8("\xf4\x90\x80\x80")); // past U+10FFFF
}

CAF_TEST(gap_events_carry_no_id) {
  CAF_CHECK_EQUAL(sse_gap_event("1-0", "7-0"),
                  "event: gap\ndata: {\"after\":\"1-0\",\"first_available\":\"7-0\"}\n\n");
}

CAF_TEST(tokens_come_from_a_bearer_header_a_cookie_or_the_query) {
  http_request req;
  CAF_CHECK(!carries_token(req, "t0k", "access_token", "rill_token"));
  req.authorization = "Bearer t0k";
  CAF_CHECK(carries_token(req, "t0k", "access_token", "rill_token"));
  req.authorization = "Bearer t0K";
  CAF_CHECK(!carries_token(req, "t0k", "access_token", "rill_token"));
  req.cookie = "a=1; rill_token=t0k; b=2";
  CAF_CHECK(carries_token(req, "t0k", "access_token", "rill_token"));
  CAF_CHECK(!carries_token(req, "t0k", "access_token"));
  req.cookie.clear();
  req.query = "last_id=1-0&access_token=t%30k";
  CAF_CHECK(carries_token(req, "t0k", "access_token", "rill_token"));
  CAF_CHECK_EQUAL(query_value(req.query, "last_id"), "1-0");
  CAF_CHECK(!percent_decoded("%4").has_value());
  CAF_CHECK(!percent_decoded("%zz").has_value());
  CAF_CHECK_EQUAL(*percent_decoded("a%2Fb%00"), std::string("a/b\0", 4));
}
