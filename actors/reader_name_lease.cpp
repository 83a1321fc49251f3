// The reader's name lease: one process at a time may consume as a given
// (stream, group, consumer name). Two processes with the same name each read
// the other's pending entries at start and both process almost everything
// twice (94,315 of 100,000 in a test), silently. The lease is a short-TTL
// key renewed while the reader lives (not the entries' leases); a process
// killed with SIGKILL leaves it behind, but its connection is gone, which a
// successor sees at once (CLIENT LIST ID), so a restart does not wait.

#include <rill/actors/error.hpp>
#include <rill/actors/reader_state.hpp>
#include <rill/actors/redis/stream_commands.hpp>

#include <spdlog/spdlog.h>

#include <random>

namespace rill::detail {

namespace {

std::string random_token() {
  std::random_device rd;
  std::mt19937_64 gen{(uint64_t{rd()} << 32) ^ rd()};
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(gen()));
  return buf;
}

/// The holder's client id from its lease value "<token> <client id> <run id>"
/// (or "<token> <client id>", as rill before the run id wrote it).
std::string holder_client(const std::string& value) {
  auto first = value.find(' ');
  if (first == std::string::npos)
    return {};
  auto second = value.find(' ', first + 1);
  return value.substr(first + 1,
                      second == std::string::npos ? std::string::npos : second - first - 1);
}

void refuse(reader_ptr self, const std::string& holder) {
  auto& st = self->state;
  auto text = "the consumer name '" + st.opts.consumer + "' of " + st.opts.stream + "/"
              + st.opts.group + " is in use by another process (its Redis client "
              + holder_client(holder)
              + " is connected); give each process its own --consumer / consumer.name";
  spdlog::error("consumer {}: {}", label(st), text);
  st.metrics->set_refused(text);
  self->quit();
}

/// The lease cannot be taken at all (e.g. an ACL user without write access
/// to the key): run, but say that a second process would go unnoticed.
void run_unchecked(reader_ptr self, const std::string& why) {
  auto& st = self->state;
  spdlog::warn("consumer {}: cannot lease the consumer name ({}); another process with the "
               "same name would go unnoticed",
               label(st), why);
  st.name_lease_off = true;
  st.name_leased = true;
  setup_group(self);
}

void retry_later(reader_ptr self, caf::timespan delay) {
  self->delayed_send(self, delay, lease_name_atom::value);
}

/// Another reader holds the lease: take it if its connection is gone,
/// refuse if it is alive, wait for the TTL if we cannot tell.
void on_holder(reader_ptr self, std::string holder) {
  auto& st = self->state;
  auto cid = holder_client(holder);
  auto wait = [self, holder] {
    auto& st = self->state;
    auto now = self->clock().now();
    if (st.name_wait_since == steady::time_point{})
      st.name_wait_since = now;
    if (now - st.name_wait_since > st.opts.name_lease + std::chrono::seconds{1}) {
      refuse(self, holder); // renewed all along: alive
      return;
    }
    retry_later(self, std::chrono::milliseconds{500});
  };
  if (cid.empty()) {
    wait();
    return;
  }
  // The holder's connection is on the stream's node (client IDs are per node).
  auto list = make_command({"CLIENT", "LIST", "ID", cid});
  list.route_key = st.opts.stream;
  ask(self, st.shared_conn, st.opts.request_timeout, std::move(list))
    .then(
      [self, holder, wait](redis_reply& reply) {
        if (reply.is_error()) {
          wait();
        } else if (reply.str.find("id=") == std::string::npos) {
          spdlog::info("consumer {}: the previous holder of this consumer name is gone; taking "
                       "over its name",
                       label(self->state));
          claim_name_lease(self, holder);
        } else {
          refuse(self, holder);
        }
      },
      // No CLIENT LIST for this ACL user: the TTL tells instead.
      [wait](caf::error&) { wait(); });
}

} // namespace

void claim_name_lease(reader_ptr self, std::string takeover) {
  auto& st = self->state;
  if (st.stopping)
    return;
  if (st.opts.name_lease.count() == 0 || st.name_lease_off) {
    st.name_leased = true; // nothing to hold: go on
    setup_group(self);
    return;
  }
  if (st.name_token.empty())
    st.name_token = random_token();
  auto key = name_lease_key(st.opts.stream, st.opts.group, st.opts.consumer);
  bool first = !st.name_leased;
  ask(self, st.shared_conn, st.opts.request_timeout,
      claim_name(key, st.name_token, st.conn_client_id, st.opts.name_lease, takeover))
    .then(
      [self, first](redis_reply& reply) {
        auto& st = self->state;
        if (reply.is_error()) { // e.g. NOPERM on the key: run without the check
          run_unchecked(self, reply.str);
          return;
        }
        if (reply.type != redis_reply::kind::integer) {
          if (first) {
            on_holder(self, std::move(reply.str));
          } else {
            // Our lease expired (we were frozen or cut off) and another
            // process has the name now: stop, it processes these entries.
            auto text = "another process took over the consumer name '" + st.opts.consumer
                        + "' (this one was unreachable for longer than consumer.name-lease); "
                          "stopping";
            spdlog::error("consumer {}: {}", label(st), text);
            st.metrics->set_refused(text);
            self->send(self, stop_atom::value);
          }
          return;
        }
        st.name_leased = true;
        st.name_wait_since = {};
        if (first) {
          self->delayed_send(self, st.opts.name_lease / 3, lease_name_atom::value);
          setup_group(self);
        }
      },
      [self, first](caf::error& err) {
        auto& st = self->state;
        if (code_of(err) == sec::no_permission) {
          run_unchecked(self, describe(err));
          return;
        }
        spdlog::debug("consumer {}: name lease: {}", label(st), describe(err));
        if (first)
          retry_later(self, st.retry.next());
      });
}

void renew_name_lease(reader_ptr self) {
  auto& st = self->state;
  if (st.stopping || st.name_lease_off)
    return;
  if (!st.name_leased) { // still trying to take it
    claim_name_lease(self);
    return;
  }
  claim_name_lease(self);
  self->delayed_send(self, st.opts.name_lease / 3, lease_name_atom::value);
}

void release_name_lease(reader_ptr self) {
  auto& st = self->state;
  if (!st.name_leased || st.name_lease_off || st.name_token.empty())
    return;
  // Fire and forget: the reply goes nowhere; the TTL covers a lost one.
  // Through the link like every request of the reader (reader_state.hpp).
  ask(self, st.shared_conn, st.opts.request_timeout,
      release_name(name_lease_key(st.opts.stream, st.opts.group, st.opts.consumer), st.name_token))
    .then([](redis_reply&) {}, [](caf::error&) {});
}

} // namespace rill::detail
