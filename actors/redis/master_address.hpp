#pragma once

// The master's address in Sentinel mode (docs/sentinel.md): what the
// sentinels last said, shared by every connection of a process. The sentinel
// watcher (actors/sentinel_watcher.hpp) writes it and tells the enlisted
// connections when it changed; a connection reads it before each connect and
// sends the watcher `resolve_atom` when it lost the master.

#include <rill/actors/options.hpp>

#include <caf/actor_addr.hpp>

#include <mutex>
#include <optional>
#include <vector>

namespace rill {

class master_address {
public:
  /// What the sentinels said last (none before the first answer).
  std::optional<redis_endpoint> get() const;
  /// True when `ep` is new.
  bool set(const redis_endpoint& ep);

  /// The connections that follow the master (told by the watcher when it moved).
  void enlist(const caf::actor_addr& conn);
  void forget(const caf::actor_addr& conn);
  std::vector<caf::actor_addr> connections() const;

  /// The watcher; set before any connection is spawned.
  caf::actor_addr watcher;

private:
  mutable std::mutex mutex_;
  std::optional<redis_endpoint> current_;
  std::vector<caf::actor_addr> conns_;
};

} // namespace rill
