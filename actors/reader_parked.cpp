// With order_by: entries parked behind a hot key (only their IDs are held,
// actors/reader/key_order.hpp) are read back with XRANGE when their key's
// in-memory queue is down to half. They are pending for this consumer all along,
// so a crash or a stop loses nothing: a restart reads them first, in order.

#include <rill/actors/error.hpp>
#include <rill/actors/reader_state.hpp>
#include <rill/actors/redis/command.hpp>

#include <spdlog/spdlog.h>

#include <memory>
#include <unordered_set>

namespace rill::detail {

namespace {

/// One key's fetch: one XRANGE per parked ID, pipelined on the shared
/// connection; the answer goes to key_order once all have replied.
struct parked_fetch {
  key_order::fetch what;
  std::vector<stream_entry> found;
  size_t replies = 0;
  bool failed = false;
  std::string error;
};

void finish(reader_ptr self, parked_fetch& f) {
  auto& st = self->state;
  --st.key_fetching;
  if (f.failed) {
    st.keys.fetch_failed(f.what.key);
    if (st.key_fetch_failures++ == 0)
      spdlog::warn("consumer {}: cannot read parked entries back (they stay pending; tried "
                   "again): {}",
                   label(st), f.error);
    if (!st.key_fetch_armed && !st.stopping) {
      st.key_fetch_armed = true;
      self->delayed_send(self, st.opts.retry_min, key_fetch_atom::value);
    }
    step(self);
    return;
  }
  st.key_fetch_failures = 0;
  std::unordered_set<std::string> got;
  for (const auto& e : f.found)
    got.insert(e.id);
  auto next = st.keys.fetched(f.what.key, std::move(f.found));
  // Pending IDs whose entry is gone (trimmed, deleted) can never be
  // delivered: ack them, as a re-read of the own pending list does.
  for (auto& id : f.what.ids)
    if (got.count(id) == 0) {
      st.metrics->deleted.fetch_add(1, std::memory_order_relaxed);
      ack_later(self, std::move(id));
    }
  if (next && !st.stopping)
    st.waiting.push_front(std::move(*next));
  fetch_parked(self); // a key whose fetched entries were all gone fetches on
  step(self);
}

} // namespace

void fetch_parked(reader_ptr self) {
  auto& st = self->state;
  if (st.stopping)
    return; // what is parked stays pending for the next run
  for (auto& what : st.keys.take_fetches()) {
    ++st.key_fetching;
    auto f = std::make_shared<parked_fetch>();
    f->what = std::move(what);
    for (const auto& id : f->what.ids)
      ask(self, st.shared_conn, st.opts.request_timeout,
          make_command({"XRANGE", st.opts.stream, id, id}))
        .then(
          [self, f](redis_reply& reply) {
            auto entries = parse_entry_list(std::move(reply));
            if (!entries) {
              f->failed = true;
              f->error = describe(entries.error());
            } else {
              for (auto& e : entries->entries)
                f->found.push_back(std::move(e));
            }
            if (++f->replies == f->what.ids.size())
              finish(self, *f);
          },
          [self, f](caf::error& err) {
            f->failed = true;
            f->error = describe(err);
            if (++f->replies == f->what.ids.size())
              finish(self, *f);
          });
  }
}

void retry_key_fetches(reader_ptr self) {
  self->state.key_fetch_armed = false;
  fetch_parked(self);
}

} // namespace rill::detail
