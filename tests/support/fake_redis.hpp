#pragma once

// A scripted stand-in for a Redis connection actor, for the deterministic
// reader/worker tests only (integration tests use a real redis-server). It
// keeps one stream's state: entries not yet delivered, the consumer's own
// pending entries (for `0` reads), and every command it received.

#include <rill/actors/error.hpp>
#include <rill/actors/messages.hpp>
#include <rill/actors/redis/effect_script.hpp>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace rill::testing {

using push_atom = caf::atom_constant<caf::atom("push")>;
/// Fails a held read as if the connection had died under it.
using drop_atom = caf::atom_constant<caf::atom("drop")>;
/// Runs a held read in "Redis" but loses its reply with the connection: its
/// entries become pending for the consumer, who never sees them.
using lose_atom = caf::atom_constant<caf::atom("lose")>;
/// -> fake redis: answer the effects scripts held while `hold_scripts` was set.
using scripts_atom = caf::atom_constant<caf::atom("scripts")>;

struct fake_stream {
  std::string name = "s";
  /// New entries, handed out by `>` reads.
  std::deque<stream_entry> fresh;
  /// Entries pending for this consumer before it started (`0` reads). An
  /// entry with an empty id marker "deleted:" prefix is returned with nil
  /// fields, like Redis does for entries deleted from the stream.
  std::vector<stream_entry> backlog;
  std::vector<redis_command> log;
  std::vector<std::string> acked;
  uint64_t handed_out = 0;
  /// Every entry ever handed out, and Redis' delivery count for it.
  std::map<std::string, stream_entry> known;
  std::map<std::string, uint32_t> deliveries;
  /// The consumer's pending entries list: handed out, not acked.
  std::set<std::string> pel;
  /// IDs gone from the stream (trimmed): XRANGE finds nothing for them.
  std::set<std::string> trimmed;
  /// XRANGEs answered (one entry each: the reader reads parked entries back).
  uint64_t xranges = 0;
  /// What XAUTOCLAIM returns next: entries of a dead consumer, and the cursor.
  std::vector<stream_entry> claimable;
  std::string claim_cursor_reply = "0-0";
  /// Dead letters written (EVAL of the dead-letter script): the argv.
  std::vector<std::vector<std::string>> dead;
  /// Plain string keys (the consumer name lease).
  std::map<std::string, std::string> strings;
  /// While > 0, XACK fails (as with Redis unreachable) and counts down.
  uint32_t xack_failures = 0;
  /// ... answering -LOADING instead.
  bool loading_acks = false;
  /// While > 0, XGROUP and XREADGROUP answer -LOADING (and count down), as
  /// Redis does while it loads its data set after a restart.
  uint32_t loading = 0;
  /// When set, the dead-letter script fails with this error reply (e.g. a
  /// dead-letter key of the wrong type) and writes nothing.
  std::string dead_error;
  /// The effects script (actors/redis/effect_script.hpp): cached after its
  /// first EVAL (EVALSHA before that answers NOSCRIPT, as after a restart).
  bool script_cached = false;
  /// IDs another consumer claimed: the fence fails them.
  std::set<std::string> stolen;
  /// Keys whose effects fail their check ("error WRONGTYPE ...").
  std::set<std::string> wrong_type;
  /// While > 0, the whole script is refused with an error reply (counts down).
  uint32_t script_errors = 0;
  /// While set, effects scripts wait for a `scripts_atom` (a slow Redis).
  bool hold_scripts = false;
  std::vector<std::pair<caf::response_promise, std::vector<std::string>>> held_scripts;
  /// Effects applied, as "id op key args...", in order.
  std::vector<std::string> applied;
  /// A `>` read waiting for entries (as BLOCK would).
  std::optional<caf::response_promise> held;
  std::optional<uint64_t> held_count;
  /// Reads pipelined behind the held one (COUNT each): like Redis, they run
  /// only after it returned.
  std::deque<std::pair<caf::response_promise, uint64_t>> queued;

