#include <rill/runtime/testing.hpp>

#include <rill/actors/error.hpp>
#include <rill/actors/interfaces.hpp>
#include <rill/actors/messages.hpp>
#include <rill/actors/worker.hpp>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>

namespace rill::testing {

namespace {

/// What the stubs share with the harness.
struct shared_state {
  callback_harness::script answer;
  std::vector<redis_command> commands;
  uint64_t next_id = 0;
  bool settled = false;
  outcome result;
};

caf::expected<redis_reply> answer(shared_state& st, const redis_command& cmd) {
  st.commands.push_back(cmd);
  if (!st.answer)
    return redis_reply::status("OK");
  return st.answer(cmd);
}

connection_actor::behavior_type scripted_connection(std::shared_ptr<shared_state> st) {
  return {
    [st](redis_command& cmd) -> caf::result<redis_reply> {
      auto r = answer(*st, cmd);
      if (!r)
        return std::move(r.error());
      return std::move(*r);
    },
    [st](std::vector<redis_command>& cmds) -> caf::result<std::vector<redis_reply>> {
      std::vector<redis_reply> out;
      for (auto& cmd : cmds) {
        auto r = answer(*st, cmd);
        out.push_back(r ? std::move(*r) : redis_reply::error(describe(r.error())));
      }
      return out;
    },
  };
}

/// Records the XADD and returns its ID: `id`, or the next one for "*".
std::string xadd(shared_state& st, const std::string& stream, const field_list& fields,
                 const std::string& id = "*") {
  redis_command cmd;
  cmd.argv = {"XADD", stream, id};
  cmd.argv.insert(cmd.argv.end(), fields.begin(), fields.end());
  st.commands.push_back(std::move(cmd));
  return id != "*" ? id : std::to_string(++st.next_id) + "-0";
}

producer_actor::behavior_type scripted_producer(std::shared_ptr<shared_state> st) {
  return {
    [st](xadd_atom, std::string& stream, field_list& fields) { return xadd(*st, stream, fields); },
    [st](xadd_atom, std::string& stream, std::vector<field_list>& batch) {
      std::vector<std::string> ids;
      for (auto& fields : batch)
        ids.push_back(xadd(*st, stream, fields));
      return ids;
    },
    [st](xadd_atom, std::string& stream, std::vector<std::string>& ids,
         std::vector<field_list>& batch) {
      xadd_results out;
      for (size_t i = 0; i < batch.size(); ++i) {
        out.ids.push_back(xadd(*st, stream, batch[i], i < ids.size() ? ids[i] : "*"));
        out.errors.emplace_back();
      }
      return out;
    },
  };
}

/// The reader as one worker sees it: takes the credit, records the outcome.
reader_actor::behavior_type recording_reader(std::shared_ptr<shared_state> st) {
  return {
    [](credit_atom) {},
    [](credit_atom, const caf::actor&) {},
    [st](ack_atom, uint32_t, const std::string&) {
      st->settled = true;
      st->result.acked = true;
    },
    [st](nack_atom, uint32_t, const stream_entry&, const caf::error& err) {
      st->settled = true;
      st->result.error = err;
    },
    [st](effects_atom, uint32_t, const stream_entry&, const std::vector<effect>& fx) {
      st->settled = true;
      st->result.acked = true;
      st->result.effects = fx;
    },
    [](const ack_batch&) {},
    [](withdraw_atom) { return drained_atom::value; },
  };
}

struct harness_config : caf::actor_system_config {
  harness_config() {
    set("scheduler.policy", caf::atom("testing"));
    register_message_types(*this);
  }
};

} // namespace

stream_entry entry(std::string id, std::vector<std::string> fields) {
  return stream_entry{std::move(id), std::move(fields)};
}

struct callback_harness::impl {
  harness_config cfg;
  caf::actor_system sys{cfg};
  caf::scheduler::test_coordinator& sched
    = dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
  caf::actor_clock::time_point start = sched.clock().now();
  std::shared_ptr<shared_state> st = std::make_shared<shared_state>();
  connection_actor conn = sys.spawn(scripted_connection, st);
  producer_actor producer = sys.spawn(scripted_producer, st);
  reader_actor reader = sys.spawn(recording_reader, st);
  caf::timespan callback_timeout;

  explicit impl(caf::timespan timeout) : callback_timeout(timeout) {}

  ~impl() {
    for (auto& a : {caf::actor_cast<caf::actor>(conn), caf::actor_cast<caf::actor>(producer),
                    caf::actor_cast<caf::actor>(reader)})
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    while (sched.try_run_once()) {
    }
  }
};

callback_harness::callback_harness(caf::timespan callback_timeout) :
  impl_(std::make_unique<impl>(callback_timeout)) {}

callback_harness::~callback_harness() = default;

void callback_harness::answer_with(script fn) {
  impl_->st->answer = std::move(fn);
}

const std::vector<redis_command>& callback_harness::commands() const {
  return impl_->st->commands;
}

caf::timespan callback_harness::elapsed() const {
  return impl_->sched.clock().now() - impl_->start;
}

outcome callback_harness::run(const callback_list& callbacks, stream_entry e, caf::timespan limit) {
  auto& d = *impl_;
  d.st->settled = false;
  d.st->result = outcome{};
  auto worker = spawn_worker(d.sys, d.reader, std::make_shared<callback_list>(callbacks), d.conn,
                             d.callback_timeout, false, caf::actor{}, d.producer);
  auto t0 = d.sched.clock().now();
  caf::anon_send(worker, delivery{0, std::move(e)});
  for (;;) {
    while (!d.st->settled && d.sched.try_run_once()) {
    }
    if (d.st->settled || !d.sched.has_pending_timeout())
      break;
    d.sched.trigger_timeout(); // moves virtual time to the next timer
    if (d.sched.clock().now() - t0 > limit)
      break;
  }
  auto out = d.st->settled ? d.st->result : outcome{};
  out.timed_out = !d.st->settled;
  out.took = d.sched.clock().now() - t0;
  caf::anon_send_exit(worker, caf::exit_reason::user_shutdown);
  while (d.sched.try_run_once()) {
  }
  return out;
}

} // namespace rill::testing
