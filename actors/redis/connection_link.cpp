#include <rill/actors/redis/connection_link.hpp>

#include <rill/actors/error.hpp>
#include <rill/actors/messages.hpp>

#include <caf/actor_cast.hpp>
#include <caf/mailbox_element.hpp>
#include <caf/send.hpp>

#include <map>
#include <sys/socket.h>

namespace rill {

namespace {

using namespace std::chrono_literals;

/// Connection actors of this process and their links. A side table rather
/// than a message: a requester must know at once, before its first request,
/// which way its requests go, or a request through the mailbox could be
/// overtaken on the wire by a later one through the link.
struct link_registry {
  std::mutex mutex;
  std::map<caf::actor_addr, std::weak_ptr<connection_link>> links;
};

link_registry& registry() {
  static link_registry instance;
  return instance;
}

} // namespace

void reply_target::deliver(connection_core::answer&& result) {
  if (!requester) {
    if (promise.pending())
      std::visit([&](auto& x) { promise.deliver(std::move(x)); }, result);
    return;
  }
  std::visit(
    [&](auto& x) {
      requester->enqueue(caf::make_mailbox_element(nullptr, id.response_id(), {}, std::move(x)),
                         nullptr);
    },
    result);
}

std::shared_ptr<connection_link> connection_link::find(const connection_actor& conn) {
  if (!conn)
    return nullptr;
  auto& r = registry();
  std::lock_guard<std::mutex> guard{r.mutex};
  auto i = r.links.find(caf::actor_cast<caf::actor_addr>(conn));
  return i == r.links.end() ? nullptr : i->second.lock();
}

void connection_link::enlist(const caf::actor_addr& conn,
                             const std::shared_ptr<connection_link>& link) {
  auto& r = registry();
  std::lock_guard<std::mutex> guard{r.mutex};
  r.links[conn] = link;
}

void connection_link::forget(const caf::actor_addr& conn) {
  auto& r = registry();
  std::lock_guard<std::mutex> guard{r.mutex};
  r.links.erase(conn);
}

template <class Request>
void connection_link::submit_impl(const Request& req, caf::strong_actor_ptr requester,
                                  caf::message_id id) {
  reply_target target{{}, std::move(requester), id};
  lock_type guard{mutex};
  if (stopped) {
    target.deliver(make_error(sec::stopped, "connection actor stopped"));
    return;
  }
  if (!core) { // the broker has not started yet
    early.emplace_back(req, std::move(target));
    return;
  }
  if (auto err = core->refuse(req)) {
    target.deliver(std::move(err));
    return;
  }
  targets.emplace_back(std::move(target));
  core->submit(req, connection_core::clock_type::now());
  send_out();
  // A full socket buffer, or the scribe still writing: only the broker may
  // touch the scribe, so it gets the rest (rare: requests are small).
  if (!out.empty() && !flush_posted) {
    flush_posted = true;
    caf::anon_send(caf::actor_cast<caf::actor>(broker), flush_atom::value);
  }
  arm_tick();
}

void connection_link::submit(const redis_command& cmd, caf::strong_actor_ptr requester,
                             caf::message_id id) {
  submit_impl(cmd, std::move(requester), id);
}

void connection_link::submit(const std::vector<redis_command>& cmds,
                             caf::strong_actor_ptr requester, caf::message_id id) {
  submit_impl(cmds, std::move(requester), id);
}

void connection_link::submit_early() {
  auto now = connection_core::clock_type::now();
  for (auto& [req, target] : early)
    std::visit(
      [&](const auto& r) {
        if (auto err = core->refuse(r)) {
          target.deliver(std::move(err));
          return;
        }
        targets.emplace_back(std::move(target));
        core->submit(r, now);
      },
      req);
  early.clear();
}

void connection_link::seal() {
  if (!tls || plain.empty())
    return;
  if (auto err = tls->write(plain, out); err && !tls_error)
    tls_error = std::move(err);
  plain.clear();
}

void connection_link::send_out() {
  seal();
  if (out.empty() || !ready || scribe_busy || flush_posted)
    return;
  auto n = ::send(fd, out.data(), out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  if (n <= 0)
    return; // the broker hands it to the scribe, which reports a broken socket
  out.erase(out.begin(), out.begin() + n);
}

void connection_link::arm_tick() {
  auto when = core->next_deadline();
  if (!when || (tick_armed && tick_at <= *when))
    return;
  auto receiver = caf::actor_cast<caf::strong_actor_ptr>(broker);
  if (!receiver) // the broker is going away: it fails what is pending
    return;
  tick_armed = true;
  tick_at = *when;
  auto at = std::max(*when, connection_core::clock_type::now() + 1ms);
  sys_.clock().schedule_message(
    at, std::move(receiver),
    caf::make_mailbox_element(nullptr, caf::make_message_id(), {}, tick_atom::value));
}

} // namespace rill