  /// Commands whose name is `name`.
  std::vector<redis_command> commands(const std::string& cmd) const {
    std::vector<redis_command> out;
    for (const auto& c : log)
      if (c.argv.front() == cmd)
        out.push_back(c);
    return out;
  }
};

inline stream_entry make_entry(uint64_t n) {
  return stream_entry{std::to_string(1000 + n) + "-0", {"seq", std::to_string(n)}};
}

inline redis_reply entries_reply(const std::string& stream, std::vector<stream_entry> entries) {
  std::vector<redis_reply> items;
  for (auto& e : entries) {
    bool deleted = e.fields.empty();
    std::vector<redis_reply> fields;
    for (auto& f : e.fields)
      fields.push_back(redis_reply::string(f));
    items.push_back(redis_reply::array(
      {redis_reply::string(e.id), deleted ? redis_reply{} : redis_reply::array(fields)}));
  }
  return redis_reply::array(
    {redis_reply::array({redis_reply::string(stream), redis_reply::array(items)})});
}

/// The effects script, as the fake's Redis runs it: the fence (pending, not
/// stolen, the delivery count the worker had), the checks, the effects, XACK.
inline redis_reply run_effects(fake_stream& s, const std::vector<std::string>& a) {
  if (a[0] == "EVALSHA" && !s.script_cached)
    return redis_reply::error("NOSCRIPT No matching script. Please use EVAL.");
  s.script_cached = true;
  if (s.script_errors > 0) {
    --s.script_errors;
    return redis_reply::error("ERR Error running script (refused by the test)");
  }
  auto nkeys = std::stoul(a[2]);
  std::vector<std::string> keys(a.begin() + 3, a.begin() + 3 + static_cast<long>(nkeys));
  size_t i = 3 + nkeys + 5; // past group, consumer, the ID range and its bound
  auto entries = std::stoul(a[i++]);
  std::vector<redis_reply> out;
  for (size_t e = 0; e < entries; ++e) {
    auto id = a[i];
    auto count = std::stoul(a[i + 1]);
    auto n = std::stoul(a[i + 2]);
    i += 4; // id, count, n, the span of its effects
    std::vector<std::string> lines;
    bool bad = false;
    for (size_t f = 0; f < n; ++f) {
      auto k = std::stoul(a[i + 1]);
      auto na = std::stoul(a[i + 2]);
      auto key = k == 0 ? std::string{} : keys.at(k - 1);
      std::string line = id + " " + a[i] + " " + key;
      for (size_t j = 0; j < na; ++j)
        line += " " + a[i + 3 + j];
      bad = bad || s.wrong_type.count(key) > 0;
      lines.push_back(std::move(line));
      i += 3 + na;
    }
    if (s.pel.count(id) == 0 || s.stolen.count(id) > 0) {
      out.push_back(redis_reply::string("fenced not pending for this consumer"));
    } else if (s.deliveries[id] != count) {
      out.push_back(
        redis_reply::string("fenced delivery count " + std::to_string(s.deliveries[id])));
    } else if (bad) {
      out.push_back(redis_reply::string("error effect #1: WRONGTYPE (fake)"));
    } else {
      s.applied.insert(s.applied.end(), lines.begin(), lines.end());
      s.acked.push_back(id);
      s.pel.erase(id);
      out.push_back(redis_reply::string("ok"));
    }
  }
  return redis_reply::array(std::move(out));
}

struct fake_state {
  std::shared_ptr<fake_stream> data;
  static inline const char* name = "fake_redis";
};

inline void hand_out(fake_stream& s, const stream_entry& e) {
  s.known[e.id] = e;
  ++s.deliveries[e.id];
  s.pel.insert(e.id);
}

/// Hands out the next `n` fresh entries to nobody: a read that ran in Redis
/// after its connection was closed (its entries are pending for the consumer).
inline void strand(fake_stream& s, uint64_t n) {
  for (uint64_t i = 0; i < n && !s.fresh.empty(); ++i) {
    hand_out(s, s.fresh.front());
    s.fresh.pop_front();
  }
}

