#pragma once

#include <rill/actors/callbacks.hpp>

#include <caf/expected.hpp>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace rill {

/// Callbacks registered by name on the node that runs them. A node's config
/// picks, per worker pool, which ones run and in which order
/// (`callbacks=parse,store`); a pool that names none runs all of them in
/// registration order.
///
///     rill::callback_registry cbs;
///     cbs.add("parse", [](const rill::stream_entry& e) { ... });
///     cbs.add_async("store", [](const rill::stream_entry& e, rill::async_context ctx) { ... });
///     return rill::node_main(argc, argv, cbs);
class callback_registry {
public:
  /// Registers a synchronous callback (see `callback_list::add`). A name is
  /// registered at most once (throws `std::invalid_argument` otherwise).
  template <class F>
  callback_registry& add(std::string name, F fn) {
    callback_list one;
    one.add(std::move(fn));
    return put(std::move(name), one[0]);
  }

  /// Registers an asynchronous callback (see `async_context`).
  callback_registry& add_async(std::string name, async_callback fn) {
    return put(std::move(name), callback_list::callback{nullptr, std::move(fn), nullptr});
  }

  /// The callbacks called `names`, in that order (all of them, in
  /// registration order, if `names` is empty). An unknown name is an
  /// `invalid_config` error that lists the registered ones.
  caf::expected<std::shared_ptr<callback_list>>
  make_list(const std::vector<std::string>& names) const;

  /// The registered names, in registration order.
  std::vector<std::string> names() const;

private:
  callback_registry& put(std::string name, callback_list::callback cb);

  std::vector<std::pair<std::string, callback_list::callback>> entries_;
};

} // namespace rill
