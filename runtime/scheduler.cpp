#include <rill/runtime/scheduler.hpp>

// CAF's logger macros must be replaced before the scheduler's templates are
// read, so this file includes the logger first and the scheduler after.
#include <caf/logger.hpp>

// The worker loop's `CAF_PUSH_AID_FROM_PTR(dynamic_cast<abstract_actor*>(job))`
// and every `CAF_SET_LOGGER_SYS` of its threads. With no logger set on a
// thread, the library's own per-resume tagging (in scheduled_actor::resume)
// is skipped too. Nothing is lost: with CAF_LOG_LEVEL_QUIET every CAF_LOG_*
// statement is compiled out, the actor ids were only ever read by them.
#undef CAF_PUSH_AID_FROM_PTR
#define CAF_PUSH_AID_FROM_PTR(ptr) static_cast<void>(0)
#undef CAF_SET_LOGGER_SYS
#define CAF_SET_LOGGER_SYS(ptr) static_cast<void>(0)

#include <caf/defaults.hpp>
#include <caf/policy/work_stealing.hpp>
#include <caf/scheduler/coordinator.hpp>

static_assert(CAF_LOG_LEVEL < CAF_LOG_LEVEL_ERROR,
              "CAF built with logging: keep its scheduler (it tags jobs for the log)");

namespace rill {

namespace {

/// A type of its own, so that coordinator<> and worker<> are instantiated here,
/// with the macros above, and never mixed up with the library's instances.
class rill_stealing final : public caf::policy::work_stealing {};

} // namespace

void use_rill_scheduler(caf::actor_system_config& cfg) {
  // Another policy asked for by name (`--scheduler.policy=sharing`) stays CAF's.
  if (caf::get_or(cfg, "scheduler.policy", caf::defaults::scheduler::policy)
      != caf::atom("stealing"))
    return;
  cfg.module_factories.push_back([](caf::actor_system& sys) -> caf::actor_system::module* {
    return new caf::scheduler::coordinator<rill_stealing>(sys);
  });
}

} // namespace rill
