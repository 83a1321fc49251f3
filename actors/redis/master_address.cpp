#include <rill/actors/redis/master_address.hpp>

#include <algorithm>

namespace rill {

std::optional<redis_endpoint> master_address::get() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return current_;
}

bool master_address::set(const redis_endpoint& ep) {
  std::lock_guard<std::mutex> guard{mutex_};
  if (current_ == ep)
    return false;
  current_ = ep;
  return true;
}

void master_address::enlist(const caf::actor_addr& conn) {
  std::lock_guard<std::mutex> guard{mutex_};
  conns_.push_back(conn);
}

void master_address::forget(const caf::actor_addr& conn) {
  std::lock_guard<std::mutex> guard{mutex_};
  conns_.erase(std::remove(conns_.begin(), conns_.end(), conn), conns_.end());
}

std::vector<caf::actor_addr> master_address::connections() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return conns_;
}

} // namespace rill
