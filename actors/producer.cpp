#include <rill/actors/producer.hpp>

#include <rill/actors/connection_ref.hpp>
#include <rill/actors/error.hpp>
#include <rill/actors/messages.hpp>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <deque>

namespace rill {

namespace {

struct job {
  enum class reply : uint8_t { single, ids, results };
  std::vector<redis_command> cmds;
  caf::response_promise promise;
  reply shape = reply::single;
  /// Bytes of the arguments: what the job holds in memory.
  uint64_t bytes = 0;
};

uint64_t bytes_of(const std::vector<redis_command>& cmds) {
  uint64_t n = 0;
  for (const auto& c : cmds)
    for (const auto& a : c.argv)
      n += a.size();
  return n;
}

struct producer_state {
  producer_options opts;
  connection_ref shared_conn; // through its link (actors/connection_ref.hpp)
  uint32_t in_flight = 0;
  /// Bytes of the jobs in flight and queued (bounded by opts.max_bytes).
  uint64_t bytes = 0;
  std::deque<job> queue;

  static inline const char* name = "rill.producer";
};

using producer_ptr = caf::stateful_actor<producer_state>*;

caf::expected<redis_command> make_xadd(const producer_options& opts, const std::string& stream,
                                       field_list fields, const std::string& id = "*") {
  if (fields.empty() || fields.size() % 2 != 0)
    return make_error(sec::invalid_argument,
                      "XADD needs a non-empty, even list of field names and values");
  redis_command cmd;
  cmd.argv.reserve(fields.size() + 6);
  cmd.arg("XADD").arg(stream);
  if (opts.maxlen > 0)
    cmd.arg("MAXLEN").arg("~").arg(std::to_string(opts.maxlen));
  cmd.arg(id);
  for (auto& f : fields)
    cmd.argv.emplace_back(std::move(f));
  return cmd;
}

void start(producer_ptr self, job j);

void next(producer_ptr self, uint64_t bytes) {
  auto& st = self->state;
  --st.in_flight;
  st.bytes -= bytes;
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
  auto shape = j.shape;
  auto bytes = j.bytes;
  // No CAF timer per request: the connection fails a request whose deadline
  // passed (a timer would wake CAF's clock thread twice per XADD batch).
  ask(self, st.shared_conn, caf::infinite, std::move(j.cmds))
    .then(
      [self, rp, shape, bytes](std::vector<redis_reply>& replies) mutable {
        if (shape == job::reply::results) {
          xadd_results out;
          for (auto& r : replies) {
            out.ids.emplace_back(r.is_error() ? std::string{} : std::move(r.str));
            out.errors.emplace_back(r.is_error() ? std::move(r.str) : std::string{});
          }
          rp.deliver(std::move(out));
          next(self, bytes);
          return;
        }
        std::vector<std::string> ids;
        ids.reserve(replies.size());
        size_t failed = 0;
        std::string first_error;
        for (auto& r : replies) {
          if (r.is_error()) {
            if (failed++ == 0)
              first_error = r.str;
            continue;
          }
          ids.emplace_back(std::move(r.str));
        }
        if (failed > 0)
          rp.deliver(make_error(sec::reply_error, "XADD failed for " + std::to_string(failed)
                                                    + " of " + std::to_string(replies.size())
                                                    + " entries: " + first_error));
        else if (shape == job::reply::single)
          rp.deliver(std::move(ids.front()));
        else
          rp.deliver(std::move(ids));
        next(self, bytes);
      },
      [self, rp, bytes](caf::error& err) mutable {
        rp.deliver(std::move(err));
        next(self, bytes);
      });
}

void submit(producer_ptr self, job j) {
  auto& st = self->state;
  j.bytes = bytes_of(j.cmds);
  // Memory is bounded in bytes as well as in requests (4 MB payloads in
  // batches of 200 took 1.78 GB); a request larger than the bound still goes
  // alone.
  bool fits = st.bytes + j.bytes <= st.opts.max_bytes || st.bytes == 0;
  if (fits && st.in_flight < st.opts.max_in_flight) {
    st.bytes += j.bytes;
    start(self, std::move(j));
  } else if (fits && st.queue.size() < st.opts.max_queued) {
    st.bytes += j.bytes;
    st.queue.emplace_back(std::move(j));
  } else {
    j.promise.deliver(make_error(
      sec::backpressure, "producer holds " + std::to_string(st.queue.size()) + " requests and "
                           + std::to_string(st.bytes) + " bytes; slow down (not sent)"));
  }
}

caf::behavior producer(producer_ptr self, producer_options opts, connection_actor shared_conn) {
  auto& st = self->state;
  st.opts = opts;
  st.shared_conn = connection_ref{std::move(shared_conn)};
  return {
    [self](xadd_atom, const std::string& stream, field_list& fields) -> caf::result<std::string> {
      auto rp = self->make_response_promise();
      auto cmd = make_xadd(self->state.opts, stream, std::move(fields));
      if (!cmd) {
        rp.deliver(cmd.error());
      } else {
        job j{{}, rp, job::reply::single};
        j.cmds.emplace_back(std::move(*cmd));
        submit(self, std::move(j));
      }
      return caf::delegated<std::string>{};
    },
    [self](xadd_atom, const std::string& stream,
           std::vector<field_list>& batch) -> caf::result<std::vector<std::string>> {
      auto rp = self->make_response_promise();
      job j{{}, rp, job::reply::ids};
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
    [self](xadd_atom, const std::string& stream, std::vector<std::string>& ids,
           std::vector<field_list>& batch) -> caf::result<xadd_results> {
      auto rp = self->make_response_promise();
      if (ids.size() != batch.size()) {
        rp.deliver(make_error(sec::invalid_argument, "one ID per entry"));
        return caf::delegated<xadd_results>{};
      }
      job j{{}, rp, job::reply::results};
      j.cmds.reserve(batch.size());
      for (size_t i = 0; i < batch.size(); ++i) {
        auto cmd = make_xadd(self->state.opts, stream, std::move(batch[i]), ids[i]);
        if (!cmd) {
          rp.deliver(cmd.error());
          return caf::delegated<xadd_results>{};
        }
        j.cmds.emplace_back(std::move(*cmd));
      }
      if (j.cmds.empty())
        rp.deliver(xadd_results{});
      else
        submit(self, std::move(j));
      return caf::delegated<xadd_results>{};
    },
  };
}

} // namespace

producer_actor spawn_producer(caf::actor_system& sys, producer_options opts,
                              connection_actor shared_conn) {
  return caf::actor_cast<producer_actor>(
    sys.spawn(producer, std::move(opts), std::move(shared_conn)));
}

} // namespace rill
