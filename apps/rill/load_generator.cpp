#include "load_generator.hpp"

#include "seq_checksum.hpp"

#include <rill/actors/backoff.hpp>
#include <rill/actors/error.hpp>
#include <rill/actors/messages.hpp>
#include <rill/actors/redis/command.hpp>
#include <rill/actors/stream_entry.hpp>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <spdlog/spdlog.h>

#include <chrono>
#include <map>
#include <unordered_set>

namespace rill {

uint64_t drill_key(uint64_t seq, uint64_t keys) {
  return seq_hash(seq) % keys;
}

namespace {

using field_list = std::vector<std::string>;

/// Entries to send together: their seqs, and the ms part of their IDs
/// (`<ms>-<seq>`; 0: "*", IDs by Redis).
struct batch {
  std::vector<uint64_t> seqs;
  uint64_t ms = 0;
  /// Sent before with an unknown outcome (reply lost, or refused on a resend):
  /// Redis may already have some of these entries.
  bool resend = false;
};

std::string id_of(const batch& b, size_t i) {
  return b.ms > 0 ? std::to_string(b.ms) + "-" + std::to_string(b.seqs[i]) : std::string{"*"};
}

struct generator_state {
  load_plan plan;
  producer_actor producer;
  connection_actor conn; // to check which resent entries Redis has
  std::shared_ptr<load_progress> progress;
  /// The ms part of new IDs: plan.id_ms, raised above every ID sent so far
  /// when refused entries need new IDs.
  uint64_t id_ms = 0;
  /// XRANGE checks outstanding: no new batch meanwhile.
  uint32_t checking = 0;
  std::string payload; // template, rotated per entry
  uint64_t next = 0;   // next seq to send
  uint32_t batch_size = 0;
  uint32_t window = 0;
  uint32_t in_flight = 0;
  /// Batches to send again, by their first ID (ms, seq): before any new one,
  /// in ID order, once nothing is in flight, so Redis never refuses one of
  /// them for a higher ID of ours.
  std::map<std::pair<uint64_t, uint64_t>, batch> again;
  bool retry_armed = false;
  std::chrono::steady_clock::time_point start;
  bool tick_armed = false;
  rill::backoff retry{std::chrono::milliseconds{50}, std::chrono::seconds{2}};

