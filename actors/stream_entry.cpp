#include <rill/actors/stream_entry.hpp>

#include <rill/actors/error.hpp>

#include <charconv>

namespace rill {

const std::string* stream_entry::find(std::string_view name) const noexcept {
  for (size_t i = 0; i + 1 < fields.size(); i += 2)
    if (fields[i] == name)
      return &fields[i + 1];
  return nullptr;
}

namespace {

caf::error bad_reply(const char* what, const redis_reply& reply) {
  return make_error(sec::unexpected_reply,
                    std::string{"stream read reply: "} + what + ": " + to_string(reply));
}

/// Appends `[[id, [f, v, ...] | nil], ...]` to `result`.
caf::error append_entries(redis_reply& entries, read_batch& result) {
  if (entries.is_nil())
    return caf::none;
  if (!entries.is_array())
    return bad_reply("entries are not an array", entries);
  result.entries.reserve(result.entries.size() + entries.elements.size());
  for (auto& e : entries.elements) {
    if (!e.is_array() || e.elements.size() != 2 || !e.elements[0].is_string())
      return bad_reply("entry is not [id, fields]", e);
    auto& fields = e.elements[1];
    if (fields.is_nil()) {
      result.deleted_ids.emplace_back(std::move(e.elements[0].str));
      continue;
    }
    if (!fields.is_array() || fields.elements.size() % 2 != 0)
      return bad_reply("fields are not an even array", e);
    stream_entry entry;
    entry.id = std::move(e.elements[0].str);
    entry.fields.reserve(fields.elements.size());
    for (auto& f : fields.elements)
      entry.fields.emplace_back(std::move(f.str));
    result.entries.emplace_back(std::move(entry));
  }
  return caf::none;
}

} // namespace

caf::expected<read_batch> parse_read_reply(redis_reply&& reply) {
  read_batch result;
  if (reply.is_nil())
    return result;
  // [[stream-name, [[id, [f, v, ...] | nil], ...]], ...]
  if (!reply.is_array())
    return bad_reply("not an array", reply);
  for (auto& per_stream : reply.elements) {
    if (!per_stream.is_array() || per_stream.elements.size() != 2)
      return bad_reply("stream element is not [name, entries]", reply);
    if (auto err = append_entries(per_stream.elements[1], result))
      return err;
  }
  return result;
}

caf::expected<read_batch> parse_entry_list(redis_reply&& reply) {
  read_batch result;
  if (auto err = append_entries(reply, result))
    return err;
  return result;
}

namespace {

std::pair<uint64_t, uint64_t> split_id(std::string_view id) {
  uint64_t ms = 0;
  uint64_t seq = 0;
  auto dash = id.find('-');
  auto head = id.substr(0, dash);
  std::from_chars(head.data(), head.data() + head.size(), ms);
  if (dash != std::string_view::npos) {
    auto tail = id.substr(dash + 1);
    std::from_chars(tail.data(), tail.data() + tail.size(), seq);
  }
  return {ms, seq};
}

} // namespace

int compare_ids(std::string_view x, std::string_view y) {
  auto a = split_id(x);
  auto b = split_id(y);
  if (a < b)
    return -1;
  return a == b ? 0 : 1;
}

int64_t id_time_ms(std::string_view id) {
  int64_t ms = 0;
  for (char c : id) {
    if (c < '0' || c > '9')
      break;
    ms = ms * 10 + (c - '0');
  }
  return ms;
}

} // namespace rill
