#pragma once

// rill's actor scheduler: CAF's work-stealing scheduler, minus the logger's
// per-job bookkeeping.

#include <caf/actor_system_config.hpp>

namespace rill {

/// Makes `cfg`'s actor system run on rill's scheduler: CAF 0.17's
/// work-stealing coordinator (same threads, queues, polling and settings:
/// `scheduler.max-threads`, `work-stealing.*`), whose worker loop does not tag
/// each job with its actor id for CAF's logger. CAF does that even when built
/// without logging (Debian's libcaf is CAF_LOG_LEVEL_QUIET): a `dynamic_cast`
/// and two lookups in a locked hash map per job, ~13% of a busy rill process
/// (see docs/benchmarks.md). Call before the actor system is constructed.
/// Unit tests keep CAF's deterministic test coordinator (they do not call this),
/// and `scheduler.policy` other than "stealing" keeps CAF's scheduler.
void use_rill_scheduler(caf::actor_system_config& cfg);

} // namespace rill