/// Whether `id` lies in the XPENDING range `start` ("-", "(id" or "id") to
/// `end` ("+" or "id").
inline bool in_range(const std::string& id, const std::string& start, const std::string& end) {
  if (start != "-") {
    bool exclusive = start[0] == '(';
    auto c = compare_ids(id, exclusive ? start.substr(1) : start);
    if (c < 0 || (exclusive && c == 0))
      return false;
  }
  return end == "+" || compare_ids(id, end) <= 0;
}

inline redis_reply take_fresh(fake_stream& s, uint64_t count) {
  std::vector<stream_entry> out;
  while (!s.fresh.empty() && out.size() < count) {
    out.push_back(s.fresh.front());
    hand_out(s, out.back());
    s.fresh.pop_front();
  }
  s.handed_out += out.size();
  return entries_reply(s.name, std::move(out));
}

/// After the held read returned: runs the reads queued behind it, in order,
/// until one blocks.
inline void run_queued(fake_stream& s) {
  while (!s.held && !s.queued.empty()) {
    auto [rp, count] = std::move(s.queued.front());
    s.queued.pop_front();
    if (s.fresh.empty()) {
      s.held = std::move(rp);
      s.held_count = count;
    } else {
      rp.deliver(take_fresh(s, count));
    }
  }
}

