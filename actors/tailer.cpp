#include <rill/actors/tailer.hpp>

#include <rill/actors/backoff.hpp>
#include <rill/actors/connection_ref.hpp>
#include <rill/actors/error.hpp>
#include <rill/actors/messages.hpp>
#include <rill/actors/redis/group_info.hpp>
#include <rill/actors/redis/stream_commands.hpp>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <spdlog/spdlog.h>

#include <deque>
#include <map>

namespace rill {

namespace {

struct subscriber {
  caf::actor who;
  uint64_t credits = 0;
  std::deque<stream_entry> queue;
  /// The last ID queued for it: only later entries are queued (so a
  /// catch-up and the live reads never hand it one twice). Empty: any.
  std::string pos;
  /// The last ID it received, or where it started: what a drop reports.
  std::string last_sent;
  bool live = false;
  bool paging = false; ///< a catch-up XRANGE is out
};

struct tailer_state {
  tailer_options opts;
  connection_ref own;
  connection_ref shared;
  /// The last ID read live; empty until the start-up snapshot is done.
  std::string cursor;
  bool reading = false;
  std::map<caf::actor_addr, subscriber> subs;
  rill::backoff retry{std::chrono::milliseconds{100}, std::chrono::seconds{5}};
  bool failing = false;

  static inline const char* name = "rill.tailer";
};

using tailer_ptr = caf::stateful_actor<tailer_state>*;

/// self: `(snapshot_atom)` take the start-up snapshot again (it failed).
using snapshot_atom = caf::atom_constant<caf::atom("tailsnap")>;
/// self: `(page_atom, subscriber)` fetch its catch-up page again (it failed).
using page_atom = caf::atom_constant<caf::atom("tailpage")>;

void read(tailer_ptr self);
void page(tailer_ptr self, const caf::actor_addr& who);

/// One line per streak of failures, then retry with backoff.
void failed(tailer_ptr self, const char* what, const caf::error& err, caf::message retry) {
  auto& st = self->state;
  if (!st.failing)
    spdlog::warn("tailer {}: {} failed, retrying: {}", st.opts.stream, what, describe(err));
  st.failing = true;
  self->delayed_send(self, st.retry.next(), std::move(retry));
}

void recovered(tailer_ptr self) {
  auto& st = self->state;
  if (st.failing)
    spdlog::info("tailer {}: reading again", st.opts.stream);
  st.failing = false;
  st.retry.reset();
}

void forget(tailer_ptr self, const caf::actor_addr& who) {
  auto& st = self->state;
  auto i = st.subs.find(who);
  if (i == st.subs.end())
    return;
  self->demonitor(i->second.who);
  st.subs.erase(i);
}

/// Hands a subscriber what its credits allow.
void pump(tailer_ptr self, subscriber& s) {
  if (s.credits == 0 || s.queue.empty())
    return;
  auto n = std::min<uint64_t>(s.credits, s.queue.size());
  std::vector<stream_entry> out;
  out.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    out.emplace_back(std::move(s.queue.front()));
    s.queue.pop_front();
  }
  s.credits -= n;
  s.last_sent = out.back().id;
  self->send(s.who, entries_atom::value, std::move(out));
}

/// Queues the entries above the subscriber's position; drops it when its
/// queue outgrows the buffer. Returns false if it was dropped.
bool offer(tailer_ptr self, const caf::actor_addr& who, const std::vector<stream_entry>& entries) {
  auto& st = self->state;
  auto& s = st.subs.at(who);
  for (const auto& e : entries) {
    if (!s.pos.empty() && compare_ids(e.id, s.pos) <= 0)
      continue;
    s.queue.push_back(e);
    s.pos = e.id;
  }
  if (s.queue.size() > std::max<size_t>(st.opts.buffer, st.opts.count)) {
    spdlog::warn("tailer {}: a subscriber fell {} entries behind; dropped it at {}", st.opts.stream,
                 s.queue.size(), s.last_sent);
    self->send(s.who, dropped_atom::value, s.last_sent);
    forget(self, who);
    return false;
  }
  pump(self, s);
  return true;
}

void on_read(tailer_ptr self, redis_reply& reply) {
  auto& st = self->state;
  auto batch = parse_read_reply(std::move(reply));
  if (!batch) {
    failed(self, "XREAD", batch.error(), caf::make_message(retry_atom::value));
    return;
  }
  recovered(self);
  auto& entries = batch->entries;
  if (!entries.empty()) {
    // Deleted entries come without fields in a read of a group only; XREAD
    // returns what exists. The cursor moves past everything returned.
    st.cursor = entries.back().id;
    std::vector<caf::actor_addr> live;
    for (auto& [who, s] : st.subs)
      if (s.live)
        live.push_back(who);
    for (auto& who : live)
      offer(self, who, entries);
  }
  read(self); // after an empty BLOCK reply too: the same concrete cursor
}

void read(tailer_ptr self) {
  auto& st = self->state;
  if (st.reading || st.cursor.empty())
    return;
  st.reading = true;
  // No CAF timer: the connection bounds every request (timeout + BLOCK).
  ask(self, st.own, caf::infinite, xread(st.opts.stream, st.cursor, st.opts.count, st.opts.block))
    .then(
      [self](redis_reply& reply) {
        self->state.reading = false;
        on_read(self, reply);
      },
      [self](caf::error& err) {
        self->state.reading = false;
        failed(self, "XREAD", err, caf::make_message(retry_atom::value));
      });
}

/// The start-up snapshot of the tail: the last ID, or 0-0.
void snapshot(tailer_ptr self) {
  auto& st = self->state;
  ask(self, st.shared, st.opts.request_timeout, xrevrange_last(st.opts.stream))
    .then(
      [self](redis_reply& reply) {
        auto& st = self->state;
        auto last = parse_entry_list(std::move(reply));
        if (!last) {
          failed(self, "XREVRANGE", last.error(), caf::make_message(snapshot_atom::value));
          return;
        }
        recovered(self);
        st.cursor = last->entries.empty() ? "0-0" : last->entries.front().id;
        for (auto& [who, s] : st.subs)
          if (s.live && s.pos.empty())
            s.pos = s.last_sent = st.cursor; // subscribed before the snapshot
        read(self);
      },
      [self](caf::error& err) {
        failed(self, "XREVRANGE", err, caf::make_message(snapshot_atom::value));
      });
}

/// Live once a catch-up page reached the stream's end and the live reads'
/// cursor; otherwise another page (or wait for credits).
void after_page(tailer_ptr self, const caf::actor_addr& who, size_t got) {
  auto& st = self->state;
  auto i = st.subs.find(who);
  if (i == st.subs.end())
    return;
  auto& s = i->second;
  bool at_end = got < st.opts.count;
  if (at_end && !st.cursor.empty() && !s.pos.empty() && compare_ids(s.pos, st.cursor) < 0) {
    // The live reads went past this page's end: entries up to the cursor
    // were read for the live subscribers only. Fetch them too - unless the
    // page was empty (they were deleted meanwhile): then nothing is left.
    if (got == 0)
      s.pos = st.cursor;
    else
      at_end = false;
  }
  if (at_end) {
    s.live = true;
    return;
  }
  if (s.queue.size() < st.opts.count)
    page(self, who);
}

void page(tailer_ptr self, const caf::actor_addr& who) {
  auto& st = self->state;
  auto& s = st.subs.at(who);
  if (s.paging || s.live)
    return;
  s.paging = true;
  ask(self, st.shared, st.opts.request_timeout,
      xrange_after(st.opts.stream, s.pos.empty() ? "0-0" : s.pos, st.opts.count))
    .then(
      [self, who](redis_reply& reply) {
        auto& st = self->state;
        auto i = st.subs.find(who);
        if (i == st.subs.end())
          return;
        i->second.paging = false;
        auto got = parse_entry_list(std::move(reply));
        if (!got) {
          failed(self, "XRANGE", got.error(), caf::make_message(page_atom::value, who));
          return;
        }
        auto n = got->entries.size();
        if (offer(self, who, got->entries))
          after_page(self, who, n);
      },
      [self, who](caf::error& err) {
        auto& st = self->state;
        if (auto i = st.subs.find(who); i != st.subs.end())
          i->second.paging = false;
        failed(self, "XRANGE", err, caf::make_message(page_atom::value, who));
      });
}

/// Whether entries after `from` may have been removed from the stream: it
/// is older than the first entry left, and something was removed - by XDEL
/// (max-deleted-entry-id is past it) or by trimming (Redis 7.0 does not
/// record trims there, but entries-added then exceeds the length). `0-0`
/// asks for whatever is there; an ID at or past the first entry lost
/// nothing (deletions in the middle are not gaps). A trim that removed
/// exactly up to `from` is reported too: a gap notice then costs the
/// subscriber nothing, a silent skip would.
bool trimmed_after(const stream_info& info, const std::string& from) {
  if (from == "0-0" || (!info.first_id.empty() && compare_ids(from, info.first_id) >= 0))
    return false;
  if (info.first_id.empty() && compare_ids(from, info.last_generated_id) >= 0)
    return false; // empty, and nothing after `from` was ever added
  return compare_ids(info.max_deleted_id, from) > 0 || info.entries_added < 0
         || info.entries_added > info.length;
}

/// A subscriber from an ID: first whether that ID was trimmed away.
void catch_up(tailer_ptr self, const caf::actor_addr& who, std::string from) {
  auto& st = self->state;
  ask(self, st.shared, st.opts.request_timeout, xinfo_stream(st.opts.stream))
    .then(
      [self, who, from](redis_reply& reply) {
        auto& st = self->state;
        auto i = st.subs.find(who);
        if (i == st.subs.end())
          return;
        auto info = parse_stream_info(reply);
        // No such key: nothing to catch up with, and no gap.
        if (info && trimmed_after(*info, from))
          self->send(i->second.who, gap_atom::value, info->first_id);
        page(self, who);
      },
      [self, who, from](caf::error& err) {
        failed(self, "XINFO STREAM", err, caf::make_message(subscribe_atom::value, who, from));
      });
}

caf::behavior tailer(tailer_ptr self, tailer_options opts, connection_factory make_connection,
                     connection_actor shared_conn) {
  auto& st = self->state;
  st.opts = std::move(opts);
  st.opts.count = std::max<uint32_t>(1, st.opts.count);
  st.retry = rill::backoff{st.opts.retry_min, st.opts.retry_max};
  st.shared = connection_ref{std::move(shared_conn)};
  st.own = connection_ref{make_connection(caf::actor{self})};
  self->link_to(st.own.actor);
  self->set_down_handler([self](const caf::down_msg& msg) {
    forget(self, caf::actor_cast<caf::actor_addr>(msg.source));
  });
  if (st.opts.from.empty())
    snapshot(self);
  else
    st.cursor = st.opts.from;
  read(self);
  return {
    [self](subscribe_atom, caf::actor who, std::string& from) {
      auto& st = self->state;
      auto addr = who.address();
      if (!st.subs.count(addr)) {
        self->monitor(who);
        subscriber s;
        s.who = who;
        s.pos = from.empty() ? st.cursor : from;
        s.last_sent = s.pos;
        s.live = from.empty();
        st.subs.emplace(addr, std::move(s));
      }
      if (!from.empty())
        catch_up(self, addr, std::move(from));
    },
    [self](subscribe_atom, const caf::actor_addr& who, std::string& from) {
      if (self->state.subs.count(who)) // a retried catch-up
        catch_up(self, who, std::move(from));
    },
    [self](credit_atom, uint32_t n) {
      auto& st = self->state;
      auto i = st.subs.find(caf::actor_cast<caf::actor_addr>(self->current_sender()));
      if (i == st.subs.end())
        return;
      auto& s = i->second;
      s.credits += n;
      pump(self, s);
      if (!s.live && !s.paging && s.queue.size() < st.opts.count)
        page(self, i->first);
    },
    [self](page_atom, const caf::actor_addr& who) {
      if (self->state.subs.count(who))
        page(self, who);
    },
    [self](retry_atom) { read(self); },
    [self](snapshot_atom) { snapshot(self); },
    [self](conn_up_atom, int64_t) {},
    [self](conn_down_atom, const caf::error&) {},
  };
}

} // namespace

caf::actor spawn_tailer(caf::actor_system& sys, tailer_options opts,
                        connection_factory make_connection, connection_actor shared_conn) {
  return sys.spawn(tailer, std::move(opts), std::move(make_connection), std::move(shared_conn));
}

} // namespace rill
