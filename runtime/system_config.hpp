#pragma once

#include <caf/actor_system_config.hpp>

#include <memory>

namespace rill {

/// The CAF config a runtime's actor system runs on: the runtime's own copy of
/// what the caller's config holds (parsed settings, modules, message types,
/// TLS files). CAF's actor system keeps a reference to its config for its
/// whole life, and the system writes into it (rill's scheduler is installed
/// there, the middleman adds a group module); with a copy the caller's config
/// stays untouched, need not outlive the runtime and can start several.
///
/// Not copied: thread hooks (`add_thread_hook` stores them move-only in a
/// protected member; rill adds none).
std::unique_ptr<caf::actor_system_config> copy_for_system(const caf::actor_system_config& from);

} // namespace rill
