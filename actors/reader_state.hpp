#pragma once

// Internal to the reader actor (reader.cpp: the read -> deliver -> ack flow;
// reader_recovery.cpp: redelivery, dead letters, claims, leases, sweeps).

#include <rill/actors/backoff.hpp>
#include <rill/actors/messages.hpp>
#include <rill/actors/reader.hpp>
#include <rill/actors/streak.hpp>

#include <caf/actor_clock.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

namespace rill::detail {

/// The actor clock (steady_clock; virtual time under the test coordinator).
using steady = caf::actor_clock::clock_type;

struct slot {
  caf::actor worker;
  /// The relay on the worker's node that takes its entries in batches (remote
  /// workers), or invalid (entries go straight to the worker).
  caf::actor relay;
  /// ID of the entry the worker holds; empty when idle.
  std::string id;
  steady::time_point since;
  bool busy = false;
  bool alive = true;
  /// Withdrawn (its node stops): no entry after the one it holds.
  bool retiring = false;
};

/// A relay waiting until its workers hold no entries.
struct withdrawal {
  caf::actor_addr relay;
  caf::response_promise done;
};

/// A failed entry waiting for its redelivery.
struct retry_item {
  steady::time_point due;
  stream_entry entry;
};

/// A dead letter whose script failed, to be written again. Only its ID is
/// kept: the entry stays pending in Redis (its lease renewed) and is fetched
/// again for the next attempt, so poison entries whose dead letter cannot be
/// written hold neither a worker nor memory for their fields.
struct dead_item {
  std::string id;
  std::string reason;
};

struct reader_state {
  enum class phase : uint8_t { setup, backlog, live };

  consumer_options opts;
  std::string dead_stream;
  caf::actor conn;     // own connection: XGROUP CREATE, XREADGROUP
  caf::actor commands; // shared connection: everything else
  std::shared_ptr<consumer_metrics> metrics;

  phase current = phase::setup;
  std::vector<slot> slots;
  std::vector<withdrawal> withdrawals;
  /// Idle worker slots.
  std::vector<uint32_t> idle;
  uint32_t busy = 0;

  // Entries the reader holds outside workers. All of them count against the
  // credits, so the reader never holds more than max_in_flight entries.
  std::deque<stream_entry> waiting;  // ready for the next idle worker
  std::vector<retry_item> retries;   // failed, waiting for their backoff
  std::vector<dead_item> dead_retry; // dead letter not written yet (no credit)
  uint32_t annotating = 0;           // waiting for their delivery counts
  uint32_t reclaiming = 0;           // in an XCLAIM for redelivery
  uint32_t dead_in_flight = 0;       // in a dead-letter script
  uint32_t dead_fetching = 0;        // dead_retry entries being fetched again (no credit)

  bool setup_outstanding = false; // XGROUP CREATE
  /// XREADGROUPs in flight (up to 2 for `>` reads, 1 for own pending) and the
  /// entries they may return: reserved credits.
  uint32_t reads_outstanding = 0;
  uint64_t reserved = 0;
  std::string backlog_cursor = "0";
  uint64_t read_total = 0;
  int64_t conn_client_id = -1;
  bool conn_lost = false;

  /// Deliveries for remote workers, one batch per relay, sent at the end of
  /// the burst (a `send_atom` to self queues behind the messages already here).
  std::vector<std::pair<caf::actor, delivery_batch>> outbox;

  std::vector<std::string> acks;
  bool flush_armed = false;
  uint32_t acks_in_flight = 0;
  std::vector<std::shared_ptr<std::vector<std::string>>> unconfirmed;

  rill::backoff retry{std::chrono::milliseconds{100}, std::chrono::seconds{5}};
  rill::backoff ack_retry{std::chrono::milliseconds{100}, std::chrono::seconds{5}};
  rill::backoff dead_retry_backoff{std::chrono::milliseconds{100}, std::chrono::seconds{5}};
  bool retry_armed = false;
  uint64_t retry_epoch = 0;
  bool failing = false;

  bool redeliver_armed = false;
  steady::time_point redeliver_at;
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

  /// Entries held outside workers (a dead letter waiting for another try
  /// holds no credit).
  size_t held() const noexcept {
    return waiting.size() + retries.size() + annotating + reclaiming + dead_in_flight;
  }

  /// Idle workers not spoken for by held entries or reads in flight.
  size_t credits() const noexcept {
    auto h = held() + reserved;
    return idle.size() > h ? idle.size() - h : 0;
  }

  /// True if the reader holds `id` (in a worker, waiting, retrying, or acked
  /// and not yet confirmed).
  bool holds(const std::string& id) const;

  static inline const char* name = "rill.reader";
};

using reader_ptr = caf::stateful_actor<reader_state>*;

std::string label(const reader_state& st);

// -- reader.cpp ------------------------------------------------------------------------

void maybe_read(reader_ptr self);
void unblock_reads(reader_ptr self);
void dispatch_waiting(reader_ptr self);
void ack_later(reader_ptr self, std::string id);
void check_done(reader_ptr self);

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
