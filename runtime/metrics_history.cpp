#include <rill/runtime/metrics_history.hpp>

#include <rill/runtime/json_text.hpp>
#include <rill/runtime/runtime.hpp>

namespace rill {

void metrics_history::sample(const runtime& rt, int64_t unix_ms) {
  const auto& consumers = rt.consumers();
  if (all_.size() != consumers.size()) {
    all_.clear();
    for (const auto& c : consumers) {
      series x;
      x.stream = c->options().stream;
      x.group = c->options().group;
      x.consumer = c->metrics().consumer_name;
      all_.push_back(std::move(x));
    }
  }
  for (size_t i = 0; i < consumers.size(); ++i) {
    const auto& m = consumers[i]->metrics();
    auto& s = all_[i];
    auto push = [this](std::deque<int64_t>& q, int64_t v) {
      q.push_back(v);
      if (q.size() > capacity_)
        q.pop_front();
    };
    push(s.t, unix_ms);
    push(s.acked, static_cast<int64_t>(m.acked.load()));
    push(s.delivered, static_cast<int64_t>(m.delivered.load()));
    push(s.lag, m.group.lag.load());
    push(s.pending, m.group.pending.load());
    push(s.in_flight, m.in_flight.load());
    push(s.idle_workers, m.idle_workers.load());
  }
}

std::string metrics_history::json(int64_t interval_ms) const {
  nlohmann::ordered_json out;
  out["interval_ms"] = interval_ms;
  auto list = nlohmann::ordered_json::array();
  for (const auto& s : all_) {
    nlohmann::ordered_json c;
    put_bytes(c, "stream", s.stream);
    put_bytes(c, "group", s.group);
    put_bytes(c, "consumer", s.consumer);
    c["t"] = s.t;
    c["acked"] = s.acked;
    c["delivered"] = s.delivered;
    c["lag"] = s.lag;
    c["pending"] = s.pending;
    c["in_flight"] = s.in_flight;
    c["idle_workers"] = s.idle_workers;
    list.push_back(std::move(c));
  }
  out["consumers"] = std::move(list);
  return json_line(out);
}

} // namespace rill