  static inline const char* name = "rill.load_generator";
};

using generator_ptr = caf::stateful_actor<generator_state>*;

int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

std::vector<field_list> make_fields(generator_state& st, const std::vector<uint64_t>& seqs) {
  std::vector<field_list> out;
  out.reserve(seqs.size());
  auto ts = std::to_string(now_us());
  for (auto seq : seqs) {
    field_list fields;
    fields.reserve(6);
    fields.emplace_back("seq");
    fields.emplace_back(std::to_string(seq));
    fields.emplace_back("payload");
    auto& p = fields.emplace_back(st.payload);
    if (!p.empty())
      p[0] = static_cast<char>('a' + seq % 26); // not all entries identical
    fields.emplace_back("ts");
    fields.emplace_back(ts);
    if (st.plan.keys > 0) {
      fields.emplace_back("key");
      fields.emplace_back("k" + std::to_string(drill_key(seq, st.plan.keys)));
    }
    out.emplace_back(std::move(fields));
  }
  return out;
}

/// Errors after which the same request can succeed.
bool retryable(const caf::error& err) {
  switch (code_of(err)) {
    case sec::redis_unavailable:
    case sec::connect_failed:
    case sec::connection_lost:
    case sec::request_timeout:
    case sec::backpressure:
    case sec::server_busy:
      return true;
    default:
      return false;
  }
}

/// Sent, but no reply: written or not, nobody knows.
bool outcome_unknown(const caf::error& err) {
  auto code = code_of(err);
  return code == sec::connection_lost || code == sec::request_timeout;
}

void pump(generator_ptr self);

void give_up(generator_ptr self, std::string why) {
  auto& st = self->state;
  spdlog::error("producing to {} stopped: {}", st.plan.stream, why);
  st.progress->error = std::move(why);
  st.progress->finished = true;
  self->quit();
}

void send_again_later(generator_ptr self, batch b) {
  auto& st = self->state;
  auto first = std::make_pair(b.ms, b.seqs.front());
  st.again[first] = std::move(b);
  if (!st.retry_armed) {
    st.retry_armed = true;
    self->delayed_send(self, st.retry.next(), retry_atom::value);
  }
}

/// Entries known not to be in Redis, sent again under IDs above every one
/// sent so far: Redis may hold later entries of ours by now (a refusal for
/// memory or loading is per entry), and would refuse the old IDs.
batch renumbered(generator_state& st, std::vector<uint64_t> seqs) {
  batch b;
  b.seqs = std::move(seqs);
  if (st.id_ms > 0) {
    auto now_ms = static_cast<uint64_t>(now_us() / 1000);
    st.id_ms = std::max(now_ms, st.id_ms + 1);
    b.ms = st.id_ms;
  }
  return b;
}

void written(generator_ptr self, uint64_t n) {
  auto& st = self->state;
  auto done = st.progress->produced.fetch_add(n) + n;
  if (done >= st.plan.count) {
    st.progress->finished = true;
    self->quit();
  }
}

/// Resent entries Redis refused as "equal or smaller than the top item": one
/// XRANGE over their IDs tells which it has (written before their reply was
/// lost) and which it does not (passed by a later entry of ours after a
/// refusal), so neither a loss nor a double is counted as written.
void check_resent(generator_ptr self, batch unsure) {
  auto& st = self->state;
  ++st.checking;
  auto cmd = make_command(
    {"XRANGE", st.plan.stream, id_of(unsure, 0), id_of(unsure, unsure.seqs.size() - 1)});
  self->request(st.conn, caf::infinite, std::move(cmd))
    .then(
      [self, unsure](redis_reply& reply) mutable {
        auto& st = self->state;
        --st.checking;
        auto entries = parse_entry_list(std::move(reply));
        if (!entries) {
          send_again_later(self, std::move(unsure));
          return;
        }
        std::unordered_set<std::string> held;
        for (auto& e : entries->entries)
          held.insert(std::move(e.id));
        std::vector<uint64_t> missing;
        uint64_t there = 0;
        for (size_t i = 0; i < unsure.seqs.size(); ++i) {
          if (held.count(id_of(unsure, i)))
            ++there;
          else
            missing.push_back(unsure.seqs[i]);
        }
        if (!missing.empty())
          send_again_later(self, renumbered(st, std::move(missing)));
        written(self, there);
        if (!st.progress->finished)
          pump(self);
      },
      [self, unsure](caf::error&) mutable {
        --self->state.checking;
        send_again_later(self, std::move(unsure)); // asked again after the resend
      });
}

void on_results(generator_ptr self, batch& b, xadd_results& res) {
  auto& st = self->state;
  uint64_t ok = 0;
  std::vector<uint64_t> refused; // not written now: sent again
  batch unsure;                  // resent, and Redis has their IDs or later ones
  unsure.ms = b.ms;
  unsure.resend = true;
  for (size_t i = 0; i < b.seqs.size(); ++i) {
    if (!res.ids[i].empty()) {
      ++ok;
      continue;
    }
    const auto& why = res.errors[i];
    if (why.find("equal or smaller than the target stream top item") != std::string::npos) {
      if (b.resend) {
        unsure.seqs.push_back(b.seqs[i]);
        continue;
      }
      give_up(self, "entry " + id_of(b, i) + " of " + st.plan.stream
                      + " is not above the stream's last ID: another producer writes to it (" + why
                      + ")");
      return;
    }
    auto err = error_from_reply(why);
    if (!why.empty() && why.rfind("OOM", 0) != 0 && !retryable(err)) {
      give_up(self, "XADD of seq " + std::to_string(b.seqs[i]) + ": " + why);
      return;
    }
    refused.push_back(b.seqs[i]);
  }
  if (!refused.empty()) {
    if (st.progress->failures.fetch_add(1) == 0)
      spdlog::warn("{} of {} entries refused, sending them again: {}", refused.size(),
                   b.seqs.size(), res.errors[0].empty() ? "" : res.errors[0]);
    if (b.resend) { // still unknown: maybe written before the lost reply
      batch again = b;
      again.seqs = std::move(refused);
      send_again_later(self, std::move(again));
    } else {
      send_again_later(self, renumbered(st, std::move(refused)));
    }
  } else {
    st.retry.reset();
  }
  if (!unsure.seqs.empty())
    check_resent(self, std::move(unsure));
  written(self, ok);
}

void send(generator_ptr self, batch b) {
  auto& st = self->state;
  ++st.in_flight;
  auto fields = make_fields(st, b.seqs);
  std::vector<std::string> ids;
  ids.reserve(b.seqs.size());
  for (size_t i = 0; i < b.seqs.size(); ++i)
    ids.push_back(id_of(b, i));
  // The producer answers every request (its connection enforces deadlines):
  // no CAF timer per batch.
  self
    ->request(st.producer, caf::infinite, xadd_atom::value, st.plan.stream, std::move(ids),
              std::move(fields))
    .then(
      [self, b](xadd_results& res) mutable {
        --self->state.in_flight;
        on_results(self, b, res);
        if (self->state.progress->finished)
          return;
        pump(self);
      },
      [self, b](caf::error& err) mutable {
        auto& st = self->state;
        --st.in_flight;
        if (!retryable(err)) {
          give_up(self, describe(err));
          return;
        }
        if (st.progress->failures.fetch_add(1) == 0 || st.retry.attempts() == 0)
          spdlog::warn("producing seq {}..{} failed, sending again: {}", b.seqs.front(),
                       b.seqs.back(), describe(err));
        if (outcome_unknown(err))
          b.resend = true;
        send_again_later(self, std::move(b));
      });
}

batch fresh(generator_state& st, uint64_t n) {
  batch b;
  b.ms = st.id_ms;
  for (uint64_t seq = st.next; seq < st.next + n; ++seq)
    b.seqs.push_back(seq);
  st.next += n;
  return b;
}

void pump(generator_ptr self) {
  auto& st = self->state;
  if (!st.again.empty() || st.checking > 0)
    return; // the retry timer sends them, then new ones follow
  while (st.in_flight < st.window && st.next < st.plan.count) {
    uint64_t allowed = st.plan.count;
    if (st.plan.rate > 0) {
      auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - st.start);
      allowed = std::min<uint64_t>(st.plan.count,
                                   static_cast<uint64_t>(elapsed.count() * st.plan.rate) + 1);
    }
    if (allowed <= st.next) {
      if (!st.tick_armed) {
        st.tick_armed = true;
        self->delayed_send(self, std::chrono::microseconds{500}, tick_atom::value);
      }
      return;
    }
    auto n = std::min<uint64_t>(st.batch_size, allowed - st.next);
    send(self, fresh(st, n));
  }
}

void send_again(generator_ptr self) {
  auto& st = self->state;
  st.retry_armed = false;
  if (st.in_flight > 0 || st.checking > 0) { // wait for every earlier outcome
    st.retry_armed = true;
    self->delayed_send(self, std::chrono::milliseconds{10}, retry_atom::value);
    return;
  }
  auto again = std::move(st.again);
  st.again.clear();
  for (auto& [first, b] : again)
    send(self, std::move(b)); // in ID order, pipelined on one connection
}

caf::behavior generator(generator_ptr self, producer_actor producer, connection_actor conn,
                        load_plan plan, std::shared_ptr<load_progress> progress) {
  auto& st = self->state;
  st.plan = std::move(plan);
  st.id_ms = st.plan.id_ms;
  st.producer = std::move(producer);
  st.conn = std::move(conn);
  st.progress = std::move(progress);
  st.payload.resize(st.plan.payload_bytes);
  for (size_t i = 0; i < st.payload.size(); ++i)
    st.payload[i] = static_cast<char>('a' + i % 26);
  auto entry_bytes = std::max<uint64_t>(1, st.plan.payload_bytes + 64);
  auto per_batch = std::max<uint64_t>(1, st.plan.max_bytes / 8 / entry_bytes);
  st.batch_size = static_cast<uint32_t>(std::min<uint64_t>(st.plan.batch, per_batch));
  auto batches = std::max<uint64_t>(1, st.plan.max_bytes / (entry_bytes * st.batch_size));
  st.window = static_cast<uint32_t>(std::min<uint64_t>(st.plan.window, batches));
  st.start = std::chrono::steady_clock::now();
  self->attach_functor([p = st.progress] { p->finished = true; });
  if (st.plan.count == 0) {
    self->quit();
    return {};
  }
  pump(self);
  return {
    [self](tick_atom) {
      self->state.tick_armed = false;
      pump(self);
    },
    [self](retry_atom) { send_again(self); },
  };
}

} // namespace

caf::actor spawn_load_generator(caf::actor_system& sys, producer_actor producer,
                                connection_actor conn, load_plan plan,
                                std::shared_ptr<load_progress> progress) {
  return sys.spawn(generator, std::move(producer), std::move(conn), std::move(plan),
                   std::move(progress));
}

} // namespace rill
