#pragma once

#include <rill/actors/effects.hpp>
#include <rill/actors/interfaces.hpp>
#include <rill/actors/stream_entry.hpp>

#include <caf/actor.hpp>
#include <caf/error.hpp>
#include <caf/fwd.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

namespace rill {

/// Finishes one asynchronous callback. Call it exactly once, from any thread:
/// `done()` for success, `done(err)` to fail the entry (it is nacked, not
/// acked). Later calls are ignored.
class completion {
public:
  completion(caf::actor worker, uint64_t seq);

  void operator()(caf::error err = caf::error{}) const;

  /// Completes after `delay` without holding a thread (a timer message to
  /// the worker): for callbacks that wait, and for simulating work.
  void after(caf::timespan delay, caf::error err = caf::error{}) const;

private:
  caf::actor worker_;
  uint64_t seq_;
  std::shared_ptr<std::atomic<bool>> fired_;
};

/// What an asynchronous callback receives besides the entry: the worker actor
/// running it (to make requests with `self->request(...).then(...)`), the
/// completion to call when its work is done, the runtime's shared Redis
/// connection, and its producer (XADD without blocking). The worker stays
/// busy, without blocking a thread, until `done` is called. A Redis error
/// reply to one command arrives as the request's `caf::error`; in the replies
/// to a pipelined batch (`std::vector<redis_command>`) each failed command is
/// an error reply, and `error_from_reply(reply.str)` turns it into the same
/// `caf::error` (same code, same text) the single command fails with.
///
///     ctx.self->request(ctx.shared_conn, 5s, cmd)
///       .then([done = ctx.done](rill::redis_reply&) { done(); },
///             [done = ctx.done](caf::error& err) { done(std::move(err)); });
///
///     ctx.self->request(ctx.producer, 5s, rill::xadd_atom::value, "out", fields)
///       .then([done = ctx.done](std::string& id) { done(); },
///             [done = ctx.done](caf::error& err) { done(std::move(err)); });
///
/// `ctx.effects()` stages Redis writes that are applied only after the entry's
/// last callback succeeded, atomically with its XACK (docs/exactly-once.md).
struct async_context {
  caf::event_based_actor* self;
  completion done;
  connection_actor shared_conn;
  producer_actor producer;
  /// The current entry's staged effects (a late stage, after `done`, lands
  /// in a copy nobody applies).
  std::shared_ptr<rill::effects> staged;

  rill::effects& effects() const { return *staged; }
};

/// A synchronous callback: returns an error to fail the entry (a thrown
/// exception fails it too).
using sync_callback = std::function<caf::error(const stream_entry&)>;

/// A synchronous callback that stages Redis effects (see `rill::effects`).
using effect_callback = std::function<caf::error(const stream_entry&, effects&)>;

/// An asynchronous callback: starts work and calls `ctx.done` later.
using async_callback = std::function<void(const stream_entry&, async_context ctx)>;

/// The callbacks of one consumer, run for every entry in registration order;
/// the entry is acked only after the last one succeeded.
class callback_list {
public:
  struct callback {
    sync_callback sync; // exactly one of sync / async / staging is set
    async_callback async;
    effect_callback staging;
  };

  /// Appends a synchronous callback; `fn` takes `(const stream_entry&)` or
  /// `(const stream_entry&, rill::effects&)` and returns `caf::error` or `void`.
  template <class F>
  callback_list& add(F fn) {
    if constexpr (std::is_invocable_v<F&, const stream_entry&, effects&>) {
      if constexpr (std::is_void_v<std::invoke_result_t<F&, const stream_entry&, effects&>>)
        list_.push_back(
          {nullptr, nullptr, [fn = std::move(fn)](const stream_entry& e, effects& fx) mutable {
             fn(e, fx);
             return caf::error{};
           }});
      else
        list_.push_back({nullptr, nullptr, effect_callback{std::move(fn)}});
    } else if constexpr (std::is_void_v<std::invoke_result_t<F&, const stream_entry&>>)
      list_.push_back({[fn = std::move(fn)](const stream_entry& e) mutable {
                         fn(e);
                         return caf::error{};
                       },
                       nullptr, nullptr});
    else
      list_.push_back({sync_callback{std::move(fn)}, nullptr, nullptr});
    return *this;
  }

  /// Appends an asynchronous callback.
  callback_list& add_async(async_callback fn) {
    list_.push_back({nullptr, std::move(fn), nullptr});
    return *this;
  }

  /// Appends a prepared callback (e.g. one from a `callback_registry`).
  callback_list& append(callback cb) {
    list_.push_back(std::move(cb));
    return *this;
  }

  size_t size() const noexcept { return list_.size(); }
  bool empty() const noexcept { return list_.empty(); }
  const callback& operator[](size_t i) const { return list_[i]; }

private:
  std::vector<callback> list_;
};

} // namespace rill
