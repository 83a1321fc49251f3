#include <rill/actors/messages.hpp>

#include <rill/actors/error.hpp>

namespace rill {

void register_message_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<redis_reply>("rill::redis_reply");
  cfg.add_message_type<redis_command>("rill::redis_command");
  cfg.add_message_type<stream_entry>("rill::stream_entry");
  cfg.add_message_type<delivery>("rill::delivery");
  cfg.add_message_type<ack_batch>("rill::ack_batch");
  cfg.add_message_type<delivery_batch>("rill::delivery_batch");
  cfg.add_message_type<xadd_results>("rill::xadd_results");
  cfg.add_message_type<effect>("rill::effect");
  cfg.add_message_type<std::vector<effect>>("std::vector<rill::effect>");
  // Errors of category "rill" print as "rill::sec::<name>: <context>".
  cfg.add_error_category(caf::atom("rill"),
                         [](uint8_t code, caf::atom_value, const caf::message& ctx) {
                           auto err = ctx.empty() ? make_error(static_cast<sec>(code))
                                                  : caf::error{code, caf::atom("rill"), ctx};
                           return describe(err);
                         });
}

} // namespace rill
