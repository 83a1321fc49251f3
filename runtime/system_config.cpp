#include <rill/runtime/system_config.hpp>

#include <caf/config.hpp>

namespace rill {

// The list below is every public member of CAF 0.17.6's actor_system_config
// that the actor system or its modules read; another CAF version may add one.
static_assert(CAF_VERSION == 1706, "compare copy_for_system with this CAF's actor_system_config");

std::unique_ptr<caf::actor_system_config> copy_for_system(const caf::actor_system_config& from) {
  auto to = std::make_unique<caf::actor_system_config>();
  to->content = from.content; // every `get_or(cfg, "scheduler.max-threads", ...)` reads here
  to->cli_helptext_printed = from.cli_helptext_printed;
  to->remainder = from.remainder;
  to->slave_mode = from.slave_mode;
  to->slave_name = from.slave_name;
  to->bootstrap_node = from.bootstrap_node;
  to->stream_desired_batch_complexity = from.stream_desired_batch_complexity;
  to->stream_max_batch_delay = from.stream_max_batch_delay;
  to->stream_credit_round_interval = from.stream_credit_round_interval;
  to->opencl_device_ids = from.opencl_device_ids;
  to->openssl_certificate = from.openssl_certificate;
  to->openssl_key = from.openssl_key;
  to->openssl_passphrase = from.openssl_passphrase;
  to->openssl_capath = from.openssl_capath;
  to->openssl_cafile = from.openssl_cafile;
  to->value_factories_by_name = from.value_factories_by_name;
  to->value_factories_by_rtti = from.value_factories_by_rtti;
  to->actor_factories = from.actor_factories;
  to->module_factories = from.module_factories;
  to->hook_factories = from.hook_factories;
  to->group_module_factories = from.group_module_factories;
  to->profiler = from.profiler;
  to->type_names_by_rtti = from.type_names_by_rtti;
  to->error_renderers = from.error_renderers;
  to->config_file_path = from.config_file_path;
  to->named_actor_configs = from.named_actor_configs;
  to->slave_mode_fun = from.slave_mode_fun;
  return to;
}

} // namespace rill
