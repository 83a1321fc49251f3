#include "actors/load_generator.hpp"

#include "runtime/backoff.hpp"
#include "runtime/error.hpp"
#include "runtime/messages.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <spdlog/spdlog.h>

#include <chrono>

namespace rill {

namespace {

using field_list = std::vector<std::string>;

struct generator_state {
  load_plan plan;
  caf::actor producer;
  std::shared_ptr<load_progress> progress;
  std::string payload; // template, rotated per entry
  uint64_t next = 0;   // next seq to send
  uint32_t in_flight = 0;
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

std::vector<field_list> make_batch(generator_state& st, uint64_t first, uint64_t n) {
  std::vector<field_list> batch;
  batch.reserve(n);
  auto ts = std::to_string(now_us());
  for (uint64_t seq = first; seq < first + n; ++seq) {
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
    batch.emplace_back(std::move(fields));
  }
  return batch;
}

void pump(generator_ptr self);

void send_batch(generator_ptr self, uint64_t first, uint64_t n) {
  auto& st = self->state;
  ++st.in_flight;
  // The producer answers every request (its connection enforces deadlines):
  // no CAF timer per batch.
  self
    ->request(st.producer, caf::infinite, xadd_atom::value, st.plan.stream,
              make_batch(st, first, n))
    .then(
      [self, n](std::vector<std::string>&) {
        auto& st = self->state;
        --st.in_flight;
        st.retry.reset();
        auto done = st.progress->produced.fetch_add(n) + n;
        if (done >= st.plan.count) {
          st.progress->finished = true;
          self->quit();
          return;
        }
        pump(self);
      },
      [self, first, n](caf::error& err) {
        auto& st = self->state;
        --st.in_flight;
        if (st.progress->failures.fetch_add(1) == 0 || st.retry.attempts() == 0)
          spdlog::warn("producing seq {}..{} failed, retrying: {}", first, first + n - 1,
                       describe(err));
        auto delay = st.retry.next();
        self->delayed_send(self, delay, retry_atom::value, first, n);
      });
}

void pump(generator_ptr self) {
  auto& st = self->state;
  while (st.in_flight < st.plan.window && st.next < st.plan.count) {
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
    auto n = std::min<uint64_t>({st.plan.batch, allowed - st.next});
    send_batch(self, st.next, n);
    st.next += n;
  }
}

caf::behavior generator(generator_ptr self, caf::actor producer, load_plan plan,
                        std::shared_ptr<load_progress> progress) {
  auto& st = self->state;
  st.plan = std::move(plan);
  st.producer = std::move(producer);
  st.progress = std::move(progress);
  st.payload.resize(st.plan.payload_bytes);
  for (size_t i = 0; i < st.payload.size(); ++i)
    st.payload[i] = static_cast<char>('a' + i % 26);
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
    [self](retry_atom, uint64_t first, uint64_t n) { send_batch(self, first, n); },
  };
}

} // namespace

caf::actor spawn_load_generator(caf::actor_system& sys, caf::actor producer, load_plan plan,
                                std::shared_ptr<load_progress> progress) {
  return sys.spawn(generator, std::move(producer), std::move(plan), std::move(progress));
}

} // namespace rill
