#pragma once

// Internal to the reader actor: its state (the parts in actors/reader/ plus
// what glues them) and the functions its files share. reader.cpp has the
// message handlers; the sections below name the file of each function.

#include <rill/actors/backoff.hpp>
#include <rill/actors/clock.hpp>
#include <rill/actors/connection_ref.hpp>
#include <rill/actors/interfaces.hpp>
#include <rill/actors/messages.hpp>
#include <rill/actors/reader.hpp>
#include <rill/actors/reader/ack_batcher.hpp>
#include <rill/actors/reader/key_order.hpp>
#include <rill/actors/reader/read_planner.hpp>
#include <rill/actors/reader/retry_queue.hpp>
#include <rill/actors/reader/slot_table.hpp>
#include <rill/actors/streak.hpp>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace rill::detail {

/// A relay waiting until its workers hold no entries.
struct withdrawal {
  caf::actor_addr relay;
  caf::response_promise done;
};

struct reader_state {
  consumer_options opts;
  std::string dead_stream;
  // Both through their links where they have one (actors/connection_ref.hpp):
  // every request of the reader goes the same way, so none overtakes another.
  connection_ref own_conn;    // XGROUP CREATE, XREADGROUP, orphan scans
  connection_ref shared_conn; // the runtime's shared connection: everything else
  std::shared_ptr<consumer_metrics> metrics;

  // The parts (actors/reader/): plain classes with their own unit tests.
  slot_table slots;
  read_planner reads;
  ack_batcher acks;
  effect_batcher effects; // entries with staged effects, for the effects script
  retry_queue retries;
  key_order keys; // with order_by: entries waiting behind a busy key
  /// With order_by and max_key_hold: when each failing holder first failed.
  std::unordered_map<std::string, steady::time_point> first_failed;
  std::vector<withdrawal> withdrawals;

  // Entries the reader holds outside workers. All of them count against the
  // credits, so the reader never holds more than max_in_flight entries.
  std::deque<stream_entry> waiting; // ready for the next idle worker
  uint32_t annotating = 0;          // waiting for their delivery counts
  uint32_t reclaiming = 0;          // in an XCLAIM for redelivery
  uint32_t dead_in_flight = 0;      // in a dead-letter script
  uint32_t dead_fetching = 0;       // dead letters being fetched again (no credit)
  uint32_t key_fetching = 0;        // keys reading parked entries back (XRANGE)
  uint64_t key_fetch_failures = 0;  // in a row: one line per streak
  bool key_fetch_armed = false;

  bool setup_outstanding = false; // XGROUP CREATE
  int64_t conn_client_id = -1;
  bool conn_lost = false;

  /// Deliveries for remote workers, one batch per relay, sent at the end of
  /// the burst (a `send_atom` to self queues behind the messages already here).
  std::vector<std::pair<caf::actor, delivery_batch>> outbox;

  rill::backoff retry{std::chrono::milliseconds{100}, std::chrono::seconds{5}};
  rill::backoff ack_retry{std::chrono::milliseconds{100}, std::chrono::seconds{5}};
  rill::backoff dead_retry_backoff{std::chrono::milliseconds{100}, std::chrono::seconds{5}};
  bool retry_armed = false;
  uint64_t retry_epoch = 0;
  bool failing = false;

  bool dead_retry_armed = false;
  bool claim_outstanding = false;
  /// A claim waits for a blocked read to be unblocked (its credits freed).
  bool claim_pending = false;
  std::string claim_cursor = "0-0";

  /// IDs on their way between Redis and the reader outside a read: being
  /// annotated with delivery counts, claimed back for a redelivery or a
  /// dead letter, or in a dead-letter script. Held, for the orphan scan.
  std::unordered_set<std::string> in_transit;
  /// XAUTOCLAIMs sent: a scan that overlapped one cannot tell its entries
  /// from orphans.
  uint64_t claims_sent = 0;
  bool orphan_scan_outstanding = false;

