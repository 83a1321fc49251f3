#pragma once

// How an actor holds a Redis connection it sends requests to on its hot
// path: the connection actor, and its link (actors/redis/connection_link.hpp)
// when it is a connection of this process. `ask` sends through the link -
// encoded and written on the requester's own thread, no wake-up of the I/O
// thread - and otherwise as a normal request to the actor (a scripted
// connection in the unit tests). Either way the answer arrives as the
// response to a request, so `.then(on_reply, on_error)` reads the same as
// after `self->request(...)`.

#include <rill/actors/interfaces.hpp>
#include <rill/actors/redis/connection_link.hpp>

#include <caf/behavior.hpp>
#include <caf/duration.hpp>
#include <caf/message_priority.hpp>

#include <memory>
#include <utility>

namespace rill {

struct connection_ref {
  connection_actor actor;
  std::shared_ptr<connection_link> link;

  connection_ref() = default;
  explicit connection_ref(connection_actor conn) :
    actor(std::move(conn)), link(connection_link::find(actor)) {}

  explicit operator bool() const noexcept { return static_cast<bool>(actor); }
};

/// One request to a connection_ref, sent by `then`.
template <class Self, class Request>
class redis_request {
public:
  redis_request(Self* self, const connection_ref& conn, caf::duration timeout, Request req) :
    self_(self), conn_(conn), timeout_(timeout), req_(std::move(req)) {}

  template <class OnReply, class OnError>
  void then(OnReply on_reply, OnError on_error) {
    if (!conn_.link) {
      self_->request(conn_.actor, timeout_, std::move(req_))
        .then(std::move(on_reply), std::move(on_error));
      return;
    }
    // What self->request does, with the link in place of the mailbox.
    auto id = self_->new_request_id(caf::message_priority::normal);
    self_->request_response_timeout(timeout_, id);
    self_->add_multiplexed_response_handler(
      id.response_id(), caf::behavior{std::move(on_reply), std::move(on_error)});
    conn_.link->submit(req_, caf::strong_actor_ptr{self_->ctrl()}, id);
  }

private:
  Self* self_;
  const connection_ref& conn_;
  caf::duration timeout_;
  Request req_;
};

/// `ask(self, conn, timeout, command).then(on_reply, on_error)`; `timeout`
/// may be `caf::infinite` (the connection bounds every request itself).
template <class Self, class Timeout, class Request>
redis_request<Self, Request> ask(Self* self, const connection_ref& conn, Timeout timeout,
                                 Request req) {
  return {self, conn, caf::duration{timeout}, std::move(req)};
}

} // namespace rill