inline caf::behavior fake_redis(caf::stateful_actor<fake_state>* self,
                                std::shared_ptr<fake_stream> data) {
  self->state.data = std::move(data);
  return {
    [self](redis_command& cmd) -> caf::result<redis_reply> {
      auto& s = *self->state.data;
      s.log.push_back(cmd);
      const auto& a = cmd.argv;
      if (s.loading > 0 && (a[0] == "XGROUP" || a[0] == "XREADGROUP")) {
        --s.loading;
        return error_from_reply("LOADING Redis is loading the dataset in memory");
      }
      if (a[0] == "XGROUP")
        return redis_reply::status("OK");
      if (a[0] == "XACK" && s.xack_failures > 0) {
        --s.xack_failures;
        if (s.loading_acks)
          return error_from_reply("LOADING Redis is loading the dataset in memory");
        return make_error(sec::redis_unavailable, "redis is unavailable (test)");
      }
      if (a[0] == "XACK") {
        s.acked.insert(s.acked.end(), a.begin() + 3, a.end());
        for (auto i = a.begin() + 3; i != a.end(); ++i)
          s.pel.erase(*i);
        return redis_reply::number(static_cast<int64_t>(a.size() - 3));
      }
      if (a[0] == "CLIENT" && a[1] == "UNBLOCK") {
        if (s.held) {
          s.held->deliver(redis_reply{});
          s.held.reset();
          run_queued(s);
        }
        return redis_reply::number(1);
      }
      if (a[0] == "XREADGROUP") {
        auto count = std::stoull(a[5]);
        const auto& id = a.back();
        if (id != ">") {
          std::vector<stream_entry> out;
          for (auto& e : s.backlog)
            if (compare_ids(e.id, id) > 0 && out.size() < count) {
              out.push_back(e);
              if (!e.fields.empty())
                hand_out(s, e);
            }
          return entries_reply(s.name, out);
        }
        if (s.held) { // behind a blocked read on the same connection
          s.queued.emplace_back(self->make_response_promise(), count);
          return caf::delegated<redis_reply>{};
        }
        if (s.fresh.empty()) {
          s.held = self->make_response_promise();
          s.held_count = count;
          return caf::delegated<redis_reply>{};
        }
        return take_fresh(s, count);
      }
      if (a[0] == "XCLAIM") {
        bool just_id = a.back() == "JUSTID";
        std::vector<stream_entry> out;
        for (size_t i = 5; i < a.size() - (just_id ? 1 : 0); ++i) {
          auto e = s.known.find(a[i]);
          if (e == s.known.end() || s.pel.count(a[i]) == 0)
            continue; // deleted, or not pending (acked)
          if (!just_id)
            ++s.deliveries[a[i]];
          out.push_back(e->second);
        }
        if (just_id) {
          std::vector<redis_reply> ids;
          for (auto& e : out)
            ids.push_back(redis_reply::string(e.id));
          return redis_reply::array(ids);
        }
        return entries_reply(s.name, out).elements[0].elements[1];
      }
      if (a[0] == "XRANGE" && a.size() == 4 && a[2] == a[3]) { // one entry by ID
        ++s.xranges;
        auto it = s.known.find(a[2]);
        if (it == s.known.end() || s.trimmed.count(a[2]) > 0)
          return redis_reply::array({});
        return entries_reply(s.name, {it->second}).elements[0].elements[1];
      }
      if (a[0] == "XPENDING") { // XPENDING s g start end count consumer
        std::vector<redis_reply> rows;
        auto count = std::stoull(a[5]);
        for (auto& [id, n] : s.deliveries)
          if (s.pel.count(id) > 0 && in_range(id, a[3], a[4]) && rows.size() < count)
            rows.push_back(redis_reply::array({redis_reply::string(id), redis_reply::string(a[6]),
                                               redis_reply::number(0), redis_reply::number(n)}));
        return redis_reply::array(rows);
      }
      if (a[0] == "XAUTOCLAIM") {
        auto out = s.claimable;
        s.claimable.clear();
        for (auto& e : out)
          hand_out(s, e);
        auto entries = entries_reply(s.name, out).elements[0].elements[1];
        return redis_reply::array(
          {redis_reply::string(s.claim_cursor_reply), entries, redis_reply::array({})});
      }
      if ((a[0] == "EVALSHA" && a[1] == effects_script_sha1())
          || (a[0] == "EVAL" && a[1] == effects_script())) {
        if (s.hold_scripts) {
          s.held_scripts.emplace_back(self->make_response_promise(), a);
          return caf::delegated<redis_reply>{};
        }
        auto r = run_effects(s, a);
        if (r.is_error()) // as the connection turns an error reply into an error
          return error_from_reply(r.str);
        return r;
      }
      if (a[0] == "EVAL" && a[1].find("rill:owner") != std::string::npos) { // name lease
        auto cur = s.strings.find(a[3]);
        if (cur != s.strings.end() && cur->second.rfind(a[4] + " ", 0) != 0 && cur->second != a[7])
          return redis_reply::string(cur->second);
        s.strings[a[3]] = a[5];
        return redis_reply::number(1);
      }
      if (a[0] == "EVAL" && a[1].find("rill:release") != std::string::npos) {
        s.strings.erase(a[3]);
        return redis_reply::number(1);
      }
      if (a[0] == "EVAL" && a[2] == "2" && a[3] == s.name) { // the dead-letter script
        if (!s.dead_error.empty())
          return error_from_reply(s.dead_error);
        s.dead.push_back(a);
        s.acked.push_back(a[6]); // it XACKs the entry
        s.pel.erase(a[6]);
        return redis_reply::string("9999-0");
      }
      return redis_reply::error("ERR unknown command in fake");
    },
    [self](drop_atom) {
      auto& s = *self->state.data;
      if (s.held) {
        s.held->deliver(make_error(sec::connection_lost, "dropped by test"));
        s.held.reset();
      }
      for (auto& q : s.queued)
        q.first.deliver(make_error(sec::connection_lost, "dropped by test"));
      s.queued.clear();
    },
    [self](scripts_atom) {
      auto& s = *self->state.data;
      auto held = std::move(s.held_scripts);
      s.held_scripts.clear();
      for (auto& [promise, argv] : held) {
        auto r = run_effects(s, argv);
        if (r.is_error())
          promise.deliver(error_from_reply(r.str));
        else
          promise.deliver(std::move(r));
      }
    },
    [self](lose_atom) {
      auto& s = *self->state.data;
      if (s.held) {
        strand(s, *s.held_count);
        s.held->deliver(make_error(sec::connection_lost, "reply lost with the connection"));
        s.held.reset();
      }
    },
    [self](push_atom) {
      auto& s = *self->state.data;
      if (s.held && !s.fresh.empty()) {
        s.held->deliver(take_fresh(s, *s.held_count));
        s.held.reset();
        run_queued(s);
      }
    },
  };
}

} // namespace rill::testing
