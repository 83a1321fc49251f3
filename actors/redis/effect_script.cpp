#include <rill/actors/redis/effect_script.hpp>

#include <rill/actors/error.hpp>

#include <openssl/sha.h>

#include <algorithm>
#include <cstdio>
#include <unordered_map>

namespace rill {

namespace {

// ARGV: group, consumer, the batch's lowest and highest ID, a bound on this
// consumer's pending entries between them, the entry count, then per entry:
// id, delivery count, effect count, their argument count, and per effect: op, key index (into KEYS;
// 0: none), argument count, arguments. Replies one string per entry: "ok",
// "fenced <why>" or "error <why>".
//
// Typed effects are checked before the entry writes anything: Lua has no
// rollback, and a half-applied entry would be applied again on its retry.
// The first effect is not checked (if it fails, nothing was written), key
// types are asked once per script (`rill bench effects`: 7 commands per entry
// became 3 plus one XACK per batch). Every write goes through redis.pcall, so
// no error ends the script half-way through a batch. (An OOM refuses only the
// script's first write, before anything was written: Redis lets a script
// that already wrote go on.)
constexpr const char* script_text = R"lua(
-- Globals are table lookups in Lua 5.1: locals are faster.
local ARGV, KEYS, tonumber, unpack = ARGV, KEYS, tonumber, unpack
local rcall, rpcall = redis.call, redis.pcall
local stream, group, consumer = KEYS[1], ARGV[1], ARGV[2]
-- Key types, asked once per script and kept up to date by the writes.
local types = {}
local function type_of(key)
  local t = types[key]
  if t == nil then
    t = rcall('TYPE', key).ok
    types[key] = t
  end
  return t
end
local function int_text(v)
  return #v <= 20 and string.match(v, '^%-?%d+$') ~= nil
end
-- The type a write leaves behind (nil: not known, ask again).
local function result_type(op)
  if op == 'hincrby' then return 'hash' elseif op == 'xadd' then return 'stream'
  elseif op == 'set' then return 'string' elseif op == 'publish' then return false end
  return nil
end
-- An effect is ARGV[p]: op, ARGV[p+1]: key index, ARGV[p+2]: argument count,
-- then its arguments; read in place (tables per entry cost the GC).
local function key_at(p)
  local k = tonumber(ARGV[p + 1])
  if k > 0 then return KEYS[k] end
  return nil
end
-- `overlay`: what the entry's earlier effects leave (checked, not yet written).
local function check(p, overlay)
  local op, key = ARGV[p], key_at(p)
  local t = overlay[key]
  if op == 'hincrby' then
    if t == nil then t = type_of(key) end
    if t ~= 'none' and t ~= 'hash' then
      return 'WRONGTYPE ' .. key .. ' holds a ' .. t .. ', HINCRBY needs a hash'
    end
    local field = ARGV[p + 3]
    local v = t == 'hash' and rcall('HGET', key, field)
    if v then
      if not int_text(v) then
        return 'HINCRBY ' .. key .. ' ' .. field .. ': the field does not hold an integer'
      end
      local sum = tonumber(v) + tonumber(ARGV[p + 4])
      if sum > 9.2e18 or sum < -9.2e18 then
        return 'HINCRBY ' .. key .. ' ' .. field .. ': would overflow'
      end
    end
  elseif op == 'xadd' then
    if t == nil then t = type_of(key) end
    if t ~= 'none' and t ~= 'stream' then
      return 'WRONGTYPE ' .. key .. ' holds a ' .. t .. ', XADD needs a stream'
    end
  end
  return nil
end
local function apply(op, key, p)
  local last = p + 2 + tonumber(ARGV[p + 2])
  if op == 'hincrby' then return rpcall('HINCRBY', key, ARGV[p + 3], ARGV[p + 4])
  elseif op == 'set' then return rpcall('SET', key, ARGV[p + 3])
  elseif op == 'xadd' then return rpcall('XADD', key, '*', unpack(ARGV, p + 3, last))
  elseif op == 'publish' then return rpcall('PUBLISH', ARGV[p + 3], ARGV[p + 4])
  else return rpcall(op, key, unpack(ARGV, p + 3, last)) end
end
local function next_effect(p)
  return p + 3 + tonumber(ARGV[p + 2])
end
-- This consumer's pending entries in the batch's ID range, with their
-- delivery counts: one XPENDING for the batch (one per entry cost 1.6 us an
-- entry more). The bound covers all the consumer holds; an entry past it
-- would only look fenced, stay pending and be handed out again.
local counts = {}
for _, row in ipairs(rcall('XPENDING', stream, group, ARGV[3], ARGV[4], ARGV[5], consumer)) do
  counts[row[1]] = row[4]
end
local out, acked = {}, {}
local a = 7
for e = 1, tonumber(ARGV[6]) do
  local id, count, n = ARGV[a], tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  local first = a + 4
  a = first + tonumber(ARGV[a + 3])
  local held = counts[id]
  if held == nil then
    out[e] = 'fenced not pending for this consumer (claimed by another, or acked)'
  elseif held ~= count then
    out[e] = 'fenced pending with delivery count ' .. held .. ', this worker had ' .. count
  else
    -- The first effect needs no check: if it fails, nothing of the entry
    -- was written. Every later one is checked before the first is written.
    local err
    if n > 1 then
      local overlay, p = {}, first
      for i = 1, n do
        local op, key = ARGV[p], key_at(p)
        -- Only HINCRBY and an XADD to a key not known to be a stream can
        -- fail a check (SET and PUBLISH cannot; the generic form is not checked).
        if i > 1 and (op == 'hincrby' or (op == 'xadd' and (overlay[key] or types[key]) ~= 'stream')) then
          local why = check(p, overlay)
          if why then err = 'effect #' .. i .. ': ' .. why; break end
        end
        if key then overlay[key] = result_type(op) end
        p = next_effect(p)
      end
    end
    if not err then
      local p = first
      for i = 1, n do
        local op, key = ARGV[p], key_at(p)
        local r = apply(op, key, p)
        if type(r) == 'table' and r.err then
          err = 'effect #' .. i .. ' (' .. op .. ') failed after ' .. (i - 1)
                .. ' of its entry were written: ' .. r.err
          if key then types[key] = nil end
          break
        end
        if key then types[key] = result_type(op) end
        p = next_effect(p)
      end
    end
    if err then
      out[e] = 'error ' .. err
    else
      acked[#acked + 1] = id
      out[e] = 'ok'
    end
  end
end
-- One XACK for the batch (in slices: Lua's unpack takes a few thousand).
for i = 1, #acked, 1000 do
  rcall('XACK', stream, group, unpack(acked, i, math.min(i + 999, #acked)))
end
return out
)lua";

std::string sha1_hex(const std::string& text) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  std::string hex;
  char two[3];
  for (auto b : digest) {
    std::snprintf(two, sizeof(two), "%02x", b);
    hex += two;
  }
  return hex;
}

} // namespace

const std::string& effects_script() {
  static const std::string text{script_text};
  return text;
}

const std::string& effects_script_sha1() {
  static const std::string sha = sha1_hex(effects_script());
  return sha;
}

redis_command apply_effects(const std::string& stream, const std::string& group,
                            const std::string& consumer, const std::vector<effect_item>& items,
                            size_t pending_bound, bool by_text) {
  std::vector<std::string> keys{stream};
  std::unordered_map<std::string, size_t> key_index{{stream, 1}};
  std::string first = items.empty() ? "0-0" : items.front().entry.id;
  std::string last = first;
  for (const auto& item : items) { // in the order they finished, not by ID
    if (compare_ids(item.entry.id, first) < 0)
      first = item.entry.id;
    if (compare_ids(item.entry.id, last) > 0)
      last = item.entry.id;
  }
  std::vector<std::string> args{group,
                                consumer,
                                std::move(first),
                                std::move(last),
                                std::to_string(std::max(pending_bound, items.size())),
                                std::to_string(items.size())};
  for (const auto& item : items) {
    args.push_back(item.entry.id);
    args.push_back(std::to_string(item.entry.deliveries));
    args.push_back(std::to_string(item.effects.size()));
    size_t span = 0; // the arguments of its effects: the script skips them in one step
    for (const auto& fx : item.effects)
      span += 3 + fx.args.size();
    args.push_back(std::to_string(span));
    for (const auto& fx : item.effects) {
      size_t index = 0;
      if (!fx.key.empty()) {
        auto [it, fresh] = key_index.emplace(fx.key, keys.size() + 1);
        if (fresh)
          keys.push_back(fx.key);
        index = it->second;
      }
      args.push_back(fx.op);
      args.push_back(std::to_string(index));
      args.push_back(std::to_string(fx.args.size()));
      args.insert(args.end(), fx.args.begin(), fx.args.end());
    }
  }
  redis_command cmd;
  cmd.argv.reserve(3 + keys.size() + args.size());
  cmd.arg(by_text ? "EVAL" : "EVALSHA");
  cmd.arg(by_text ? effects_script() : effects_script_sha1());
  cmd.arg(std::to_string(keys.size()));
  for (auto& k : keys)
    cmd.arg(std::move(k));
  for (auto& x : args)
    cmd.arg(std::move(x));
  return cmd;
}

caf::expected<std::vector<effect_outcome>> parse_effect_outcomes(const redis_reply& reply,
                                                                 size_t n) {
  if (!reply.is_array() || reply.elements.size() != n)
    return make_error(sec::unexpected_reply, "effects script: expected " + std::to_string(n)
                                               + " outcomes, got: " + to_string(reply));
  std::vector<effect_outcome> out;
  out.reserve(n);
  for (const auto& r : reply.elements) {
    const auto& s = r.str;
    effect_outcome o;
    if (s == "ok") {
      o.what = effect_outcome::kind::applied;
    } else if (s.rfind("fenced ", 0) == 0) {
      o.what = effect_outcome::kind::fenced;
      o.detail = s.substr(7);
    } else if (s.rfind("error ", 0) == 0) {
      o.what = effect_outcome::kind::failed;
      o.detail = s.substr(6);
    } else {
      return make_error(sec::unexpected_reply, "effects script: unknown outcome " + to_string(r));
    }
    out.push_back(std::move(o));
  }
  return out;
}

} // namespace rill
