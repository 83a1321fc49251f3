// `rill dead-letters`: look at a stream's dead letters, put chosen ones back
// on the stream, or delete them.

#include "commands.hpp"
#include "json_line.hpp"
#include <rill/actors/error.hpp>
#include <rill/actors/redis/stream_commands.hpp>
#include <rill/runtime/runtime.hpp>

#include <cstdio>
#include <sstream>

namespace rill::cli {

namespace {

// Puts dead letter ARGV[1] of KEYS[2] back on KEYS[1] (its original fields,
// without the dead_* ones) and deletes it, in one script: the entry is on one
// of the two streams at any time, never on both, never on neither.
constexpr const char* replay_script = R"lua(
local found = redis.call('XRANGE', KEYS[2], ARGV[1], ARGV[1])
if #found == 0 then return false end
local fields = {}
local f = found[1][2]
for i = 1, #f, 2 do
  if string.sub(f[i], 1, 5) ~= 'dead_' then
    fields[#fields + 1] = f[i]
    fields[#fields + 1] = f[i + 1]
  end
end
local id = redis.call('XADD', KEYS[1], '*', unpack(fields))
redis.call('XDEL', KEYS[2], ARGV[1])
return id
)lua";

/// The entry's original fields: the packed ones, or all but dead_*.
std::vector<std::string> original_fields(const stream_entry& letter) {
  if (auto packed = letter.find(dead_packed_field))
    if (auto fields = unpack_fields(*packed))
      return std::move(*fields);
  std::vector<std::string> out;
  for (size_t i = 0; i + 1 < letter.fields.size(); i += 2)
    if (letter.fields[i].compare(0, 5, "dead_") != 0) {
      out.push_back(letter.fields[i]);
      out.push_back(letter.fields[i + 1]);
    }
  return out;
}

std::vector<std::string> split_ids(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in{text};
  std::string id;
  while (std::getline(in, id, ','))
    if (!id.empty())
      out.push_back(id);
  return out;
}

caf::expected<std::vector<stream_entry>> read_letters(runtime& rt, const std::string& dead,
                                                      uint64_t count) {
  auto cmd = make_command({"XRANGE", dead, "-", "+"});
  if (count > 0)
    cmd.arg("COUNT").arg(std::to_string(count));
  auto reply = rt.command(std::move(cmd));
  if (!reply)
    return reply.error();
  auto list = parse_entry_list(std::move(*reply));
  if (!list)
    return list.error();
  return std::move(list->entries);
}

int fail(const std::string& what) {
  std::fprintf(stderr, "rill dead-letters: %s\n", what.c_str());
  return 1;
}

int list(runtime& rt, const std::string& dead, uint64_t count) {
  auto letters = read_letters(rt, dead, count);
  if (!letters)
    return fail(describe(letters.error()));
  for (const auto& letter : *letters) {
    nlohmann::ordered_json line;
    line["id"] = letter.id;
    for (auto [key, field] : {std::pair{"original_id", "dead_id"},
                              {"reason", "dead_reason"},
                              {"consumer", "dead_consumer"}}) {
      if (auto v = letter.find(field))
        put_bytes(line, key, *v);
    }
    if (auto v = letter.find("dead_deliveries"))
      line["deliveries"] = std::strtoull(v->c_str(), nullptr, 10);
    auto fields = original_fields(letter);
    auto& out = line["fields"] = nlohmann::ordered_json::array();
    bool binary = false;
    for (const auto& f : fields) {
      nlohmann::ordered_json one;
      put_bytes(one, "v", f);
      binary = binary || one.contains("v_base64");
      out.push_back(one["v"]);
    }
    if (binary) { // the exact bytes, where the text had to replace some
      auto& exact = line["fields_base64"] = nlohmann::ordered_json::array();
      for (const auto& f : fields)
        exact.push_back(base64(f));
    }
    std::puts(json_line(line).c_str());
  }
  std::fflush(stdout);
  return 0;
}

/// The IDs `--ids` names, or every dead letter with `--all`.
caf::expected<std::vector<std::string>> chosen(runtime& rt, const cli_config& cfg,
                                               const std::string& dead) {
  if (cfg.all == !cfg.ids.empty())
    return make_error(sec::invalid_config, "say which: --ids ID[,ID...] or --all");
  if (!cfg.all)
    return split_ids(cfg.ids);
  auto letters = read_letters(rt, dead, 0);
  if (!letters)
    return letters.error();
  std::vector<std::string> ids;
  for (const auto& l : *letters)
    ids.push_back(l.id);
  return ids;
}

/// Exit status and line for a failed `chosen`: 2 for a missing --ids/--all.
int refused(const caf::error& err) {
  return code_of(err) == sec::invalid_config ? config_error("dead-letters", describe(err))
                                             : fail(describe(err));
}

int replay(runtime& rt, const cli_config& cfg, const std::string& stream, const std::string& dead) {
  auto ids = chosen(rt, cfg, dead);
  if (!ids)
    return refused(ids.error());
  uint64_t replayed = 0;
  std::vector<std::string> missing;
  for (const auto& id : *ids) {
    auto letter = rt.command(make_command({"XRANGE", dead, id, id}));
    auto found = letter ? parse_entry_list(std::move(*letter)) : letter.error();
    if (!found)
      return fail("reading " + id + ": " + describe(found.error()));
    if (found->entries.empty()) {
      missing.push_back(id);
      continue;
    }
    caf::expected<redis_reply> reply{redis_reply{}};
    if (found->entries[0].find(dead_packed_field) == nullptr) {
      reply = rt.command(make_command({"EVAL", replay_script, "2", stream, dead, id}));
    } else {
      // Too many fields for one call inside a script (packed): XADD, then
      // XDEL. Not atomic: a crash in between leaves it on both streams (a
      // duplicate), never on neither.
      auto cmd = make_command({"XADD", stream, "*"});
      for (auto& f : original_fields(found->entries[0]))
        cmd.argv.push_back(std::move(f));
      reply = rt.command(std::move(cmd));
      if (reply)
        reply = rt.command(make_command({"XDEL", dead, id}));
    }
    if (!reply)
      return fail("replaying " + id + ": " + describe(reply.error()) + " ("
                  + std::to_string(replayed) + " replayed before)");
    if (reply->is_nil()) {
      missing.push_back(id); // deleted meanwhile
      continue;
    }
    ++replayed;
  }
  nlohmann::ordered_json line{{"replayed", replayed}, {"missing", missing}};
  std::puts(json_line(line).c_str());
  return missing.empty() ? 0 : 1;
}

int purge(runtime& rt, const cli_config& cfg, const std::string& dead) {
  auto ids = chosen(rt, cfg, dead);
  if (!ids)
    return refused(ids.error());
  uint64_t deleted = 0;
  for (size_t i = 0; i < ids->size(); i += 500) { // XDEL in chunks
    auto cmd = make_command({"XDEL", dead});
    for (size_t j = i; j < ids->size() && j < i + 500; ++j)
      cmd.arg((*ids)[j]);
    auto reply = rt.command(std::move(cmd));
    if (!reply)
      return fail(describe(reply.error()));
    deleted += static_cast<uint64_t>(reply->integer);
  }
  nlohmann::ordered_json line{{"purged", deleted}, {"asked", ids->size()}};
  std::puts(json_line(line).c_str());
  return 0;
}

} // namespace

int dead_letters_command(cli_config& cfg, const std::string& action) {
  const auto& stream = cfg.consumer.stream;
  if (stream.empty())
    return config_error("dead-letters", "--stream: required");
  if (action != "list" && action != "replay" && action != "purge")
    return config_error("dead-letters",
                        "which action? list, replay or purge (got '" + action + "')");
  runtime rt{cfg};
  // The same key a consumer of the stream writes to (in a cluster: in the
  // stream's slot, or refused).
  auto dead = rt.dead_letter_stream(stream, cfg.consumer.dead_letter_stream);
  if (action == "list")
    return list(rt, dead, cfg.count);
  if (action == "replay")
    return replay(rt, cfg, stream, dead);
  return purge(rt, cfg, dead);
}

} // namespace rill::cli