  bool stopping = false;

  // -- the name lease (reader_name_lease.cpp) ----------------------------------
  std::string name_token;
  bool name_claim_started = false;
  bool name_leased = false;
  /// No lease possible (e.g. the ACL user may not write the key): not checked.
  bool name_lease_off = false;
  /// Since when a live-looking holder keeps us waiting.
  steady::time_point name_wait_since;
  /// Workers going down (node kills take many at once): one line per streak.
  rill::streak worker_deaths;
  bool streak_redelivered = false;
  /// Failed XACKs until one works again.
  rill::streak ack_failures;

  // -- staged effects (reader_effects.cpp) ---------------------------------------------
  rill::backoff effects_retry{std::chrono::milliseconds{100}, std::chrono::seconds{5}};
  /// Send EVAL with the script's text next (Redis answered NOSCRIPT: it was
  /// restarted, failed over, or SCRIPT FLUSHed).
  bool effects_by_text = false;
  /// The next this many pending items go one per script: their batch was
  /// refused as a whole, so each entry gets its own answer.
  size_t effects_single = 0;
  rill::streak effect_failures;

  /// Entries held outside workers (a dead letter waiting for another try
  /// holds no credit). Entries waiting for their effects script beyond one
  /// pool's worth hold credits too: when Redis runs the scripts slower than the workers finish
  /// entries, reading slows down instead of the batch growing without bound
  /// (300,000 entries at K=64: 42 MB of RSS against 19 MB without effects).
  size_t held() const noexcept {
    auto effects_over
      = effects.unflushed() > opts.max_in_flight ? effects.unflushed() - opts.max_in_flight : 0;
    return waiting.size() + retries.retries() + annotating + reclaiming + dead_in_flight
           + effects_over;
  }

  /// Idle workers not spoken for by held entries or reads in flight; with
  /// order_by also within the window of workers + max_waiting, so entries
  /// waiting behind keys stay bounded.
  size_t credits() const noexcept {
    auto free = slots.free_workers(held() + reads.reserved());
    if (!keys.enabled())
      return free;
    auto window = slots.size() + (opts.max_waiting > 0 ? opts.max_waiting : slots.size());
    auto out = slots.busy() + held() + reads.reserved() + keys.waiting();
    // Parked entries hold no memory but an ID; past max_parked, reading pauses.
    if (out >= window || (opts.max_parked > 0 && keys.parked() >= opts.max_parked))
      return 0;
    return std::min(free, window - out);
  }

  /// True if the reader holds `id` (in a worker, waiting, retrying, or acked
  /// and not yet confirmed).
  bool holds(const std::string& id) const;

  static inline const char* name = "rill.reader";
};

using reader_ptr = caf::stateful_actor<reader_state>*;

std::string label(const reader_state& st);

// -- reader.cpp ------------------------------------------------------------------------

/// The after-event step, run at the end of every handler that changes what
/// the reader holds: hand waiting entries to idle workers, redeliver what is
/// due, read if there are credits, quit if stopping and nothing is left.
void step(reader_ptr self);
void unblock_reads(reader_ptr self);
/// Acks `id` with the next XACK batch.
void ack_later(reader_ptr self, std::string id);
/// The entry `id` left the reader (acked, dead-lettered, deleted): with
/// order_by its key goes to the next entry waiting for it.
void settled(reader_ptr self, const std::string& id);
/// Records a failure, logs it once per streak, and schedules a retry.
void fail(reader_ptr self, const caf::error& err);
void recovered(reader_ptr self);
// -- reader_reads.cpp ------------------------------------------------------------------

/// Reads if the planner says so (credits, phase, pipelining).
void maybe_read(reader_ptr self);

// -- reader_acks.cpp -------------------------------------------------------------------

