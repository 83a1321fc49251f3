#include <rill/actors/callbacks.hpp>

#include <rill/actors/messages.hpp>

#include <caf/send.hpp>

namespace rill {

completion::completion(caf::actor worker, uint64_t seq) :
  worker_(std::move(worker)), seq_(seq), fired_(std::make_shared<std::atomic<bool>>(false)) {
  // nop
}

void completion::operator()(caf::error err) const {
  if (!fired_->exchange(true))
    caf::anon_send(worker_, done_atom::value, seq_, std::move(err));
}

void completion::after(caf::timespan delay, caf::error err) const {
  if (!fired_->exchange(true))
    caf::delayed_anon_send(worker_, delay, done_atom::value, seq_, std::move(err));
}

} // namespace rill
