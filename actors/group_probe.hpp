#pragma once

#include <rill/actors/interfaces.hpp>
#include <rill/actors/metrics.hpp>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <memory>
#include <string>

namespace rill {

/// Spawns the group probe of one consumer. Every `interval` it asks Redis,
/// on `conn` (the runtime's shared connection: no connection is added), how
/// the group stands - one pipeline of XINFO STREAM, XINFO GROUPS and the
/// oldest XPENDING row, then one XRANGE for the first undelivered entry -
/// and stores lag, pending, entries read and the two ages in
/// `metrics->group`. So scrapes and probes read figures at most `interval`
/// old and never cost Redis a command. It quits when `reader` goes down.
caf::actor spawn_group_probe(caf::actor_system& sys, std::string stream, std::string group,
                             connection_actor conn, std::shared_ptr<consumer_metrics> metrics,
                             caf::timespan interval, caf::timespan timeout, caf::actor reader);

/// Entries the probe counts at most when Redis reports no lag (see
/// `derived_lag`): beyond this, lag reads as this bound.
constexpr uint64_t probe_count_bound = 1000;

} // namespace rill