/// Gives `entry` to an idle worker (requires one).
void dispatch(reader_ptr self, stream_entry&& entry);
void on_ack(reader_ptr self, uint32_t index, std::string id);
void on_nack(reader_ptr self, uint32_t index, stream_entry&& entry, const caf::error& err);
/// Sends the pending acks as one XACK.
void flush(reader_ptr self);

/// Does what a batcher (acks, effects) asked for after an add: flush now with
/// `flush_now`, or arm its flush timer (`timer` to self after ack_delay).
template <class Next, class Atom>
void after_add(reader_ptr self, Next next, void (*flush_now)(reader_ptr), Atom timer) {
  if (next == Next::flush_now)
    flush_now(self);
  else if (next == Next::arm_timer)
    self->delayed_send(self, self->state.opts.ack_delay, timer);
}

// -- reader_effects.cpp -----------------------------------------------------------------

/// A worker's entry succeeded with staged effects: its worker is free; the
/// effects go with its XACK in the next effects script.
void on_effects(reader_ptr self, uint32_t index, stream_entry&& entry, std::vector<effect>&& fx);
/// Sends the pending effects as one script (or one per entry after a refusal).
void flush_effects(reader_ptr self);

// -- reader_workers.cpp -----------------------------------------------------------------

/// A worker offered its credit (once, when it starts).
void add_worker(reader_ptr self, caf::actor relay);
/// The workers behind the sender (an ack relay whose node stops) get no new
/// entries; the reply comes when they hold none.
caf::result<drained_atom> withdraw(reader_ptr self);
/// The entry of slot `index` is settled (acked or failed).
void release(reader_ptr self, uint32_t index);
void on_worker_down(reader_ptr self, const caf::down_msg& msg);
/// Summarises a streak of dead workers one second after its first line.
void close_worker_streak(reader_ptr self);

/// Creates the group if missing, then reads (once the name is leased).
void setup_group(reader_ptr self);

// -- reader_name_lease.cpp ------------------------------------------------------------

/// Takes (then sets up the group) or renews the lease on the consumer name;
/// refuses to run if a live process holds it.
void claim_name_lease(reader_ptr self, std::string takeover = {});
void renew_name_lease(reader_ptr self);
/// Gives the name back at a graceful end.
void release_name_lease(reader_ptr self);

// -- reader_recovery.cpp --------------------------------------------------------------

/// Looks up the delivery counts of entries Redis delivered before (own
/// pending list, claims), dead-letters those delivered too often, and queues
/// the rest for workers.
void admit_redelivered(reader_ptr self, std::vector<stream_entry> entries);

/// A worker failed `entry`: schedule a redelivery or dead-letter it.
void on_failure(reader_ptr self, stream_entry entry, const caf::error& err);

/// Redelivers failed entries whose backoff has passed, while workers are idle.
void redeliver_due(reader_ptr self);

void retry_dead_letters(reader_ptr self);

/// Writes `entry` to the dead-letter stream and acks it (one script); on
/// failure it stays pending and is tried again with backoff.
void dead_letter(reader_ptr self, stream_entry entry, std::string reason);

// -- reader_parked.cpp ------------------------------------------------------------------

/// Reads back the parked entries of keys whose in-memory queue is down to half.
void fetch_parked(reader_ptr self);
/// After a failed fetch's backoff.
void retry_key_fetches(reader_ptr self);

// -- reader_claims.cpp ------------------------------------------------------------------

/// Starts the claim, lease and sweep timers (as configured).
void start_recovery_timers(reader_ptr self);

void claim(reader_ptr self);

/// Looks for entries pending for this consumer that it does not hold (a read
/// whose reply was lost, or that ran in Redis after its connection was
/// closed) and queues them for redelivery. The XPENDING goes on the reader's
/// own connection, behind the reads before it and ahead of those after it, so
/// every entry of an answered read is held by the time the reply arrives.
void scan_orphans(reader_ptr self);
void renew_leases(reader_ptr self);
void sweep_consumers(reader_ptr self);

} // namespace rill::detail
