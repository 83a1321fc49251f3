#include "actors/producer.hpp"

#include "runtime/error.hpp"
#include "runtime/messages.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <deque>

namespace rill {

namespace {

using field_list = std::vector<std::string>;

struct job {
  std::vector<redis_command> cmds;
  caf::response_promise promise;
  bool single = true;
};

struct producer_state {
  producer_options opts;
  caf::actor commands;
  uint32_t in_flight = 0;
  std::deque<job> queue;

  static inline const char* name = "rill.producer";
};

using producer_ptr = caf::stateful_actor<producer_state>*;

caf::expected<redis_command> make_xadd(const producer_options& opts, const std::string& stream,
                                       field_list fields) {
  if (fields.empty() || fields.size() % 2 != 0)
    return make_error(sec::invalid_argument,
                      "XADD needs a non-empty, even list of field names and values");
  redis_command cmd;
  cmd.argv.reserve(fields.size() + 6);
  cmd.arg("XADD").arg(stream);
  if (opts.maxlen > 0)
    cmd.arg("MAXLEN").arg("~").arg(std::to_string(opts.maxlen));
  cmd.arg("*");
  for (auto& f : fields)
    cmd.argv.emplace_back(std::move(f));
  return cmd;
}

void start(producer_ptr self, job j);

void next(producer_ptr self) {
  auto& st = self->state;
  --st.in_flight;
  if (!st.queue.empty()) {
    auto j = std::move(st.queue.front());
    st.queue.pop_front();
    start(self, std::move(j));
  }
}

void start(producer_ptr self, job j) {
  auto& st = self->state;
  ++st.in_flight;
  auto rp = j.promise;
  auto single = j.single;
  // No CAF timer per request: the connection fails a request whose deadline
  // passed (a timer would wake CAF's clock thread twice per XADD batch).
  self->request(st.commands, caf::infinite, std::move(j.cmds))
    .then(
      [self, rp, single](std::vector<redis_reply>& replies) mutable {
        std::vector<std::string> ids;
        ids.reserve(replies.size());
        for (auto& r : replies) {
          if (r.is_error()) {
            rp.deliver(make_error(sec::reply_error, "XADD failed for "
                                                      + std::to_string(replies.size() - ids.size())
                                                      + " of " + std::to_string(replies.size())
                                                      + " entries: " + r.str));
            next(self);
            return;
          }
          ids.emplace_back(std::move(r.str));
        }
        if (single)
          rp.deliver(std::move(ids.front()));
        else
          rp.deliver(std::move(ids));
        next(self);
      },
      [self, rp](caf::error& err) mutable {
        rp.deliver(std::move(err));
        next(self);
      });
}

void submit(producer_ptr self, job j) {
  auto& st = self->state;
  if (st.in_flight < st.opts.max_in_flight) {
    start(self, std::move(j));
  } else if (st.queue.size() < st.opts.max_queued) {
    st.queue.emplace_back(std::move(j));
  } else {
    j.promise.deliver(make_error(sec::backpressure, "producer has "
                                                      + std::to_string(st.queue.size())
                                                      + " requests queued; slow down"));
  }
}

caf::behavior producer(producer_ptr self, producer_options opts, caf::actor commands) {
  auto& st = self->state;
  st.opts = opts;
  st.commands = std::move(commands);
  return {
    [self](xadd_atom, const std::string& stream, field_list& fields) -> caf::result<std::string> {
      auto rp = self->make_response_promise();
      auto cmd = make_xadd(self->state.opts, stream, std::move(fields));
      if (!cmd) {
        rp.deliver(cmd.error());
      } else {
        job j{{}, rp, true};
        j.cmds.emplace_back(std::move(*cmd));
        submit(self, std::move(j));
      }
      return caf::delegated<std::string>{};
    },
    [self](xadd_atom, const std::string& stream,
           std::vector<field_list>& batch) -> caf::result<std::vector<std::string>> {
      auto rp = self->make_response_promise();
      job j{{}, rp, false};
      j.cmds.reserve(batch.size());
      for (auto& fields : batch) {
        auto cmd = make_xadd(self->state.opts, stream, std::move(fields));
        if (!cmd) {
          rp.deliver(cmd.error());
          return caf::delegated<std::vector<std::string>>{};
        }
        j.cmds.emplace_back(std::move(*cmd));
      }
      if (j.cmds.empty())
        rp.deliver(std::vector<std::string>{});
      else
        submit(self, std::move(j));
      return caf::delegated<std::vector<std::string>>{};
    },
  };
}

} // namespace

caf::actor spawn_producer(caf::actor_system& sys, producer_options opts, caf::actor commands) {
  return sys.spawn(producer, std::move(opts), std::move(commands));
}

} // namespace rill
