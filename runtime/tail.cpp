#include <rill/runtime/tail.hpp>

#include <rill/actors/tail_subscriber.hpp>

#include <caf/send.hpp>

namespace rill {

tail::~tail() {
  stop();
}

tail& tail::subscribe(std::function<void(const stream_entry&)> on_entry, std::string from,
                      std::function<void(const std::string&)> on_gap) {
  subscribers_.push_back(spawn_tail_subscriber(
    sys_, tailer_, std::move(from), tail_callbacks{std::move(on_entry), std::move(on_gap)}));
  return *this;
}

void tail::stop() {
  for (auto& s : subscribers_)
    caf::anon_send_exit(s, caf::exit_reason::user_shutdown);
  subscribers_.clear();
  if (tailer_)
    caf::anon_send_exit(tailer_, caf::exit_reason::user_shutdown);
  tailer_ = nullptr;
}

} // namespace rill
